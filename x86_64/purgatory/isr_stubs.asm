; Exception entry stubs: one 16-byte stub per vector 0..31, so that
; idt.cpp finds stub N at charon_isr_stubs + 16 * N. Each pushes a dummy
; error code where the CPU does not push one, then the vector, and jumps
; to the common path, which hands the frame to charon_exception (C++).
; [intel/vol3]: 6.15, which vectors push an error code: 8, 10-14, 17, 21, 29, 30.
extern charon_exception
global charon_isr_stubs

section .text.idt progbits alloc exec nowrite align=16
bits 64
%macro STUB 1
    align 16
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
    push    %1
%else
    push    0
    push    %1
%endif
    jmp     isr_common
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
