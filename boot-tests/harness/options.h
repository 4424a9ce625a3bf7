// The harness's options, from the multiboot command line
// (`-append "case=NAME entry=pm32 kind=linux64 purg=0x800000 ..."`).
#pragma once
#include <charon/handoff.h>
#include <stdint.h>

namespace harness {

// The state the purgatory is entered from (see README, "Protocol tests").
enum class Entry {
  Pm32,          // 32-bit protected mode, paging off, garbage GPRs, DF=1
  Pm32Xen,       // like Pm32, but EAX = 0 and the entry in EBP (Xen's EM_386 kexec)
  Lm64Ident,     // 64-bit on the harness's 4-level identity map
  Lm64PurgOnly,  // 64-bit on tables mapping only the purgatory and the switch stub
  Lm64La57,      // 64-bit on 5-level tables
  Lm64Hostile,   // 64-bit, IF=1, DF=1, PGE|PCIDE|SMEP|SMAP, garbage IDTR/GDTR/RSP
  No1g,          // like Lm64Ident, on a CPU without 1 GiB pages
  Direct,        // probe self-test: no purgatory, the harness hands off itself
  Reloc64,       // through the relocation trampoline's 64-bit entry (reloc.cpp)
  Reloc32,       // through its 32-bit entry, paging off
};

// A deliberately wrong reference handoff (Direct only): proves the probe
// fails. NoZero (Reloc only): the list copies a poisoned page where it
// should zero one, which the purgatory's digest must catch. NoBootParams:
// the parameter block names no boot_params for a Linux kind, which the
// purgatory must refuse. KexecTools: the block as kexec-tools --no-checks
// leaves it (generic64, skip_checks, no regions, boot_params only in
// entry64_regs.rsi); the purgatory must still map what the kernel needs.
// BootParamsUnhashed: no digest region covers boot_params, which the
// purgatory must then refuse to read.
// Reserved (Direct only): the harness's own tables, 2 MiB leaves over
// [0, 8 GiB), handed over in an e820=1 world, where they cover the
// reserved hole: the probe's typed-map item must fail.
enum class Break {
  None,
  Df,
  Rsi,
  Reg,
  Backup,
  Idmap,
  Cr4,
  Gb1,
  NoZero,
  NoBootParams,
  KexecTools,
  BootParamsUnhashed,
  Reserved
};

struct Options {
  char case_name[48] = "unnamed";
  Entry entry = Entry::Lm64Ident;
  // The ABI number, as the descriptor and the parameter block carry it.
  // parse_options accepts only the four names; code asks handoff().
  uint32_t kind = CHARON_HANDOFF_LINUX64;
  uint64_t purg = 0;  // purgatory.bin load address (not with Direct)
  int corrupt = -1;   // flip a byte in this region after the digest
  // 1: CHARON_F_FAULT_TEST (a #UD in purgatory_main); 32:
  // CHARON_F_FAULT_TEST32 (a #UD in the 32-bit entry, before long mode).
  uint32_t fault = 0;
  // After the digest is taken, boot_params' setup_data pointer becomes
  // this (0: left alone): a corruption the digest must catch before the
  // purgatory follows the pointer.
  uint64_t hostile_setup_data = 0;
  bool no_5level = false;  // the zero page's xloadflags lack XLF_5LEVEL
  bool efi = false;        // efi_info names fake EFI tables above 4 GiB (needs -m 6G)
  // The typed-map world: QEMU's memory map with a reserved hole
  // (descriptor.h) goes to the purgatory as params.memory and to the
  // payload as the zero page's e820 table.
  bool e820 = false;
  // purg is purgatory-linux.bin (the kernel flavour): the registers go
  // only into its kernel-order entry64_regs, right after the block.
  bool kabi = false;
  // One more digest region of this many MiB at kBigRegionAddr, so that the
  // purgatory hashes for seconds (under TCG): the window the runner's NMI
  // must hit.
  uint64_t big_mib = 0;
  // generic32 with kexec-tools' stack arguments: regs32.esp = the address
  // of the block's stack_arg32_2, both words set (not with Direct).
  bool stack_args = false;
  // Real mode (README, "The generic16 handoff"). low: QEMU put
  // purgatory.bin at purg; the harness copies it to probe::kLowPurgAddr,
  // below 1 MiB, after it wrote the low-memory pattern, and runs it there.
  // rm: kexec-tools' --real-mode, kind=generic32 with EIP = the
  // purgatory's entry16 (RealMode::Entry16) or entry16_debug (Debug).
  // hooks: the probe's stub calls the purgatory's realmode_swtch and
  // code32_start hooks (entry16_debug_pre32, _first32) as a Linux setup
  // code does (rm=debug only).
  bool low = false;
  enum class RealMode { None, Entry16, Debug } rm = RealMode::None;
  bool hooks = false;
  Break brk = Break::None;
  const char* error = nullptr;  // set when the line did not parse

  charon::HandoffKind handoff() const { return charon::handoff_kind(kind); }
  // The probe is entered in real mode: generic16, or generic32 at entry16.
  bool real_mode() const { return kind == CHARON_HANDOFF_GENERIC16 || rm != RealMode::None; }
};

Options parse_options(const char* cmdline);

}  // namespace harness
