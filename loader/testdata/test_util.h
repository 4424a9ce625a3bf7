// Helpers shared by the loader's unit tests: files, temporary sysroots,
// and memory maps.
#pragma once
#include <charon/loader/memmap.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace charon::loader::testing {

// The synthetic bzImages are the core's test data (common/kimage/testdata).
using charon::testing::BzSpec;
using charon::testing::make_bzimage;

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << text;
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// What a tool's main printed and returned.
struct ToolRun {
  int status;
  std::string out, err;
};

// Runs `main(argc, argv, out, err)` on `argv0` and `args`, capturing both
// streams: the CLI and the test tools' mains all take this shape.
template <class Main>
ToolRun run_tool(const char* argv0, std::vector<std::string> args, Main&& main) {
  args.insert(args.begin(), argv0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char *o = nullptr, *e = nullptr;
  size_t on = 0, en = 0;
  FILE* fo = open_memstream(&o, &on);
  FILE* fe = open_memstream(&e, &en);
  ToolRun r;
  r.status = main(static_cast<int>(args.size()), argv.data(), fo, fe);
  std::fclose(fo);
  std::fclose(fe);
  r.out.assign(o ? o : "", on);
  r.err.assign(e ? e : "", en);
  std::free(o);
  std::free(e);
  return r;
}

// An ELF64 ET_CORE header for x86_64 whose program headers follow it, as
// /proc/vmcore and /proc/kcore begin (e_phnum left for the caller).
inline Elf64_Ehdr core_header() {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  return eh;
}

// A fresh directory under the system temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "charon-loader-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// /proc/iomem text for a machine with `ram_below_4g` bytes of RAM from
// 1 MiB on (below the 3 GiB PCI hole) and `ram_above_4g` from 4 GiB on, as
// QEMU's pc machine lays out memory.
inline std::string qemu_iomem(uint64_t ram_below_4g, uint64_t ram_above_4g,
                              const std::string& crash = "") {
  char buf[256];
  std::string s =
      "00000000-00000fff : Reserved\n"
      "00001000-0009fbff : System RAM\n"
      "0009fc00-000fffff : Reserved\n"
      "  000f0000-000fffff : System ROM\n";
  std::snprintf(buf, sizeof(buf), "00100000-%08llx : System RAM\n",
                static_cast<unsigned long long>(0x100000 + ram_below_4g - 1));
  s += buf;
  s += "  01000000-01ffffff : Kernel code\n";
  s += crash;
  s += "c0000000-febfffff : PCI Bus 0000:00\n"
       "fec00000-fec003ff : IOAPIC 0\n"
       "feffc000-feffffff : Reserved\n";
  if (ram_above_4g) {
    std::snprintf(buf, sizeof(buf), "100000000-%llx : System RAM\n",
                  static_cast<unsigned long long>(0x100000000ull + ram_above_4g - 1));
    s += buf;
  }
  return s;
}

inline MemoryMap qemu_map(uint64_t below, uint64_t above, const std::string& crash = "") {
  auto m = parse_iomem(qemu_iomem(below, above, crash));
  EXPECT_TRUE(m.ok()) << m.error();
  return m.ok() ? *m : MemoryMap{};
}

// The sysfs files a crash load reads, as Linux 6.1 writes them: each
// CPU's crash_notes ("%llx\n") and crash_notes_size ("%zu\n"), and
// vmcoreinfo ("%pa %x\n"). CPU n's notes are at 0x3fc00000 + n * 0x1000.
inline void write_crash_sysfs(const std::filesystem::path& root, int cpus) {
  for (int n = 0; n < cpus; ++n) {
    const auto dir = root / "sys/devices/system/cpu" / ("cpu" + std::to_string(n));
    char addr[32];
    std::snprintf(addr, sizeof(addr), "%llx\n", 0x3fc00000ull + n * 0x1000ull);
    write_file(dir / "crash_notes", addr);
    write_file(dir / "crash_notes_size", "336\n");
  }
  write_file(root / "sys/kernel/vmcoreinfo", "0x000000000253a000 1024\n");
}

}  // namespace charon::loader::testing
