; The final jumps. purgatory_main has verified, copied and built the map;
; these tails only load the state boot.rst (or the caller's register set)
; asks for and jump. Neither returns.
;
; The empty IDTR they hand over is the one window left in which an NMI
; kills the machine: with limit 0 its delivery faults #GP, then #DF, then
; shuts down ([intel/vol3]: 6.10, 6.15 "Interrupt 8"). NMIs are not
; blocked here: every NMI we took ended in IRETQ, which unblocks them
; (6.7.1). So the tails load it as late as they can: charon_handoff64 three
; instructions before the jump, charon_handoff32 before it leaves long mode
; (our 64-bit gates would read as garbage 32-bit ones), about 30 before its
; jump. Beyond the jump the next kernel has the same window until it loads
; an IDT of its own.
%include "params.inc"
%include "arch.inc"

extern gdt64, charon_stack_top
global charon_handoff64, charon_handoff32

section .text.handoff progbits alloc exec write align=16
bits 64
; void charon_handoff64(const charon_regs64* regs, uint64_t cr3, uint64_t cr4)
; Long mode under our tables: CR0 = PG|ET|PE, CR4 = rdx (PAE[|LA57]),
; EFER = LME, CS = 0x10, DS=ES=SS=FS=GS = 0x18, RFLAGS = 0x2, IDTR empty,
; every GPR, RSP and RIP from *regs.
charon_handoff64:
    mov     r9, rsi                         ; cr3
    mov     r10, rdx                        ; cr4
    mov     rsi, rdi                        ; copy regs into our image: the
    lea     rdi, [rel saved64]              ; caller's copy may sit on the
    mov     ecx, charon_regs64_size / 8     ; stack we are about to abandon
    rep movsq
    mov     rax, CR0_PG | CR0_ET | CR0_PE
    mov     cr0, rax
    mov     cr4, r10                        ; same LA57 as now: it cannot
    mov     cr3, r9                         ; change in long mode
    mov     ecx, MSR_EFER
    xor     edx, edx
    mov     eax, EFER_LME
    wrmsr
    LOAD_DATA_SEGMENTS SEL_DATA
    ; RFLAGS last: from here on only MOVs and LIDT, which leave the flags
    ; alone.
    push    2                               ; IF=0, DF=0, AC=0, ...
    popfq
    mov     rax, [rel saved64 + charon_regs64_rax]
    mov     rbx, [rel saved64 + charon_regs64_rbx]
    mov     rcx, [rel saved64 + charon_regs64_rcx]
    mov     rdx, [rel saved64 + charon_regs64_rdx]
    mov     rsi, [rel saved64 + charon_regs64_rsi]
    mov     rdi, [rel saved64 + charon_regs64_rdi]
    mov     rbp, [rel saved64 + charon_regs64_rbp]
    mov     r8,  [rel saved64 + charon_regs64_r8]
    mov     r9,  [rel saved64 + charon_regs64_r9]
    mov     r10, [rel saved64 + charon_regs64_r10]
    mov     r11, [rel saved64 + charon_regs64_r11]
    mov     r12, [rel saved64 + charon_regs64_r12]
    mov     r13, [rel saved64 + charon_regs64_r13]
    mov     r14, [rel saved64 + charon_regs64_r14]
    mov     r15, [rel saved64 + charon_regs64_r15]
    ; Until here an NMI returns on our stack through our IDT (both mapped
    ; by cr3); the new RSP may be anything, so the IDT goes first.
    lidt    [rel null_idt]
    mov     rsp, [rel saved64 + charon_regs64_rsp]
    jmp     [rel saved64 + charon_regs64_rip]

; void charon_handoff32(const charon_regs32* regs, const uint32_t* stack_args)
; 32-bit protected mode, paging off: CR0 = ET|PE, CR4 = 0, EFER = 0, a
; flat GDT with 0x10 code and 0x18 data, EFLAGS = 0x2, IDTR empty, every
; GPR, ESP and EIP from *regs. Everything must sit below 4 GiB.
; stack_args, when not null, are two dwords (kexec-tools' stack_arg32_2,
; stack_arg32_1) pushed on the top of our own stack; regs->esp must then
; be charon_stack_top - 8, where they land.
charon_handoff32:
    lea     rbx, [rel charon_handoff32]     ; base for the 32-bit half
    mov     r8, rsi                         ; stack_args
    mov     rsi, rdi
    lea     rdi, [rel saved32]
    mov     ecx, charon_regs32_size / 4
    rep movsd
    ; The top 8 bytes of our stack hold only the return address of entry.asm's
    ; `call purgatory_main`, which never returns; we run far below them.
    test    r8, r8
    jz      .no_stack_args
    mov     rax, [r8]
    mov     [rel charon_stack_top - 8], rax
.no_stack_args:
    mov     eax, [rel saved32 + charon_regs32_eip]
    mov     [rel final_jump + 1], eax       ; patch `jmp 0x10:eip` below
    lea     rax, [rel gdt32]
    mov     [rel gdt32_ptr + 2], eax
    lidt    [rel null_idt]
    LEAVE_LONG_MODE .in32, farptr32
    ; paging off, CS = 0x08 of gdt64 (cached), ebx = &charon_handoff32
    mov     eax, CR0_ET | CR0_PE
    mov     cr0, eax
    xor     eax, eax
    mov     cr4, eax
    mov     ecx, MSR_EFER
    xor     edx, edx
    wrmsr
    lgdt    [ebx + (gdt32_ptr - charon_handoff32)]
    LOAD_DATA_SEGMENTS SEL_DATA
    ; EFLAGS last, on our own stack (still below 4 GiB and identity-
    ; placed); only MOVs and the far jump follow.
    push    2
    popfd
%define R(r) [ebx + (saved32 + charon_regs32_ %+ r - charon_handoff32)]
    mov     eax, R(eax)
    mov     ecx, R(ecx)
    mov     edx, R(edx)
    mov     esi, R(esi)
    mov     edi, R(edi)
    mov     esp, R(esp)
    mov     ebp, R(ebp)
    mov     ebx, R(ebx)
    ; The far jump loads CS = 0x10 from gdt32 and EIP at once. Its offset
    ; was written above, long before this fetch, from the same CPU;
    ; [intel/vol3]: 8.1.3 self-modifying code is detected on this path.
final_jump:
    jmp     BOOT_CS:0                       ; gdt32's 32-bit code

align 8
farptr32:   dd 0
            dw 0
align 16
; [intel/vol3]: 3.4.5. The layout boot.rst asks for: 0x10 code, 0x18 data.
gdt32:
    dq 0                        ; 0x00 null
    dq 0                        ; 0x08 unused
    dq DESC_CODE32              ; BOOT_CS: flat 32-bit code
    dq DESC_DATA                ; BOOT_DS: flat data
gdt32_end:
align 8
    dw 0, 0, 0
gdt32_ptr:
    dw gdt32_end - gdt32 - 1
    dd 0
align 8
    dw 0, 0, 0
null_idt:
    dw 0
    dq 0
align 8
saved64:    times charon_regs64_size db 0
saved32:    times charon_regs32_size db 0
