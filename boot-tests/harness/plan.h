// How the harness enters its target (the purgatory, or the probe directly
// for the probe's self-test). C++ fills `entry_plan`; enter.asm reads it by
// absolute address, because the transit runs with paging off and without
// a usable stack. enter.inc mirrors the offsets; the asserts pin them.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace harness {

enum class Mode : uint32_t {
  Pm32 = 0,      // 32-bit protected mode, paging off, garbage GPRs
  Lm64 = 1,      // 64-bit; CR3 switched to target_cr3 by the stub page
  Direct32 = 2,  // self-test: a reference 32-bit handoff straight to the probe
  Direct64 = 3,  // self-test: a reference 64-bit handoff straight to the probe
};

// Extra hostility at the jump (Lm64 and Pm32 only, except SetDf).
inline constexpr uint32_t kSetDf = 1u << 0;
inline constexpr uint32_t kSetIf = 1u << 1;
inline constexpr uint32_t kGarbageIdtr = 1u << 2;
inline constexpr uint32_t kGarbageGdtr = 1u << 3;
inline constexpr uint32_t kSetWp = 1u << 4;  // CR0.WP: read-only pages bind CPL 0 too
// Pm32: EAX = 0 and the entry address in EBP, as Xen's kexec_reloc enters an
// EM_386 image (xen/arch/x86/x86_64/kexec_reloc.S, compatibility_mode).
inline constexpr uint32_t kEntryInEbp = 1u << 5;

struct EntryPlan {
  uint64_t target;       // entry address
  uint64_t target_cr3;   // Lm64: CR3 at the jump
  uint64_t transit_cr3;  // Lm64/Direct64: the harness tables long mode is re-entered with
  uint64_t transit_cr4;  // PAE, plus LA57 for a 5-level transit
  uint64_t extra_cr4;    // OR'ed into CR4 once back in long mode (PGE|PCIDE|SMEP|SMAP)
  Mode mode;
  uint32_t flags;      // kSet*, kGarbage*
  charon_regs64 regs;  // every GPR at the jump (Lm64: except rax, rdx); rip unused
};

static_assert(offsetof(EntryPlan, target) == 0x00);
static_assert(offsetof(EntryPlan, target_cr3) == 0x08);
static_assert(offsetof(EntryPlan, transit_cr3) == 0x10);
static_assert(offsetof(EntryPlan, transit_cr4) == 0x18);
static_assert(offsetof(EntryPlan, extra_cr4) == 0x20);
static_assert(offsetof(EntryPlan, mode) == 0x28);
static_assert(offsetof(EntryPlan, flags) == 0x2c);
static_assert(offsetof(EntryPlan, regs) == 0x30);

}  // namespace harness

extern "C" harness::EntryPlan entry_plan;
extern "C" [[noreturn]] void harness_enter();  // enter.asm: follows entry_plan
// The harness's own tables (entry.asm): [0, 4 GiB) in 2 MiB pages.
extern "C" uint64_t harness_pml4[512];
extern "C" uint64_t harness_pml5[512];
extern "C" uint64_t harness_pdpt[512];
extern "C" char switch_stub[];  // the page holding `mov cr3, rdx; jmp rax`
extern "C" char stack_top[];    // the top of the harness's stack
