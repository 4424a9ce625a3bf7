// The machine state the probe's entry code records before it touches
// anything. entry.asm writes it through the offsets in saved.inc; the
// static_asserts below keep the two in step.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

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
static_assert(sizeof(Saved) == 0xf0);

}  // namespace probe
