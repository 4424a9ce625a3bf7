; The relocation trampoline: the last code a firmware or hypervisor runs.
; It copies itself into the caller's control page, switches to the caller's
; identity tables and its own GDT, walks a Linux-format indirection list
; (IND_ZERO as Xen has it) copying pages with rep movsq, and jumps to the
; purgatory's 64-bit entry. Registers, control page and exit state:
; x86_64/include/charon/x86/relocate.h (relocate.inc is generated from it).
;
; Everything between charon_reloc_start and charon_reloc_end is copied and
; must stay position-independent: RIP-relative in 64-bit code, relative to
; EBX (the control page) in 32-bit code. The original is never written.
%include "relocate.inc"
%include "arch.inc"

%define PAGE_MASK   -4096
%define CODE_QWORDS ((charon_reloc_end - charon_reloc_start + 7) / 8)
%define OFF(label)  ((label) - charon_reloc_start)

global charon_reloc_start, charon_reloc_end, charon_reloc_entry64, charon_reloc_entry32
; For linker/relocate.ld's size check: one definition, the header's.
global charon_reloc_code_max
charon_reloc_code_max equ CHARON_RELOC_CODE_MAX

section .text.charon_reloc progbits alloc exec nowrite align=16
bits 64
charon_reloc_start:
; ---- 64-bit entry: RDI head, RSI control page, RDX CR3, RCX entry ---------
charon_reloc_entry64:
    endbr64                     ; a caller with supervisor IBT reaches us indirectly
    cli
    cld
    mov     r8, rdi
    mov     r9, rcx
    mov     r10, rsi
    ; CR4 keeps only PAE and LA57 (the depth cannot change in long mode).
    ; Dropping PGE flushes the caller's global translations, which a CR3
    ; load alone would keep; CET must go before CR0.WP may be cleared.
    ; [intel/vol3]: 2.5, 4.10.4.1.
    mov     rax, cr4
    and     eax, CR4_PAE | CR4_LA57
    mov     cr4, rax
    ; CR0: no write protection (the control page may be read-only to the
    ; caller), no alignment checks, caches on. [intel/vol3]: 2.5.
    mov     rax, cr0
    and     eax, ~(CR0_WP | CR0_AM | CR0_TS | CR0_EM | CR0_CD | CR0_NW)
    mov     cr0, rax
    ; Our tables map this code too, so the next fetch still works; from here
    ; on nothing depends on the caller's tables.
    mov     cr3, rdx
    ; Copy ourselves into the control page and continue there: sources and
    ; destinations may overlap where we run now.
    lea     rsi, [rel charon_reloc_start]
    mov     rdi, r10
    mov     ecx, CODE_QWORDS
    rep movsq
    lea     rax, [r10 + OFF(.in_control)]
    jmp     rax
.in_control:
    ; Our GDT, then CS through a far return on the control page's stack.
    ; [intel/vol3]: 3.4.5, 5.8.6 (RET far in 64-bit mode).
    lea     rax, [rel gdt]
    mov     [rel gdt_ptr + 2], rax
    lgdt    [rel gdt_ptr]
    lea     rsp, [r10 + CHARON_RELOC_CONTROL_SIZE]
    push    SEL_CODE64
    lea     rax, [rel common64]
    push    rax
    retfq

; ---- 32-bit entry: EAX = this label, EDI head, ESI control, EDX CR3, ECX entry
    times CHARON_RELOC_ENTRY32_OFFSET - OFF($) db 0xcc
bits 32
charon_reloc_entry32:
    endbr32
    cli
    cld
    mov     ebp, edi
    ; Copy ourselves into the control page (paging is off: physical
    ; addresses) and continue there, with EBX = control page.
    lea     edi, [eax - CHARON_RELOC_ENTRY32_OFFSET]
    xchg    esi, edi
    mov     eax, ecx
    mov     ebx, edi
    mov     ecx, CODE_QWORDS * 2
    rep movsd
    lea     ecx, [ebx + OFF(.in_control)]
    jmp     ecx
.in_control:
    mov     esi, eax
    lea     eax, [ebx + OFF(gdt)]
    mov     [ebx + OFF(gdt_ptr) + 2], eax
    mov     dword [ebx + OFF(gdt_ptr) + 6], 0
    lgdt    [ebx + OFF(gdt_ptr)]
    mov     eax, SEL_DATA
    mov     ds, eax
    mov     es, eax
    mov     ss, eax
    ; Long mode on the caller's 4-level tables: CR4.PAE, CR3, EFER.LME,
    ; then CR0.PG, then a far jump to a 64-bit code segment.
    ; [intel/vol3]: 10.8.5.
    mov     eax, CR4_PAE
    mov     cr4, eax
    mov     cr3, edx
    mov     ecx, MSR_EFER
    rdmsr
    or      eax, EFER_LME
    wrmsr
    mov     eax, CR0_PG | CR0_ET | CR0_PE
    mov     cr0, eax
    lea     eax, [ebx + OFF(.long)]
    mov     [ebx + OFF(farptr)], eax
    mov     word [ebx + OFF(farptr) + 4], SEL_CODE64
    jmp     far [ebx + OFF(farptr)]
bits 64
.long:
    ; The upper halves of the GPRs are undefined after the mode switch.
    ; [intel/vol1]: 3.4.1.1.
    mov     r8d, ebp
    mov     r9d, esi
    mov     r10d, ebx
    lea     rsp, [r10 + CHARON_RELOC_CONTROL_SIZE]

; ---- both entries: 64-bit, in the control page, R8 head, R9 entry -----------
common64:
    LOAD_DATA_SEGMENTS SEL_DATA
    ; A fault from here on shuts the machine down instead of running the
    ; caller's handlers, which the copies may have overwritten.
    lidt    [rel null_idt]

    ; The walk, in Linux's order of tests (DESTINATION, INDIRECTION, DONE,
    ; SOURCE) with Xen's ZERO last; entries with none of them are skipped.
    ; The head is the first entry. RBX = next entry, RDI = destination.
    mov     rcx, r8
    xor     edi, edi
    xor     ebx, ebx
    jmp     .dispatch
.next:
    mov     rcx, [rbx]
    add     rbx, 8
.dispatch:
    test    cl, CHARON_IND_DESTINATION
    jz      .not_destination
    mov     rdi, rcx
    and     rdi, PAGE_MASK
    jmp     .next
.not_destination:
    test    cl, CHARON_IND_INDIRECTION
    jz      .not_indirection
    mov     rbx, rcx
    and     rbx, PAGE_MASK
    jmp     .next
.not_indirection:
    test    cl, CHARON_IND_DONE
    jnz     .done
    test    cl, CHARON_IND_SOURCE
    jz      .not_source
    mov     rsi, rcx
    and     rsi, PAGE_MASK
    mov     ecx, CHARON_RELOC_CONTROL_SIZE / 8
    rep movsq                       ; RDI advances to the next destination
    jmp     .next
.not_source:
    test    cl, CHARON_IND_ZERO
    jz      .next
    xor     eax, eax
    mov     ecx, CHARON_RELOC_CONTROL_SIZE / 8
    rep stosq
    jmp     .next

.done:
    ; Into the purgatory with nothing of ours in the registers.
    mov     rax, r9
    xor     ebx, ebx
    xor     ecx, ecx
    xor     edx, edx
    xor     esi, esi
    xor     edi, edi
    xor     ebp, ebp
    xor     r8d, r8d
    xor     r9d, r9d
    xor     r10d, r10d
    xor     r11d, r11d
    xor     r12d, r12d
    xor     r13d, r13d
    xor     r14d, r14d
    xor     r15d, r15d
    jmp     rax

; ---- data, written only in the control page's copy ---------------------------
align 8
farptr:     dd 0
            dw 0
align 16
; [intel/vol3]: 3.4.5. The selectors are the purgatory's and boot.rst's
; (gdt.h).
gdt:
    dq 0                            ; null
    dq DESC_CODE32                  ; SEL_CODE32: flat 32-bit code
    dq DESC_CODE64                  ; SEL_CODE64: 64-bit code
    dq DESC_DATA                    ; SEL_DATA: flat data
gdt_end:
align 8
    dw 0, 0, 0                      ; so the base below is 8-byte aligned
gdt_ptr:
    dw gdt_end - gdt - 1
    dq 0
null_idt:
    dw 0
    dq 0
align 8
charon_reloc_end:
section .note.GNU-stack noalloc noexec nowrite progbits
