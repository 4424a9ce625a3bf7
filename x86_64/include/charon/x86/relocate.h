// The relocation trampoline (x86_64/trampoline/relocate.asm): what firmware and
// hypervisors call last. It copies itself into a control page, switches to
// caller-built identity tables and its own GDT, walks a Linux-format
// indirection list (loader/include/charon/loader/indirection.h builds and
// checks one), and jumps to the purgatory's 64-bit entry.
//
// Linking: link build/fs/x86_64/trampoline/relocate.o (position-independent; any load
// address) and call the entries below. Vendoring: take the flat
// build/x86_64/relocate.bin, load it anywhere, and enter it at
// CHARON_RELOC_ENTRY64_OFFSET or CHARON_RELOC_ENTRY32_OFFSET.
//
// The caller provides, and the trampoline then needs nothing else:
//  - interrupts off; no stack (none is used before the control page's);
//  - a control page: 4 KiB, 4 KiB-aligned, that no source, destination or
//    list page touches (the trampoline copies itself there first);
//  - identity tables (CR3 value) mapping 1:1 and writable: the trampoline's
//    current location, the control page, every list page, every source and
//    destination page, and the whole image the entry belongs to (file plus
//    bss). Four-level tables, or five-level when entered in 64-bit mode with
//    CR4.LA57 set (the depth is kept). They must survive the copies: no
//    destination may touch them. charon::loader::map_relocation() and
//    validate_list() build and check exactly this.
//  - the head of the list: an entry word, usually first_page | IND_INDIRECTION.
//
// 64-bit entry (SysV C call, never returns): long mode, any CR3 that maps
// the trampoline 1:1.
//   RDI = head, RSI = control page, RDX = CR3 of the identity tables,
//   RCX = where to jump when done (the purgatory's charon_entry64).
// 32-bit entry: protected mode, paging off, flat CS/DS/ES, all four values
// below 4 GiB (list entries themselves may point anywhere the tables map):
//   EAX = address of charon_reloc_entry32 itself (32-bit code cannot find
//   itself without a stack; a caller that does `jmp eax` satisfies this),
//   EDI = head, ESI = control page, EDX = CR3 (4-level tables), ECX = entry.
//
// State at the jump to `entry`: long mode under the given tables; CR0 =
// PG|ET|PE from the 32-bit entry, or the caller's with WP, AM, TS, EM, CD
// and NW cleared from the 64-bit one; CR4 = PAE (| LA57 as entered); GDT in
// the control page with 0x08 = flat 32-bit code, 0x10 = 64-bit code, 0x18 =
// flat data; CS = 0x10, DS = ES = SS = FS = GS = 0x18; IDTR limit 0 (a fault
// shuts down rather than run a handler the copies may have overwritten);
// IF = DF = 0; RAX = entry, RSP inside the control page, other GPRs 0.
#pragma once
#include <stdint.h>

// Layout of the flat blob and of the control page after the self-copy.
#define CHARON_RELOC_ENTRY64_OFFSET 0x0
#define CHARON_RELOC_ENTRY32_OFFSET 0x80
#define CHARON_RELOC_CONTROL_SIZE 4096
// The trampoline's code and data fill [0, CHARON_RELOC_CODE_MAX); its
// stack (one far return) is the control page's last bytes.
#define CHARON_RELOC_CODE_MAX (CHARON_RELOC_CONTROL_SIZE - 64)

// Linux include/linux/kexec.h list flags; IND_ZERO is Xen's (zero one
// destination page and advance, kexec_reloc.S).
#define CHARON_IND_DESTINATION 0x1
#define CHARON_IND_INDIRECTION 0x2
#define CHARON_IND_DONE 0x4
#define CHARON_IND_SOURCE 0x8
#define CHARON_IND_ZERO 0x10

#ifdef __cplusplus
extern "C" {
#endif
// [charon_reloc_start, charon_reloc_end) is what gets copied into the
// control page: code, GDT and data, position-independent.
extern const uint8_t charon_reloc_start[];
extern const uint8_t charon_reloc_end[];
__attribute__((noreturn)) void charon_reloc_entry64(uint64_t head, uint64_t control_page,
                                                    uint64_t cr3, uint64_t entry);
// Not C-callable: 32-bit protected mode only (registers above).
extern const uint8_t charon_reloc_entry32[];
#ifdef __cplusplus
}
#endif
