// The elfcorehdr; see elfcore.h. The ELF structures are written field by
// field at the System V ABI's offsets, so the core needs no <elf.h>.
#include <charon/kimage/elfcore.h>
#include <charon/mem.h>

namespace charon::kimage {

namespace {

// [gABI]: 4 "ELF Header", 5 "Program Header"; x86_64 psABI for EM_X86_64.
constexpr uint16_t kEtCore = 4, kEmX86_64 = 62;
constexpr uint32_t kPtLoad = 1, kPtNote = 4;
constexpr uint32_t kPfRwx = 7;
constexpr uint16_t kPnXnum = 0xffff;
constexpr size_t kEhdr64 = 64, kPhdr64 = 56, kEhdr32 = 52, kPhdr32 = 32;
constexpr uint64_t k4G = uint64_t{1} << 32;

struct Writer {
  uint8_t* p;
  void u8(size_t off, uint8_t v) { p[off] = v; }
  void u16(size_t off, uint16_t v) { mem_copy(p + off, &v, 2); }
  void u32(size_t off, uint32_t v) { mem_copy(p + off, &v, 4); }
  void u64(size_t off, uint64_t v) { mem_copy(p + off, &v, 8); }
};

struct Phdr {
  uint32_t type;
  uint64_t offset, vaddr, paddr, size;
};

size_t phnum(const ElfCoreSpec& s) {
  return s.ncpu_notes + 1 + (s.text_size ? 1 : 0) + s.nloads;
}

void header(Writer w, bool elf32, size_t n) {
  const uint8_t ident[] = {0x7f,
                           'E',
                           'L',
                           'F',
                           static_cast<uint8_t>(elf32 ? 1 : 2) /* class */,
                           1 /* LSB */,
                           1 /* EV_CURRENT */,
                           0 /* System V */};
  mem_copy(w.p, ident, sizeof ident);
  w.u16(16, kEtCore);
  w.u16(18, kEmX86_64);
  w.u32(20, 1);  // e_version
  if (elf32) {
    w.u32(28, kEhdr32);  // e_phoff
    w.u16(40, kEhdr32);  // e_ehsize
    w.u16(42, kPhdr32);
    w.u16(44, static_cast<uint16_t>(n));
  } else {
    w.u64(32, kEhdr64);
    w.u16(52, kEhdr64);
    w.u16(54, kPhdr64);
    w.u16(56, static_cast<uint16_t>(n));
  }
}

void phdr(Writer w, bool elf32, size_t i, const Phdr& h) {
  const uint32_t flags = h.type == kPtLoad ? kPfRwx : 0;
  if (elf32) {
    const size_t o = kEhdr32 + i * kPhdr32;
    w.u32(o + 0, h.type);
    w.u32(o + 4, static_cast<uint32_t>(h.offset));
    w.u32(o + 8, static_cast<uint32_t>(h.vaddr));
    w.u32(o + 12, static_cast<uint32_t>(h.paddr));
    w.u32(o + 16, static_cast<uint32_t>(h.size));
    w.u32(o + 20, static_cast<uint32_t>(h.size));
    w.u32(o + 24, flags);
  } else {
    const size_t o = kEhdr64 + i * kPhdr64;
    w.u32(o + 0, h.type);
    w.u32(o + 4, flags);
    w.u64(o + 8, h.offset);
    w.u64(o + 16, h.vaddr);
    w.u64(o + 24, h.paddr);
    w.u64(o + 32, h.size);
    w.u64(o + 40, h.size);
  }
}

}  // namespace

uint64_t elfcorehdr_bytes(const ElfCoreSpec& s) {
  return s.elf32 ? kEhdr32 + phnum(s) * kPhdr32 : kEhdr64 + phnum(s) * kPhdr64;
}

Status build_elfcorehdr(const ElfCoreSpec& s, uint8_t* buf, size_t size) {
  const size_t n = phnum(s);
  // PN_XNUM would mean "the count is in section 0", which fs/proc/vmcore.c
  // does not read.
  if (n >= kPnXnum) return Status::kElfTooManyHeaders;
  if (elfcorehdr_bytes(s) > size) return Status::kElfTooManyHeaders;
  for (size_t i = 0; i < s.nloads; ++i) {
    const DumpRange& r = s.loads[i];
    if (r.end <= r.start || r.read_from > UINT64_MAX - (r.end - r.start)) return Status::kElfRange;
    if (s.elf32 && (r.end > k4G || r.read_from + (r.end - r.start) > k4G))
      return Status::kElf32Above4G;
  }
  for (size_t i = 0; i < s.ncpu_notes; ++i)
    if (s.cpu_notes[i].size == 0) return Status::kElfEmptyNote;
  if (s.vmcoreinfo.size == 0) return Status::kElfEmptyNote;
  if (s.elf32) {
    for (size_t i = 0; i < s.ncpu_notes; ++i)
      if (s.cpu_notes[i].addr + s.cpu_notes[i].size > k4G) return Status::kElf32Above4G;
    if (s.vmcoreinfo.addr + s.vmcoreinfo.size > k4G) return Status::kElf32Above4G;
  }

  mem_fill(buf, 0, elfcorehdr_bytes(s));
  const Writer w{buf};
  header(w, s.elf32, n);
  size_t i = 0;
  // Notes first, CPUs in order, then vmcoreinfo: the crash kernel merges
  // them into one PT_NOTE. p_offset is where it reads them (physical).
  for (size_t c = 0; c < s.ncpu_notes; ++c)
    phdr(w, s.elf32, i++,
         {kPtNote, s.cpu_notes[c].addr, 0, s.cpu_notes[c].addr, s.cpu_notes[c].size});
  phdr(w, s.elf32, i++, {kPtNote, s.vmcoreinfo.addr, 0, s.vmcoreinfo.addr, s.vmcoreinfo.size});
  // The kernel's text where it runs: dump tools (gdb, crash) find symbols
  // there, as in crash_prepare_elf64_headers' first PT_LOAD.
  if (s.text_size) {
    if (s.elf32 && s.text_paddr + s.text_size > k4G) return Status::kElf32Above4G;
    phdr(w, s.elf32, i++,
         {kPtLoad, s.text_paddr, s.elf32 ? 0 : s.text_vaddr, s.text_paddr, s.text_size});
  }
  // RAM at its direct-map address: makedumpfile takes page_offset from
  // these (its "(pt_load)"), so a KASLR-moved base is read right.
  for (size_t r = 0; r < s.nloads; ++r) {
    const DumpRange& d = s.loads[r];
    const uint64_t vaddr = (s.elf32 || !s.page_offset) ? 0 : s.page_offset + d.start;
    phdr(w, s.elf32, i++, {kPtLoad, d.read_from, vaddr, d.start, d.end - d.start});
  }
  return Status::kOk;
}

}  // namespace charon::kimage
