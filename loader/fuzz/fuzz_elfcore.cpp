// libFuzzer: the crash load's inputs and the elfcorehdr built from them.
// The input is split at the first NUL: /proc/iomem text before it (memory
// map and "Crash kernel" lines), vmcoreinfo sysfs text after. Whatever the
// map, the dump's ranges must be sorted, disjoint, RAM, outside every
// crash reservation (but for the backed-up low 640 KiB), and the header
// exactly elfcorehdr_size() bytes.
#include <charon/loader/elfcore.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

using namespace charon::loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  CrashInfo notes{{{0x3fc00000, 336}}, {0x253a000, 0x1024}};
  if (nul != std::string_view::npos) {
    const std::string_view rest = all.substr(nul + 1);
    if (auto v = parse_vmcoreinfo(rest)) {
      if (v->size == 0) std::abort();
      notes.vmcoreinfo = *v;
    }
    (void)parse_hex(rest);
    (void)parse_dec(rest);
  }
  auto m = parse_iomem(all.substr(0, nul));
  if (!m) return 0;
  const auto loads = dump_ranges(m->ranges, m->crash_kernel, 0x20000000);
  if (loads.empty() || loads[0].start != 0 || loads[0].end != kBackupSize) std::abort();
  for (size_t i = 1; i < loads.size(); ++i) {
    const DumpRange& r = loads[i];
    if (r.end <= r.start || r.start < loads[i - 1].end || r.read_from != r.start) std::abort();
    for (const MemRange& c : m->crash_kernel)
      if (r.start < c.end && c.start < r.end) std::abort();
    bool in_ram = false;
    for (const MemRange& x : m->ranges)
      in_ram |= x.type == E820Type::kRam && x.start <= r.start && r.end <= x.end;
    if (!in_ram) std::abort();
  }
  auto hdr = build_elfcorehdr(notes, loads);
  if (hdr && hdr->size() != elfcorehdr_size(notes.cpu_notes.size() + 1, loads.size())) std::abort();
  if (!hdr && hdr.error().empty()) std::abort();
  return 0;
}
