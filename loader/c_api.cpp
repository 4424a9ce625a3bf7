// The C API over the C++ library: files in, kexec image out.
#include <charon/loader.h>
#include <charon/loader/image.h>
#include <charon/loader/kexec_sys.h>

#include <cstring>
#include <fstream>
#include <iterator>

using namespace charon;
using namespace charon::loader;

struct charon_image {
  KexecImage img;
  bool on_crash;
  std::string root;
};

namespace {

int set_err(char* err, size_t len, const std::string& msg) {
  if (err && len) {
    const size_t n = std::min(len - 1, msg.size());
    std::memcpy(err, msg.data(), n);
    err[n] = '\0';
  }
  return -1;
}

Result<std::vector<uint8_t>> slurp(const char* path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail("%s %s: cannot open", what, path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

extern "C" int charon_image_build(const charon_load_options* o, charon_image** out, char* err,
                                  size_t err_len) {
  if (!o || !out || !o->kernel_path || !o->purgatory_path)
    return set_err(err, err_len, "charon_image_build: kernel_path and purgatory_path are required");
  *out = nullptr;
  LoadRequest req;
  auto k = slurp(o->kernel_path, "kernel");
  if (!k) return set_err(err, err_len, k.error());
  req.kernel = std::move(*k);
  req.kernel_name = o->kernel_path;
  if (o->initrd_path) {
    auto i = slurp(o->initrd_path, "initrd");
    if (!i) return set_err(err, err_len, i.error());
    req.initrd = std::move(*i);
    req.initrd_name = o->initrd_path;
  }
  auto p = slurp(o->purgatory_path, "purgatory");
  if (!p) return set_err(err, err_len, p.error());
  req.purgatory = std::move(*p);
  req.purgatory_name = o->purgatory_path;
  req.cmdline = o->cmdline ? o->cmdline : "";
  req.mode = o->entry_32bit ? EntryMode::k32 : EntryMode::k64;
  req.on_crash = o->on_crash != 0;
  req.console.serial = o->console_serial != 0;
  if (o->serial_base) req.console.serial_base = o->serial_base;
  req.console.serial_baud = o->serial_baud;
  req.console.debugcon = o->console_debugcon != 0;
  const std::string root = o->sysroot ? o->sysroot : "";
  auto sys = read_system_info(root);
  if (!sys) return set_err(err, err_len, sys.error());
  auto img = build_kexec_image(req, *sys);
  if (!img) return set_err(err, err_len, img.error());
  *out = new charon_image{std::move(*img), req.on_crash, root};
  return 0;
}

extern "C" size_t charon_image_segment_count(const charon_image* img) {
  return img ? img->img.segments.size() : 0;
}

extern "C" int charon_image_segment(const charon_image* img, size_t i, charon_segment_info* out) {
  if (!img || !out || i >= img->img.segments.size()) return -1;
  const Segment& s = img->img.segments[i];
  *out = {s.mem, s.memsz, s.data.size(), s.data.data(), s.what.c_str()};
  return 0;
}

extern "C" uint64_t charon_image_entry(const charon_image* img) {
  return img ? img->img.entry : 0;
}

extern "C" const charon_params* charon_image_params(const charon_image* img) {
  return img ? &img->img.params : nullptr;
}

extern "C" int charon_image_load(const charon_image* img, char* err, size_t err_len) {
  if (!img) return set_err(err, err_len, "charon_image_load: no image");
  auto sys = make_linux_kexec_sys();
  auto st = kexec_load_image(*sys, img->img, img->on_crash, img->root);
  return st ? 0 : set_err(err, err_len, st.error());
}

extern "C" void charon_image_free(charon_image* img) {
  delete img;
}

extern "C" int charon_unload(int on_crash, char* err, size_t err_len) {
  auto sys = make_linux_kexec_sys();
  auto st = kexec_unload(*sys, on_crash != 0, "");
  return st ? 0 : set_err(err, err_len, st.error());
}

namespace {

std::vector<Range> ranges_of(const charon_region* ranges, size_t count) {
  std::vector<Range> rs;
  for (size_t i = 0; ranges && i < count; ++i)
    if (ranges[i].len && ranges[i].start <= UINT64_MAX - ranges[i].len)
      rs.push_back({ranges[i].start, ranges[i].start + ranges[i].len});
  return rs;
}

}  // namespace

extern "C" uint64_t charon_idmap_bytes_needed(const charon_region* ranges, size_t count) {
  return scratch_bytes_for({}, ranges_of(ranges, count));
}

extern "C" uint64_t charon_typed_idmap_bytes_needed(const charon_region* memory, size_t nmemory,
                                                    const charon_region* required,
                                                    size_t nrequired) {
  return scratch_bytes_for(ranges_of(memory, nmemory), ranges_of(required, nrequired));
}
