// The purgatory's internal interfaces between its C++ parts and its
// nasm stubs (entry.asm, handoff.asm, isr_stubs.asm). Not a public header.
#pragma once
#include <charon/align.h>
#include <charon/console.h>
#include <charon/handoff.h>
#include <charon/params.h>
#include <charon/x86/halt.h>
#include <stdint.h>

namespace charon::x86 {

// The one console of the purgatory, set up from the parameter block.
extern Console g_console;

// Prints one line and halts this CPU forever, interrupts off
// (halt_forever, charon/x86/halt.h).
[[noreturn]] void halt_with(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t idt_end();  // first byte after the IDT (it lives in .noinit)

// True if the digest regions together cover [start, start + len): what
// verify() proved is what the loader wrote.
bool in_regions(const charon_params& p, uint64_t start, uint64_t len);

// Console from the parameter block (port I/O only; safe before paging is ours).
void setup_console(const charon_params& p);

// The page-table area: the loader's scratch, or the built-in one; halts
// on a misaligned or empty scratch area.
struct TableArena;
class IdentityMap;
TableArena scratch_arena(const charon_params& p);
// Maps the purgatory image and the scratch area; halts if it cannot.
void map_image_and_scratch(IdentityMap& map, const TableArena& arena, const charon_params& p);
void map_or_halt(IdentityMap& map, const TableArena& arena, const char* what, uint64_t start,
                 uint64_t len);
// The real map's layout: the memory the loader passed (params.memory),
// and everything the parameter block requires for this handoff kind (the
// image, the scratch area, [0, idmap_limit), the regions, map_ranges, the
// backup source and destination, boot_params, [0, 1 MiB) for Linux, the
// RIP and RSP pages for generic64). It points into static storage.
struct MapLayout;
MapLayout known_layout(const charon_params& p, HandoffKind handoff);
// Maps the layout's memory and every required range, halting with the
// range's name if one cannot be mapped; then, for generic64, the page at
// RSI (kexec-tools' boot_params), where it can be.
void map_layout(IdentityMap& map, const TableArena& arena, const MapLayout& layout,
                const charon_params& p, HandoffKind handoff);
// What boot_params points to, read through the live tables (boot_params
// must already be mapped), and only once boot_params can be trusted:
// after verify(), or under skip_checks (purgatory_main). That is the
// command line, the initrd, the kernel's init_size range, the setup_data
// chain and, for a 64-bit handoff, the EFI system table, configuration
// tables and memory map that efi_info names (never halted over). For
// generic64, RSI counts as boot_params when it lies in the digest regions
// (or skip_checks is set) and carries "HdrS" (kexec-tools' way). True if
// it added to the tables (reload CR3).
bool map_from_boot_params(IdentityMap& map, const TableArena& arena, const charon_params& p,
                          HandoffKind handoff);

// Where a real-mode handoff enters entry16.asm: for generic16, and for
// generic32 whose EIP is entry16 or entry16_debug (kexec-tools
// --real-mode). entry = 0: not a real-mode handoff.
struct RealModeEntry {
  uint64_t entry = 0;
  const charon_regs16* regs = nullptr;
};
RealModeEntry real_mode_entry(const charon_params& p, HandoffKind handoff);

constexpr uint64_t kBootTableBytes = 8 * kPageSize;  // charon_boot_tables in entry.asm

}  // namespace charon::x86

extern "C" {
// entry.asm
extern uint32_t charon_entered_la57;  // CR4.LA57 bit as the 64-bit entry found it
extern uint8_t purgatory_start[], charon_stack_top[], charon_boot_tables[];
// isr_stubs.asm
extern uint8_t charon_isr_stubs[];
extern volatile uint32_t charon_nmi_count;  // NMIs taken so far; each returned
// idt.cpp, called from entry.asm: installs an IDT whose 32 exception vectors
// print a report and halt, but for the NMI (vector 2), which returns.
void charon_idt_install();
// handoff.asm
[[noreturn]] void charon_handoff64(const charon_regs64* regs, uint64_t cr3, uint64_t cr4);
// stack_args: null, or {stack_arg32_2, stack_arg32_1}, pushed on top of our
// own stack, where the payload then starts (ESP = charon_stack_top - 8).
[[noreturn]] void charon_handoff32(const charon_regs32* regs, const uint32_t* stack_args);
// entry16.asm: the real-mode entries (32-bit, paging off, EAX = their own
// address) and the bounds of everything real mode must reach.
extern uint8_t entry16[], entry16_debug[], charon_tail16_end[];  // entry16_debug: its start
// C++ entry points called from nasm
uint64_t charon_bootstrap64(const charon_params* params);  // returns the CR3 to load
[[noreturn]] void purgatory_main(charon_params* params);
[[noreturn]] void charon_exception(const uint64_t* frame);
}
