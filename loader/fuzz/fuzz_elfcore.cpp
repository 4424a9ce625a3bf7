// libFuzzer: the crash load's inputs and the elfcorehdr the core builds
// from them. The input is split at the first NUL: /proc/iomem text before
// it (memory map, nested System RAM and "Crash kernel" lines), then
// vmcoreinfo sysfs text, whose bytes also pose as a /proc/kcore header.
// Whatever the map, the dump's ranges must be sorted, disjoint, RAM,
// outside every crash reservation (but for the backed-up low 640 KiB), and
// the header exactly elfcorehdr_bytes() long, in ELF64 and ELF32.
#include <charon/loader/elfcore.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

using namespace charon::loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  CrashInfo notes{{{0x3fc00000, 336}}, {0x253a000, 0x1024}, {}};
  if (nul != std::string_view::npos) {
    const std::string_view rest = all.substr(nul + 1);
    if (auto v = parse_vmcoreinfo(rest)) {
      if (v->size == 0) std::abort();
      notes.vmcoreinfo = *v;
    }
    (void)parse_hex(rest);
    (void)parse_dec(rest);
    notes.layout = layout_from_kcore(std::vector<uint8_t>(rest.begin(), rest.end()));
    if (notes.layout.page_offset && notes.layout.page_offset_from.empty()) std::abort();
  }
  auto m = parse_iomem(all.substr(0, nul));
  if (!m) return 0;
  const auto loads = dump_ranges(m->ranges, m->crash_kernel, 0x20000000, m->nested_ram);
  if (loads.empty() || loads[0].start != 0 || loads[0].end != kBackupSize) std::abort();
  for (size_t i = 1; i < loads.size(); ++i) {
    const DumpRange& r = loads[i];
    if (r.end <= r.start || r.start < loads[i - 1].end || r.read_from != r.start) std::abort();
    for (const MemRange& c : m->crash_kernel)
      if (r.start < c.end && c.start < r.end) std::abort();
    bool in_ram = false;
    for (const MemRange& x : m->ranges)
      in_ram |= x.type == E820Type::kRam && x.start <= r.start && r.end <= x.end;
    for (const MemRange& x : m->nested_ram) in_ram |= x.start <= r.start && r.end <= x.end;
    if (!in_ram) std::abort();
  }
  for (bool elf32 : {false, true}) {
    auto hdr = build_elfcorehdr(notes, loads, elf32);
    if (hdr && hdr->size() != charon::kimage::elfcorehdr_bytes(elfcore_spec(notes, loads, elf32)))
      std::abort();
    if (!hdr && hdr.error().empty()) std::abort();
  }
  return 0;
}
