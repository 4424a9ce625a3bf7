; charon's two entries. Both converge on one state before purgatory_main:
; long mode under bootstrap tables of our own, our GDT, our stack, CR0 =
; PG|ET|PE, CR4 = PAE (| LA57 if the caller ran 5-level paging), EFER =
; LME. Nothing the caller left (CR3, CR4 bits, GDT, IDT, RSP, RFLAGS)
; survives. The 64-bit entry stays in long mode (so the image may lie
; above 4 GiB, as kexec-tools may put it); the 32-bit entry builds
; [0, 4 GiB) in 2 MiB pages and enters long mode itself.
;
; What must hold on entry (README, "Entry contract"): the whole image
; (file + .noinit) is identity-mapped; one CPU. For entry32 also: the
; image lies below 4 GiB, DS and ES are flat, and EAX holds the address of
; charon_entry32 itself (a caller that does `jmp eax` satisfies it),
; because 32-bit code has no RIP-relative addressing and we may not assume
; a stack to call/pop from. For both: the CPU is outside VMX and SMX
; operation, whose fixed CR0/CR4 bits our first CR4 write would violate.
%include "params.inc"
%include "arch.inc"

; The 32-bit path uses 7 (PML5, PML4, PDPT, 4 PDs: [0, 4 GiB) in 2 MiB
; pages); charon_bootstrap64 uses at most 8 (bootstrap.cpp).
%define BOOT_TABLE_PAGES 8
; Bytes per exception stub of the 32-bit entry (idt32_stubs).
%define IDT32_STUB 4

%ifdef CHARON_KERNEL_ABI
; KREG r: one register from the kernel's entry64_regs (rsi) into the
; block's regs64 (rdi); both offsets come from params.inc.
%macro KREG 1
    mov     rax, [rsi + charon_kernel_regs64_%1]
    mov     [rdi + charon_regs64_%1], rax
%endmacro
%endif

extern purgatory_main, charon_bootstrap64, charon_idt_install
global purgatory_start, charon_entry64, charon_entry32, gdt64, gdt64_end
global charon_stack_top, charon_boot_tables, charon_entered_la57
; kexec-tools' x86_64 loader sets entry64_regs.rsp to this symbol.
global stack_end

section .text.entry progbits alloc exec write align=16
bits 64
; ---- 64-bit entry: long mode, any CR3 that maps us 1:1 --------------------
purgatory_start:
charon_entry64:
    ; A caller with supervisor IBT on (CR4.CET, IA32_S_CET.ENDBR_EN) can
    ; only reach us indirectly on an ENDBR; it is a NOP everywhere else.
    endbr64
    cli
    cld
    ; CR4 down to PAE plus the caller's LA57 (which cannot change in long
    ; mode). Clearing PGE flushes global translations; PCIDE, CET, SMEP,
    ; SMAP, PKS, OSFXSR and the rest go too. [intel/vol3]: 2.5, 4.10.4.1.
    ; First of all: CR0.WP cannot be cleared while CR4.CET is set, and no
    ; memory access may come before it (SMAP or PKS could fault it if the
    ; caller maps our pages as user pages or under a protection key).
    mov     rax, cr4
    and     eax, CR4_LA57
    mov     edx, eax
    or      eax, CR4_PAE
    mov     cr4, rax
    ; Our own pages may be mapped read-only; clear CR0.WP so our writes
    ; below land. [intel/vol3]: 4.6.1.
    mov     rax, cr0
    and     rax, ~CR0_WP
    mov     cr0, rax
    mov     [rel charon_entered_la57], edx
    ; Our GDT, CS = 0x10 through a far return on our own stack (the whole
    ; image, .noinit included, is mapped), then flat data selectors.
    lea     rsp, [rel charon_stack_top]
    lea     rax, [rel gdt64]
    mov     [rel gdt64_ptr + 2], rax
    lgdt    [rel gdt64_ptr]
    lea     rax, [rel .cs64]
    push    SEL_CODE64
    push    rax
    retfq
.cs64:
    LOAD_DATA_SEGMENTS SEL_DATA
    ; Our IDT, before anything slow: until now an NMI went through the
    ; caller's IDT, which our CR3 below may not even map (idt.cpp).
    call    charon_idt_install
    ; Bootstrap tables for our image and the scratch area, built in C++
    ; inside .noinit: the image may lie anywhere, even above 4 GiB, and
    ; nothing outside it is known to be mapped yet.
    xor     ebp, ebp
    lea     rdi, [rel charon_params]
    call    charon_bootstrap64
    mov     cr3, rax
    ; Only under our own tables may EFER lose NXE (the caller's entries
    ; may carry NX) and CR0 drop CD/NW/EM/TS/AM. [intel/vol3]: 2.2.1.
    mov     ecx, MSR_EFER
    xor     edx, edx
    mov     eax, EFER_LME
    wrmsr
    mov     eax, CR0_PG | CR0_ET | CR0_PE
    mov     cr0, rax
    jmp     long64.idt_in

; ---- 32-bit entry: protected mode, paging off, EAX = &charon_entry32 ------
bits 32
charon_entry32:
    endbr32
    cli
    cld
    mov     ebx, eax
    ; Until our LGDT the caller's IDT and GDT, which name each other, stay
    ; in force; nothing before it can fault: ALU operations and stores
    ; through the caller's DS, flat by contract. They prepare the switch:
    ; our GDT's base, and our IDT (idt32_stubs below), 32 interrupt gates
    ; on SEL_CODE32. [intel/vol3]: 6.11, figure 6-2.
    lea     eax, [ebx + (gdt64 - charon_entry32)]
    mov     [ebx + (gdt64_ptr + 2 - charon_entry32)], eax
    mov     dword [ebx + (gdt64_ptr + 6 - charon_entry32)], 0
    lea     edi, [ebx + (idt32_slot - charon_entry32)]
    add     edi, [edi]
    mov     [ebx + (idt32_ptr + 2 - charon_entry32)], edi
    lea     edx, [ebx + (idt32_stubs - charon_entry32)]
    mov     ecx, 32
.gate:
    mov     eax, edx
    and     eax, 0xffff
    or      eax, SEL_CODE32 << 16
    mov     [edi], eax                  ; offset 15:0, selector
    mov     eax, edx
    and     eax, 0xffff0000
    or      eax, 0x8e00                 ; P=1, DPL 0, 32-bit interrupt gate
    mov     [edi + 4], eax              ; flags, offset 31:16
    add     edx, IDT32_STUB
    add     edi, 8
    dec     ecx
    jnz     .gate
    lea     ecx, [ebx + (stack_slot - charon_entry32)]
    add     ecx, [ecx]
    ; The switch: our GDT, SS:ESP on our stack (the caller's may be
    ; garbage, and the CPU pushes the exception frame there), our IDT. MOV
    ; SS holds off interrupts until after the next instruction, so only an
    ; NMI right after the LGDT or the MOV ESP still finds the caller's IDT
    ; under our GDT. From the LIDT on, every exception prints a line
    ; (fault32) and an NMI returns, until long64 installs the 64-bit IDT.
    mov     eax, SEL_DATA
    lgdt    [ebx + (gdt64_ptr - charon_entry32)]
    mov     ss, eax
    mov     esp, ecx
    lidt    [ebx + (idt32_ptr - charon_entry32)]
    mov     dword [ebx + (charon_entered_la57 - charon_entry32)], 0
    lea     eax, [ebx + (common32 - charon_entry32)]
    mov     [ebx + (farptr - charon_entry32)], eax
    mov     word [ebx + (farptr + 4 - charon_entry32)], SEL_CODE32
    jmp     far [ebx + (farptr - charon_entry32)]

; ---- the common path: 32-bit, paging off, ebx = &charon_entry32 ----------
; ebx stays &charon_entry32 up to long64: fault32 relies on it.
common32:
    LOAD_DATA_SEGMENTS SEL_DATA
    ; CR4: PAE, plus LA57 if the caller used it; everything else off,
    ; SMXE too: the caller has left SMX operation (README, "Entry
    ; contract"; VMX operation cannot reach this entry, it forbids paging
    ; off). Should this write fault, fault32 says so.
    mov     eax, CR4_PAE
    or      eax, [ebx + (charon_entered_la57 - charon_entry32)]
    mov     cr4, eax

    ; Bootstrap tables: identity-map [0, 4 GiB) with 2 MiB pages, which
    ; every x86_64 CPU supports. They cover our image and the scratch area
    ; (both below 4 GiB by contract); purgatory_main then builds the real
    ; map. edi = table base, found through a PC-relative slot.
    lea     edi, [ebx + (boot_tables_slot - charon_entry32)]
    add     edi, [edi]
    mov     esi, edi                    ; esi = PML5 page
    xor     eax, eax
    mov     ecx, 7 * 4096 / 4
    rep stosd
    mov     edi, esi
    lea     eax, [esi + 0x1000 + 3]     ; PML5[0] -> PML4, present|write
    mov     [esi], eax
    lea     eax, [esi + 0x2000 + 3]     ; PML4[0] -> PDPT
    mov     [esi + 0x1000], eax
    xor     ecx, ecx                    ; PDPT[0..3] -> PD0..PD3
.pdpt:
    lea     eax, [esi + 0x3000 + 3]
    mov     edx, ecx
    shl     edx, 12
    add     eax, edx
    mov     [esi + 0x2000 + ecx * 8], eax
    inc     ecx
    cmp     ecx, 4
    jb      .pdpt
    xor     ecx, ecx                    ; 2048 PDEs: 2 MiB leaves, PS|write|present
.pd:
    mov     eax, ecx
    shl     eax, 21
    or      eax, 0x83
    mov     [esi + 0x3000 + ecx * 8], eax
    mov     dword [esi + 0x3000 + ecx * 8 + 4], 0
    inc     ecx
    cmp     ecx, 2048
    jb      .pd
    lea     eax, [esi + 0x1000]         ; 4-level root: PML4
    test    dword [ebx + (charon_entered_la57 - charon_entry32)], CR4_LA57
    jz      .root
    mov     eax, esi                    ; 5-level root: PML5
.root:
    mov     cr3, eax

    ; CHARON_F_FAULT_TEST32: a #UD at the last point before long mode
    ; proves that fault32 reports (the runner's fault-test cases).
    lea     esi, [ebx + (params_slot - charon_entry32)]
    add     esi, [esi]
    test    dword [esi + charon_params_flags], CHARON_F_FAULT_TEST32
    jz      .no_fault_test
    ud2
.no_fault_test:

    ; Long mode: EFER.LME then CR0.PG; CR0 also drops CD/NW/EM/TS/WP
    ; whatever the caller had. [intel/vol3]: 10.8.5. From CR0.PG on the
    ; CPU reads the IDT in the 64-bit format, so the 32-bit one is
    ; garbage until long64 installs ours: a dozen instructions and
    ; charon_idt_install's stores, none of which can fault (a far jump to
    ; a mapped page through our GDT, segment loads, a near call onto our
    ; mapped stack, stores into .noinit); only an NMI there would still
    ; shut the machine down.
    mov     ecx, MSR_EFER
    xor     edx, edx
    mov     eax, EFER_LME
    wrmsr
    mov     eax, CR0_PG | CR0_ET | CR0_PE
    mov     cr0, eax
    lea     eax, [ebx + (long64 - charon_entry32)]
    mov     [ebx + (farptr - charon_entry32)], eax
    mov     word [ebx + (farptr + 4 - charon_entry32)], SEL_CODE64
    jmp     far [ebx + (farptr - charon_entry32)]

bits 64
long64:
    LOAD_DATA_SEGMENTS SEL_DATA
    ; There is no .bss to clear: C++ state is built with
    ; -fno-zero-initialized-in-bss, so it lives in .data and the loader's
    ; copy of the file is its initial value, for .ro and .bin alike.
    lea     rsp, [rel charon_stack_top]
    call    charon_idt_install
.idt_in:                                ; entry64 installed it earlier
    ; From here on every NMI returns (isr_stubs.asm) on this stack: the
    ; CPU pushes 40 bytes, the stub nothing, and purgatory_main's deepest
    ; chain (hashing, or a report) takes about 1 KiB of the 16 (clang
    ; -fstack-usage). RSP = charon_stack_top on both paths.
    xor     ebp, ebp
%ifdef CHARON_KERNEL_ABI
    ; Kernel flavour: the kernel filled entry64_regs in its own order
    ; (struct kexec_entry64_regs); copy it field by field into the block's
    ; regs64, which is what the generic64 handoff loads. Only if the
    ; kernel set rip: a loader that fills charon_params itself keeps its
    ; regs64. Our pages are writable by now (CR0.WP is clear).
    lea     rsi, [rel entry64_regs]
    lea     rdi, [rel charon_params + charon_params_regs64]
    cmp     qword [rsi + charon_kernel_regs64_rip], 0
    je      .kregs_done
    KREG    rax
    KREG    rcx
    KREG    rdx
    KREG    rbx
    KREG    rsp
    KREG    rbp
    KREG    rsi
    KREG    rdi
    KREG    r8
    KREG    r9
    KREG    r10
    KREG    r11
    KREG    r12
    KREG    r13
    KREG    r14
    KREG    r15
    KREG    rip
.kregs_done:
%endif
    lea     rdi, [rel charon_params]
    call    purgatory_main
.hang:                                  ; purgatory_main never returns
    cli
    hlt
    jmp     .hang

extern charon_params
%ifdef CHARON_KERNEL_ABI
extern entry64_regs
%endif

; ---- the 32-bit entry's exception stubs and report -------------------------
; One IDT32_STUB-byte stub per vector: push the vector, jump to fault32.
; The NMI's returns at once, as the 64-bit one does (isr_stubs.asm).
bits 32
; [intel/vol3]: 6.15: the vectors for which the CPU pushes an error code.
%define ERROR_CODE_VECTORS ((1 << 8) | (0x1f << 10) | (1 << 17) | (1 << 21) | (1 << 29) | (1 << 30))
idt32_stubs:
%assign v 0
%rep 32
%if v == 2
    iretd
    times IDT32_STUB - 1 nop
%else
    push    byte v
    jmp     short fault32
%endif
%assign v v + 1
%endrep
%if $ - idt32_stubs != 32 * IDT32_STUB
%error "a 32-bit exception stub is not IDT32_STUB bytes"
%endif

; One line, "charon: exception vector V error E eip I in the 32-bit entry",
; on the consoles the block names (the C++ console is not set up yet),
; then halt. ebx = &charon_entry32 (common32 never changes it); the
; frame is on our stack: vector, [error code], EIP, CS, EFLAGS.
fault32:
    pop     edi                         ; vector
    xor     ebp, ebp                    ; error code, if the CPU pushed one
    mov     eax, ERROR_CODE_VECTORS
    bt      eax, edi
    jnc     .report
    pop     ebp
.report:
    lea     esi, [ebx + (msg_vector - charon_entry32)]
    call    puts32
    mov     eax, edi
    call    hex32
    lea     esi, [ebx + (msg_error - charon_entry32)]
    call    puts32
    mov     eax, ebp
    call    hex32
    lea     esi, [ebx + (msg_eip - charon_entry32)]
    call    puts32
    mov     eax, [esp]
    call    hex32
    lea     esi, [ebx + (msg_where - charon_entry32)]
    call    puts32
.hang:
    cli
    hlt
    jmp     .hang

; puts32: the NUL-terminated string at esi. Keeps every register but esi.
puts32:
    mov     al, [esi]
    test    al, al
    jz      .done
    call    putc32
    inc     esi
    jmp     puts32
.done:
    ret

; hex32: "0x" and eax in hex without leading zeros. Keeps ebx, esi, edi, ebp.
hex32:
    mov     edx, eax
    mov     al, '0'
    call    putc32
    mov     al, 'x'
    call    putc32
    mov     ecx, 28
.skip:
    mov     eax, edx
    shr     eax, cl
    test    al, 0xf
    jnz     .digit
    sub     ecx, 4
    jnz     .skip
.digit:
    mov     eax, edx
    shr     eax, cl
    and     al, 0xf
    add     al, '0'
    cmp     al, '9'
    jbe     .put
    add     al, 'a' - '9' - 1
.put:
    call    putc32
    sub     ecx, 4
    jns     .digit
    ret

; putc32: al to debugcon and the 8250, as the block says (setup_console's
; defaults: ports 0xe9 and 0x3f8; the UART keeps its divisor). Keeps
; every register.
putc32:
    push    esi
    push    edx
    push    ecx
    push    eax
    lea     esi, [ebx + (params_slot - charon_entry32)]
    add     esi, [esi]
    cmp     byte [esi + charon_params_console_debugcon], 0
    je      .serial
    mov     dx, [esi + charon_params_debugcon_port]
    test    dx, dx
    jnz     .debugcon
    mov     dx, 0xe9
.debugcon:
    mov     al, [esp]
    out     dx, al
.serial:
    cmp     byte [esi + charon_params_console_serial], 0
    je      .done
    mov     dx, [esi + charon_params_serial_base]
    test    dx, dx
    jnz     .uart
    mov     dx, 0x3f8
.uart:
    add     dx, 5                       ; LSR: wait for THRE, a bounded time
    mov     ecx, 100000
.poll:
    in      al, dx
    test    al, 0x20
    jnz     .ready
    dec     ecx
    jnz     .poll
.ready:
    sub     dx, 5
    mov     al, [esp]
    out     dx, al
.done:
    pop     eax
    pop     ecx
    pop     edx
    pop     esi
    ret

msg_vector: db "charon: exception vector ", 0
msg_error:  db " error ", 0
msg_eip:    db " eip ", 0
msg_where:  db " in the 32-bit entry", 10, 0

; ---- data the 32-bit code reaches relative to ebx -------------------------
align 8
farptr:             dd 0
                    dw 0
align 8
                    dw 0
idt32_ptr:          dw 32 * 8 - 1
                    dd 0
align 8
charon_entered_la57: dd 0
; PC-relative slots: 32-bit code reaches other sections through them.
boot_tables_slot:   dd charon_boot_tables - $
idt32_slot:         dd charon_idt32 - $
stack_slot:         dd charon_stack_top - $
params_slot:        dd charon_params - $
align 16
; [intel/vol3]: 3.4.5 segment descriptors. Flat 4 GiB, DPL 0. The
; selectors and descriptors are gdt.h's (x86.inc).
gdt64:
    dq 0                        ; 0x00 null
    dq DESC_CODE32              ; SEL_CODE32: 32-bit code (D=1), mode switches
    dq DESC_CODE64              ; SEL_CODE64: 64-bit code (L=1, D=0), __BOOT_CS
    dq DESC_DATA                ; SEL_DATA: data, read/write, __BOOT_DS
gdt64_end:
align 8
    dw 0, 0, 0                  ; so that the base below is 8-byte aligned
gdt64_ptr:
    dw gdt64_end - gdt64 - 1
    dq 0

; ---- memory that is never zeroed: stack and bootstrap tables -------------
section .noinit nobits alloc write align=4096
charon_boot_tables: resb BOOT_TABLE_PAGES * 4096
charon_idt32:       resb 32 * 8     ; the 32-bit entry's IDT
alignb 16
charon_stack:       resb 16384
charon_stack_top:
stack_end:
