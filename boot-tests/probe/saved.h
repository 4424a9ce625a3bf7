// The machine state the probe's entry code records before it touches
// anything. entry.asm writes it through the offsets in saved.inc; the
// static_asserts below keep the two in step.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

#include "descriptor.h"

namespace probe {

struct Saved {
  charon_regs64 regs;  // 32-bit entry: low halves only; rip = the entry used
  uint64_t rflags, cr0, cr3, cr4, efer;
  uint16_t cs, ds, es, ss, fs, gs;
  uint16_t pad0[2];
  uint8_t gdtr[16];     // sgdt image: limit (2), then base (4 in 32-bit, 8 in 64-bit)
  uint8_t idtr[16];     // sidt image, same layout
  uint32_t entry_bits;  // 32 or 64: which entry the handoff reached
  uint32_t pad1;
  uint32_t stack[2];  // 32-bit entry: the dwords at [ESP] and [ESP + 4]
  // The 16-bit entry (entry16.asm) only:
  uint32_t rm_arith;      // 1: ES = CS - 1 read the stub's marker 16 bytes on
  uint32_t hook_called;   // the realmode_swtch hook returned (debug hooks)
  uint64_t hook_rflags;   // EFLAGS right after the hook returned
  uint32_t first32_kept;  // the code32_start hook kept ESI, EDI, EBP, EBX
  uint32_t pad2;
};

static_assert(offsetof(Saved, regs) + offsetof(charon_regs64, r15) == 0x78);
static_assert(offsetof(Saved, rflags) == 0x88);
static_assert(offsetof(Saved, cr0) == 0x90);
static_assert(offsetof(Saved, cr3) == 0x98);
static_assert(offsetof(Saved, cr4) == 0xa0);
static_assert(offsetof(Saved, efer) == 0xa8);
static_assert(offsetof(Saved, cs) == 0xb0);
static_assert(offsetof(Saved, gs) == 0xba);
static_assert(offsetof(Saved, gdtr) == 0xc0);
static_assert(offsetof(Saved, idtr) == 0xd0);
static_assert(offsetof(Saved, entry_bits) == 0xe0);
static_assert(offsetof(Saved, stack) == 0xe8);
static_assert(offsetof(Saved, rm_arith) == 0xf0);
static_assert(offsetof(Saved, hook_called) == 0xf4);
static_assert(offsetof(Saved, hook_rflags) == 0xf8);
static_assert(offsetof(Saved, first32_kept) == 0x100);
static_assert(sizeof(Saved) == 0x108);
static_assert(kRmStubAddr == 0x8000 && kRmCsBias == 0x100);  // saved.inc's RM_STUB_ADDR, RM_CS_BIAS
static_assert(sizeof(RmStubHeader) == 0x0c);                 // saved.inc's RM_HDR_ENTRY

}  // namespace probe
