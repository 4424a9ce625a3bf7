// The elfcorehdr: which memory the dump shows, and the ELF64 core header
// that says so. kexec-tools' crashdump-elf.c and Linux's own
// kernel/crash_core.c (crash_prepare_elf64_headers) build the same shape.
#include <charon/loader/elfcore.h>
#include <elf.h>

#include <algorithm>
#include <cstring>

namespace charon::loader {

std::vector<DumpRange> dump_ranges(const std::vector<MemRange>& map,
                                   const std::vector<MemRange>& crash, uint64_t backup_dst,
                                   const std::vector<MemRange>& nested) {
  // The low 640 KiB as one range, whatever the firmware calls its pieces
  // (page 0, the EBDA's start): that is what the purgatory copies.
  std::vector<DumpRange> out = {{kBackupSrc, kBackupSrc + kBackupSize, backup_dst}};
  std::vector<Range> ram;
  for (const MemRange& m : map)
    if (m.type == E820Type::kRam) ram.push_back({m.start, m.end});
  // System RAM nested in a top-level resource of another name, not already
  // inside top-level RAM.
  for (const MemRange& n : nested)
    for (const Range& r : subtract_ranges({{n.start, n.end}}, ram)) ram.push_back(r);
  std::sort(ram.begin(), ram.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  std::vector<Range> holes;
  for (const MemRange& c : crash) holes.push_back({c.start, c.end});
  for (const Range& m : ram) {
    if (m.end <= kBackupSize) continue;
    const auto pieces = subtract_ranges({{std::max(m.start, kBackupSize), m.end}}, holes);
    for (const Range& p : pieces) out.push_back({p.start, p.end, p.start});
  }
  return out;
}

kimage::ElfCoreSpec elfcore_spec(const CrashInfo& notes, const std::vector<DumpRange>& loads,
                                 bool elf32) {
  kimage::ElfCoreSpec s;
  s.cpu_notes = notes.cpu_notes.data();
  s.ncpu_notes = notes.cpu_notes.size();
  s.vmcoreinfo = notes.vmcoreinfo;
  s.loads = loads.data();
  s.nloads = loads.size();
  s.page_offset = notes.layout.page_offset;
  s.text_vaddr = notes.layout.text_vaddr;
  s.text_paddr = notes.layout.text_paddr;
  s.text_size = notes.layout.text_size;
  s.elf32 = elf32;
  return s;
}

Result<std::vector<uint8_t>> build_elfcorehdr(const CrashInfo& notes,
                                              const std::vector<DumpRange>& loads, bool elf32) {
  const kimage::ElfCoreSpec s = elfcore_spec(notes, loads, elf32);
  std::vector<uint8_t> out(kimage::elfcorehdr_bytes(s));
  if (kimage::Status st = kimage::build_elfcorehdr(s, out.data(), out.size());
      st != kimage::Status::kOk)
    return fail("%s", kimage::status_message(st));
  return out;
}

}  // namespace charon::loader
