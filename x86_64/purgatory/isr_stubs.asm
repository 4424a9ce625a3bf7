; Exception entry stubs: one 16-byte stub per vector 0..31, so that
; idt.cpp finds stub N at charon_isr_stubs + 16 * N. Each pushes a dummy
; error code where the CPU does not push one, then the vector, and jumps
; to the common path, which hands the frame to charon_exception (C++).
; [intel/vol3]: 6.15, which vectors push an error code: 8, 10-14, 17, 21, 29, 30.
;
; Vector 2, the NMI, is the one exception that returns. After a crash the
; dying kernel leaves LINT1 routed to NMI, so a BMC's or a watchdog's NMI
; may arrive while we hash; halting on it would lose the dump we were
; about to take. Its stub counts it and returns at once: the INC touches
; no register but RFLAGS, which IRETQ restores from the frame, and it
; needs no stack beyond the 40-byte frame the CPU pushes (the CPU aligns
; RSP down to 16 first, [intel/vol3]: 6.14.2; we use no IST). That frame
; lands below RSP, where nothing is live: every C++ unit is built with
; -mno-red-zone (the Makefile's FS_BASE). While it
; runs the CPU blocks further NMIs, and IRETQ unblocks them: a second NMI
; is held pending and delivered right after the return, and counted too
; ([intel/vol3]: 6.7.1). purgatory_main reports the count.
extern charon_exception
global charon_isr_stubs, charon_nmi_count

section .text.idt progbits alloc exec nowrite align=16
bits 64
%macro STUB 1
    align 16
%if %1 == 2
    inc     dword [rel charon_nmi_count]
    iretq
%elif (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
    push    %1
    jmp     isr_common
%else
    push    0
    push    %1
    jmp     isr_common
%endif
%endmacro

align 16
charon_isr_stubs:
%assign v 0
%rep 32
    STUB v
%assign v v + 1
%endrep

align 16
isr_common:
    ; Frame for charon_exception: [rsp] vector, error, rip, cs, rflags, ...
    mov     rdi, rsp
    and     rsp, -16
    cld
    call    charon_exception        ; prints one line and halts; never returns
.hang:
    cli
    hlt
    jmp     .hang

; In the file, so every load starts at 0 (the loader copies .data as is).
section .data
align 4
charon_nmi_count: dd 0
