; The probe's two entries, laid out like a bzImage's protected-mode code
; (boot.rst, "32-bit boot protocol" and "64-bit boot protocol"): the 32-bit
; entry at offset 0 and the 64-bit entry at offset 0x200. Each one records
; the state it was handed before any instruction that could change it, then
; moves onto the probe's own GDT, identity map and stack and calls the C++
; checker in 64-bit mode. The checker judges the recorded state, never the
; live one.
%include "identity_8g.inc"
%include "saved.inc"

; The probe's own numbers, deliberately not the generated x86.inc that the
; purgatory and the harness use: the probe is the independent oracle for
; the handoff, so it shares no constant with the code it judges.
; [intel/vol3] 2.2.1 (EFER), 2.5 (CR4); selectors are this file's gdt.
%define MSR_EFER 0xc0000080
%define EFER_LME (1 << 8)
%define CR4_PAE (1 << 5)
%define CR4_LA57_BIT 12

extern probe_main
extern probe_rm_stub, probe_rm_stub_size, probe_entry16_pm
global probe_to_long32
extern __probe_file_size, __probe_mem_size

; Selectors, GDTR, IDTR and EFER into `saved`: the same source in both
; modes (the encodings differ, the meaning does not).
%macro SAVE_SELECTORS_TABLES_EFER 0
        mov     [saved + S_CS], cs
        mov     [saved + S_DS], ds
        mov     [saved + S_ES], es
        mov     [saved + S_SS], ss
        mov     [saved + S_FS], fs
        mov     [saved + S_GS], gs
        sgdt    [saved + S_GDTR]
        sidt    [saved + S_IDTR]
        mov     ecx, MSR_EFER
        rdmsr
        mov     [saved + S_EFER], eax
        mov     [saved + S_EFER + 4], edx
%endmacro

section .head progbits alloc exec
global probe_entry32, probe_entry64

bits 32
probe_entry32:
        jmp     near entry32_body       ; touches no register but EIP

        times PROBE_INFO_OFFSET - ($ - $$) db 0
probe_info:                             ; probe::ProbeInfo
        dd      PROBE_INFO_MAGIC
        dd      __probe_file_size
        dd      __probe_mem_size
        dd      0
        dd      PROBE_ENTRY64
        dd      probe_rm_stub           ; entry16.asm, copied below 1 MiB
        dd      probe_rm_stub_size
        dd      probe_entry16_pm

        times PROBE_ENTRY64 - ($ - $$) db 0xcc
bits 64
probe_entry64:
        ; No stack may be trusted yet: GPRs go straight to `saved`, which
        ; lies in the image (a digest region, so it must be mapped).
        mov     [saved + S_RAX], rax
        mov     [saved + S_RBX], rbx
        mov     [saved + S_RCX], rcx
        mov     [saved + S_RDX], rdx
        mov     [saved + S_RSI], rsi
        mov     [saved + S_RDI], rdi
        mov     [saved + S_RSP], rsp
        mov     [saved + S_RBP], rbp
        mov     [saved + S_R8], r8
        mov     [saved + S_R9], r9
        mov     [saved + S_R10], r10
        mov     [saved + S_R11], r11
        mov     [saved + S_R12], r12
        mov     [saved + S_R13], r13
        mov     [saved + S_R14], r14
        mov     [saved + S_R15], r15
        ; RFLAGS before any arithmetic; the tiny stack is in the image too.
        mov     rsp, flags_stack_top
        pushfq
        pop     qword [saved + S_RFLAGS]
        mov     rax, cr0
        mov     [saved + S_CR0], rax
        mov     rax, cr3
        mov     [saved + S_CR3], rax
        mov     rax, cr4
        mov     [saved + S_CR4], rax
        SAVE_SELECTORS_TABLES_EFER
        mov     qword [saved + S_RIP], probe_entry64
        mov     dword [saved + S_ENTRY], 64

        ; CR4.LA57 cannot change while EFER.LMA=1 ([intel/vol3] 4.1.1), so
        ; the probe's own identity map has the depth it was handed.
        cli
        cld
        mov     rcx, pml4
        bt      qword [saved + S_CR4], CR4_LA57_BIT
        jnc     .four_level
        mov     rcx, pml5
.four_level:
        mov     cr3, rcx
        mov     rsp, stack_top
        lgdt    [gdtr]
        push    0x08
        push    long_common
        retfq

section .text
bits 32
entry32_body:
        mov     [saved + S_RAX], eax
        mov     [saved + S_RBX], ebx
        mov     [saved + S_RCX], ecx
        mov     [saved + S_RDX], edx
        mov     [saved + S_RSI], esi
        mov     [saved + S_RDI], edi
        mov     [saved + S_RSP], esp
        mov     [saved + S_RBP], ebp
        ; The two dwords a cdecl frame would hold (kexec-tools' stack
        ; arguments); with paging off any ESP can be read.
        mov     eax, [esp]
        mov     [saved + S_STACK0], eax
        mov     eax, [esp + 4]
        mov     [saved + S_STACK1], eax
        mov     esp, flags_stack_top
        pushfd
        pop     dword [saved + S_RFLAGS]
        mov     eax, cr0
        mov     [saved + S_CR0], eax
        mov     eax, cr3
        mov     [saved + S_CR3], eax
        mov     eax, cr4
        mov     [saved + S_CR4], eax
        SAVE_SELECTORS_TABLES_EFER
        mov     dword [saved + S_RIP], probe_entry32
        mov     dword [saved + S_ENTRY], 32

        ; Into long mode under the probe's own tables, in the order of
        ; [intel/vol3] 10.8.5: paging off, CR4.PAE, CR3, EFER.LME, CR0.PG.
        ; Paging is cleared first in case the handoff wrongly left it on.
        ; entry16.asm comes here too, once it has recorded real mode.
probe_to_long32:
        cli
        cld
        mov     eax, cr0
        btr     eax, 31
        mov     cr0, eax
        lgdt    [gdtr]
        mov     eax, CR4_PAE
        mov     cr4, eax
        mov     eax, pml4
        mov     cr3, eax
        mov     ecx, MSR_EFER
        rdmsr
        or      eax, EFER_LME
        wrmsr
        mov     eax, cr0
        or      eax, 0x80000001
        mov     cr0, eax
        jmp     0x08:long_common

bits 64
long_common:
        mov     eax, 0x10
        mov     ds, eax
        mov     es, eax
        mov     ss, eax
        mov     fs, eax
        mov     gs, eax
        mov     rsp, stack_top
        mov     edi, saved
        call    probe_main
.halt:  cli
        hlt
        jmp     .halt

section .data
align 16
global saved
saved:  times SAVED_SIZE db 0
align 16
        times 8 dq 0
flags_stack_top:

; 0x08: 64-bit code (L=1, D=0), 0x10: flat data ([intel/vol3] 3.4.5).
align 16
gdt:    dq      0
        dq      0x00af9a000000ffff
        dq      0x00cf92000000ffff
gdtr:   dw      gdtr - gdt - 1
        dq      gdt

; Identity map of [0, 8 GiB) in 2 MiB pages (no 1 GiB pages: the no1g CPU
; lacks them), supervisor, writable; 8 GiB so that the state of a purgatory
; above 4 GiB (its GDT) can be read. pml5 is used only when the handoff
; left LA57 on.
align 4096
IDENTITY_8G pml5, pml4, pdpt, pd

section .bss
align 16
        resb    32 * 1024
stack_top:
