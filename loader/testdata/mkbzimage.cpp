// mkbzimage OUT [field=value]...: writes a synthetic bzImage for the CLI
// tests (see synthetic_bzimage.h). Fields: version, setup_sects,
// relocatable, xloadflags, init_size, align, pref, payload, magic,
// loadflags, syssize, truncate (keep only the first N bytes).
#include <synthetic_bzimage.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  using namespace charon::testing;
  if (argc < 2) {
    std::fprintf(stderr, "usage: mkbzimage OUT [field=value]...\n");
    return 2;
  }
  BzSpec s;
  long long truncate = -1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "mkbzimage: '%s' is not field=value\n", argv[i]);
      return 2;
    }
    const std::string k = a.substr(0, eq);
    const unsigned long long v = std::strtoull(a.c_str() + eq + 1, nullptr, 0);
    if (k == "version")
      s.version = static_cast<uint16_t>(v);
    else if (k == "setup_sects")
      s.setup_sects = static_cast<uint8_t>(v);
    else if (k == "relocatable")
      s.relocatable = static_cast<uint8_t>(v);
    else if (k == "xloadflags")
      s.xloadflags = static_cast<uint16_t>(v);
    else if (k == "init_size")
      s.init_size = static_cast<uint32_t>(v);
    else if (k == "align")
      s.kernel_alignment = static_cast<uint32_t>(v);
    else if (k == "pref")
      s.pref_address = v;
    else if (k == "payload")
      s.payload_bytes = static_cast<uint32_t>(v);
    else if (k == "magic")
      s.magic = static_cast<uint32_t>(v);
    else if (k == "loadflags")
      s.loadflags = static_cast<uint8_t>(v);
    else if (k == "syssize")
      s.syssize_override = static_cast<int64_t>(v);
    else if (k == "truncate")
      truncate = static_cast<long long>(v);
    else {
      std::fprintf(stderr, "mkbzimage: unknown field '%s'\n", k.c_str());
      return 2;
    }
  }
  auto img = make_bzimage(s);
  if (truncate >= 0 && static_cast<size_t>(truncate) < img.size())
    img.resize(static_cast<size_t>(truncate));
  FILE* f = std::fopen(argv[1], "wb");
  if (!f || std::fwrite(img.data(), 1, img.size(), f) != img.size() || std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  return 0;
}
