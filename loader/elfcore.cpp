// The elfcorehdr: which memory the dump shows, and the ELF64 core header
// that says so. kexec-tools' crashdump-elf.c and Linux's own
// kernel/crash_core.c (crash_prepare_elf64_headers) build the same shape.
#include <charon/loader/elfcore.h>
#include <elf.h>

#include <algorithm>
#include <cstring>

namespace charon::loader {

std::vector<DumpRange> dump_ranges(const std::vector<MemRange>& map,
                                   const std::vector<MemRange>& crash, uint64_t backup_dst) {
  // The low 640 KiB as one range, whatever the firmware calls its pieces
  // (page 0, the EBDA's start): that is what the purgatory copies.
  std::vector<DumpRange> out = {{kBackupSrc, kBackupSrc + kBackupSize, backup_dst}};
  for (const MemRange& m : map) {
    if (m.type != E820Type::kRam || m.end <= kBackupSize) continue;
    std::vector<Range> holes;
    for (const MemRange& c : crash) holes.push_back({c.start, c.end});
    const auto pieces = subtract_ranges({{std::max(m.start, kBackupSize), m.end}}, holes);
    for (const Range& p : pieces) out.push_back({p.start, p.end, p.start});
  }
  return out;
}

uint64_t elfcorehdr_size(size_t notes, size_t loads) {
  return sizeof(Elf64_Ehdr) + (notes + loads) * sizeof(Elf64_Phdr);
}

Result<std::vector<uint8_t>> build_elfcorehdr(const CrashInfo& notes,
                                              const std::vector<DumpRange>& loads) {
  const size_t nnotes = notes.cpu_notes.size() + 1;
  const size_t phnum = nnotes + loads.size();
  // PN_XNUM (0xffff) would mean "the count is in section 0", which
  // fs/proc/vmcore.c does not read.
  if (phnum >= PN_XNUM)
    return fail("elfcorehdr: %zu program headers, more than e_phnum can hold", phnum);
  for (const DumpRange& r : loads)
    if (r.end <= r.start || r.read_from > UINT64_MAX - (r.end - r.start))
      return fail("elfcorehdr: empty or wrapping memory range 0x%llx-0x%llx",
                  static_cast<unsigned long long>(r.start), static_cast<unsigned long long>(r.end));
  for (const NoteRange& n : notes.cpu_notes)
    if (n.size == 0) return fail("elfcorehdr: a CPU's crash notes have size 0");
  if (notes.vmcoreinfo.size == 0) return fail("elfcorehdr: vmcoreinfo has size 0");

  std::vector<uint8_t> out(elfcorehdr_size(nnotes, loads.size()), 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(phnum);
  std::memcpy(out.data(), &eh, sizeof(eh));

  size_t at = sizeof(Elf64_Ehdr);
  auto put = [&](const Elf64_Phdr& ph) {
    std::memcpy(out.data() + at, &ph, sizeof(ph));
    at += sizeof(ph);
  };
  // Notes first, CPUs in order, then vmcoreinfo: the crash kernel merges
  // them into one PT_NOTE. p_offset is where it reads them (physical).
  auto note = [&](const NoteRange& n) {
    Elf64_Phdr ph{};
    ph.p_type = PT_NOTE;
    ph.p_offset = n.addr;
    ph.p_paddr = n.addr;
    ph.p_filesz = n.size;
    ph.p_memsz = n.size;
    put(ph);
  };
  for (const NoteRange& n : notes.cpu_notes) note(n);
  note(notes.vmcoreinfo);
  // p_vaddr stays 0: the direct map's base is randomised (KASLR) and only
  // /proc/kcore would tell it; dump readers translate with vmcoreinfo.
  for (const DumpRange& r : loads) {
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | PF_W | PF_X;
    ph.p_offset = r.read_from;
    ph.p_paddr = r.start;
    ph.p_filesz = r.end - r.start;
    ph.p_memsz = r.end - r.start;
    put(ph);
  }
  return out;
}

}  // namespace charon::loader
