// The ELF core header ("elfcorehdr") a crash kernel turns into
// /proc/vmcore, shaped like the one the kernel's own kexec_file_load
// builds (kernel/crash_core.c, crash_prepare_elf64_headers) and
// kexec-tools' (kexec/crashdump-elf.c): one PT_NOTE per CPU's crash notes
// and one for vmcoreinfo; a PT_LOAD for the kernel's text at its
// randomized virtual address; one PT_LOAD per range of the old kernel's
// RAM whose p_vaddr is its direct-map address and whose p_offset is where
// the crash kernel reads it. Freestanding, into a caller's buffer.
#pragma once
#include <charon/kimage/status.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::kimage {

// A physical range holding ELF notes.
struct NoteRange {
  uint64_t addr;
  uint64_t size;
  friend bool operator==(const NoteRange&, const NoteRange&) = default;
};

// One PT_LOAD: the old kernel's memory [start, end), read at `read_from`.
struct DumpRange {
  uint64_t start, end;
  uint64_t read_from;  // == start, except for the backed-up low memory
  friend bool operator==(const DumpRange&, const DumpRange&) = default;
};

struct ElfCoreSpec {
  const NoteRange* cpu_notes = nullptr;
  size_t ncpu_notes = 0;
  NoteRange vmcoreinfo{};
  const DumpRange* loads = nullptr;
  size_t nloads = 0;
  // The direct map's base of the crashed kernel (KASLR moves it); 0 when
  // unknown, and then every RAM PT_LOAD's p_vaddr is 0.
  uint64_t page_offset = 0;
  // The kernel's text, _text to _end, at its virtual address and its
  // physical one (__pa_symbol(_text)); size 0: no such PT_LOAD.
  uint64_t text_vaddr = 0, text_paddr = 0, text_size = 0;
  // kexec-tools' --elf32-core-headers: ELFCLASS32, every address below
  // 4 GiB (virtual addresses do not fit, so p_vaddr is 0).
  bool elf32 = false;
};

// Bytes of the header for `s`.
uint64_t elfcorehdr_bytes(const ElfCoreSpec& s);

// Writes the header into `buf` (elfcorehdr_bytes() long). Refuses empty
// or wrapping ranges, notes of size 0, more program headers than e_phnum
// counts, and for ELF32 anything at or above 4 GiB.
Status build_elfcorehdr(const ElfCoreSpec& s, uint8_t* buf, size_t size);

}  // namespace charon::kimage
