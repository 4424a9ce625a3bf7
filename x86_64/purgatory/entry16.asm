; The real-mode handoff (generic16, and kexec-tools' --real-mode through
; the same symbols: kexec/arch/i386/kexec-bzImage.c do_bzImage_load).
;
; entry16 and entry16_debug are 32-bit entries: protected mode, paging
; off, interrupts off, DS and ES flat, EAX = the entry's own address (as for
; charon_entry32: 32-bit code has no PC-relative addressing).
; purgatory_main reaches them through charon_handoff32, which gives just
; that. Each drops to real mode, loads its register set from the block
; (entry16: regs16 = entry16_regs; entry16_debug: regs16_debug =
; entry16_debug_regs) and jumps to its cs:ip with IF = 0, IDTR = 0/0x3ff
; (the real-mode IVT), CR0.PE = PG = 0, CR4 = EFER = 0, and 64 KiB
; segment limits (README, "The generic16 handoff").
;
; Everything the real-mode code touches lies in this one section, within
; 64 KiB of `base16`, which is 16-byte aligned: real mode reaches it as
; segment base16 >> 4. purgatory_main refuses to come here unless
; [base16, charon_tail16_end) lies below 1 MiB (real_mode_reachable).
;
; kexec-tools --real-mode --debug also hooks the setup code (boot.rst,
; "ADVANCED BOOT LOADER HOOKS"): realmode_swtch = (entry16_debug >> 4):
; (entry16_debug_pre32 - entry16_debug), and code32_start =
; entry16_debug_first32. Hence entry16_debug is base16 itself.
%include "params.inc"
%include "arch.inc"

global entry16, entry16_debug, entry16_debug_pre32, entry16_debug_first32
global charon_tail16_end

%define SEL_CODE16 0x08
%define SEL_DATA16 0x10
%define CON_SERIAL 1
%define CON_DEBUGCON 2
; R(x): base16-relative offset of x, what real mode and the 32-bit code
; (ebx = base16) both address by.
%define R(x) ((x) - base16)

section .text.entry16 progbits alloc exec write align=16
bits 32
base16:
; ---- entry16_debug: EAX = &entry16_debug ---------------------------------
entry16_debug:
    cli
    cld
    mov     ebx, eax
    mov     edx, charon_params_regs16_debug
    mov     byte [ebx + R(debug_flag)], 1
    jmp     common16

align 16
; ---- entry16: EAX = &entry16 ---------------------------------------------
entry16:
    cli
    cld
    lea     ebx, [eax - R(entry16)]
    mov     edx, charon_params_regs16
    mov     byte [ebx + R(debug_flag)], 0

; ---- the shared way down; ebx = base16, edx = the register set's offset --
common16:
    ; The register set and the console settings next to the real-mode
    ; code, which can reach nothing else (the block may lie beyond 64 KiB).
    lea     esi, [ebx + R(params_slot)]
    add     esi, [esi]
    movzx   eax, byte [esi + charon_params_console_serial]
    test    eax, eax
    setnz   al
    cmp     byte [esi + charon_params_console_debugcon], 0
    je      .no_debugcon
    or      al, CON_DEBUGCON
.no_debugcon:
    mov     [ebx + R(con_flags)], al
    mov     ax, [esi + charon_params_serial_base]
    test    ax, ax
    jnz     .serial_set
    mov     ax, 0x3f8
.serial_set:
    mov     [ebx + R(con_serial)], ax
    mov     ax, [esi + charon_params_debugcon_port]
    test    ax, ax
    jnz     .debugcon_set
    mov     ax, 0xe9
.debugcon_set:
    mov     [ebx + R(con_debugcon)], ax
    add     esi, edx
    lea     edi, [ebx + R(regs_copy)]
    mov     ecx, charon_regs16_size / 4
    rep movsd

    ; CR4 and EFER to 0 (paging is off, so both may change). [intel/vol3]:
    ; 2.5, 2.2.1.
    xor     eax, eax
    mov     cr4, eax
    mov     ecx, MSR_EFER
    xor     edx, edx
    wrmsr

    ; The 16-bit GDT: code based at base16, data based at 0, both with
    ; 64 KiB limits, which real mode keeps ([intel/vol3]: 10.9.2, steps
    ; 3-4); the far pointers into 16-bit protected mode and into real mode.
    mov     eax, ebx
    shl     eax, 16
    or      eax, 0xffff
    mov     [ebx + R(gdt16) + SEL_CODE16], eax
    mov     eax, ebx
    shr     eax, 16
    and     eax, 0xff
    mov     ecx, ebx
    and     ecx, 0xff000000
    or      eax, ecx
    or      eax, (DESC_CODE16 >> 32)
    mov     [ebx + R(gdt16) + SEL_CODE16 + 4], eax
    lea     eax, [ebx + R(gdt16)]
    mov     [ebx + R(gdtr16) + 2], eax
    mov     dword [ebx + R(farptr16)], R(pm16)
    mov     word [ebx + R(farptr16) + 4], SEL_CODE16
    mov     eax, ebx
    shr     eax, 4
    mov     [ebx + R(rmptr) + 2], ax

    ; The real-mode IVT at 0 and the 16-bit segments; DS stays flat until
    ; the far jump has read its pointer through it.
    lidt    [ebx + R(idtr16)]
    lgdt    [ebx + R(gdtr16)]
    mov     eax, SEL_DATA16
    mov     es, eax
    mov     fs, eax
    mov     gs, eax
    mov     ss, eax
    jmp     far [ebx + R(farptr16)]

bits 16
pm16:
    ; 16-bit protected mode: DS gets its 64 KiB limit too, then PE off and
    ; a far jump that loads CS the real-mode way. [intel/vol3]: 10.9.2.
    mov     ax, SEL_DATA16
    mov     ds, ax
    mov     eax, cr0
    and     eax, ~(CR0_PE | CR0_PG)
    mov     cr0, eax
    jmp     far [cs:R(rmptr)]

rm16:
    ; Real mode, CS = base16 >> 4. Our few bytes of stack go over gdt16,
    ; which nothing reads any more.
    mov     ax, cs
    mov     ds, ax
    mov     ss, ax
    mov     sp, R(gdt16_end)
    cmp     byte [R(debug_flag)], 0
    je      .load
    mov     si, R(msg_entry16_debug)
    call    puts16
.load:
    ; EFLAGS = 0x2 (IF = DF = 0) on our stack, then only MOVs and the jump.
    push    dword 2
    popfd
    ; The register set, DS last: every load before it reads through it.
    mov     eax, [R(regs_copy) + charon_regs16_eax]
    mov     ebx, [R(regs_copy) + charon_regs16_ebx]
    mov     ecx, [R(regs_copy) + charon_regs16_ecx]
    mov     edx, [R(regs_copy) + charon_regs16_edx]
    mov     esi, [R(regs_copy) + charon_regs16_esi]
    mov     edi, [R(regs_copy) + charon_regs16_edi]
    mov     ebp, [R(regs_copy) + charon_regs16_ebp]
    mov     es, [R(regs_copy) + charon_regs16_es]
    mov     fs, [R(regs_copy) + charon_regs16_fs]
    mov     gs, [R(regs_copy) + charon_regs16_gs]
    mov     ss, [R(regs_copy) + charon_regs16_ss]
    mov     esp, [R(regs_copy) + charon_regs16_esp]
    mov     ds, [R(regs_copy) + charon_regs16_ds]
    jmp     far [cs:R(regs_copy) + charon_regs16_ip]

; ---- entry16_debug_pre32: the setup code's realmode_swtch hook ------------
; A far call from real mode with CS = base16 >> 4, right before the setup
; code enters protected mode; boot.rst asks it to turn interrupts and the
; NMI off. Linux's caller (arch/x86/boot/pm.c) lets it clobber EAX-EDX
; only; everything else is kept.
entry16_debug_pre32:
    cli
    push    ds
    push    si
    push    ax
    mov     ax, cs
    mov     ds, ax
    mov     si, R(msg_pre32)
    call    puts16
    mov     al, 0x80                ; CMOS index port, bit 7: NMI off
    out     0x70, al
    pop     ax
    pop     si
    pop     ds
    retf

; puts16: the NUL-terminated string at ds:si (ds = base16 >> 4). Keeps
; every register but si.
puts16:
    push    ax
.next:
    lodsb
    test    al, al
    jz      .done
    call    putc16
    jmp     .next
.done:
    pop     ax
    ret

; putc16: al on the consoles con_flags names; the UART's wait for THRE is
; bounded. Keeps every register.
putc16:
    push    dx
    push    cx
    push    ax
    test    byte [cs:R(con_flags)], CON_DEBUGCON
    jz      .serial
    mov     dx, [cs:R(con_debugcon)]
    out     dx, al
.serial:
    test    byte [cs:R(con_flags)], CON_SERIAL
    jz      .done
    mov     dx, [cs:R(con_serial)]
    add     dx, 5                   ; LSR
    mov     cx, 0xffff
.poll:
    in      al, dx
    test    al, 0x20
    jnz     .ready
    loop    .poll
.ready:
    sub     dx, 5
    pop     ax
    push    ax
    out     dx, al
.done:
    pop     ax
    pop     cx
    pop     dx
    ret

bits 32
; ---- entry16_debug_first32: the setup code's code32_start hook ------------
; Entered as the kernel's 32-bit entry would be (boot.rst: flat CS and DS,
; ESI = boot_params, a usable stack): prints its line and goes on to
; entry16_debug_old_first32 with every register and flag as it came.
entry16_debug_first32:
    sub     esp, 4                  ; the target's slot, for the final ret
    pushfd
    pushad
    cld
    call    .here
.here:
    pop     ebx
    sub     ebx, R(.here)
    lea     esi, [ebx + R(msg_first32)]
    call    puts32
    lea     esi, [ebx + R(params_slot)]
    add     esi, [esi]
    mov     eax, [esi + charon_params_entry16_debug_old_first32]
    mov     [esp + 36], eax
    popad
    popfd
    ret

; puts32: the string at esi, ebx = base16. Keeps every register but esi.
puts32:
    push    eax
.next:
    lodsb
    test    al, al
    jz      .done
    call    putc32
    jmp     .next
.done:
    pop     eax
    ret

; putc32: putc16's twin for 32-bit code. Keeps every register.
putc32:
    push    edx
    push    ecx
    push    eax
    test    byte [ebx + R(con_flags)], CON_DEBUGCON
    jz      .serial
    mov     dx, [ebx + R(con_debugcon)]
    out     dx, al
.serial:
    test    byte [ebx + R(con_flags)], CON_SERIAL
    jz      .done
    mov     dx, [ebx + R(con_serial)]
    add     dx, 5
    mov     ecx, 0xffff
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
    ret

msg_entry16_debug: db "charon: entry16_debug in real mode", 10, 0
msg_pre32:         db "charon: entry16_debug_pre32", 10, 0
msg_first32:       db "charon: entry16_debug_first32", 10, 0

; ---- data the real-mode code reads (base16-relative) ----------------------
align 4
params_slot:    dd charon_params - $    ; PC-relative: 32-bit code reaches the block
align 8
; [intel/vol3]: 3.4.5. Null, 16-bit code (base patched), 16-bit data.
; In real mode our few bytes of stack (at most 12) grow over it.
gdt16:
    dq 0
    dq DESC_CODE16
    dq DESC_DATA16
gdt16_end:
align 8
    dw 0, 0, 0
gdtr16:
    dw gdt16_end - gdt16 - 1
    dd 0
align 8
    dw 0, 0, 0
idtr16:                                 ; the real-mode IVT: 256 vectors at 0
    dw 0x3ff
    dd 0
align 8
farptr16:   dd 0                        ; m16:32 into 16-bit protected mode
            dw 0
align 4
rmptr:      dw R(rm16), 0               ; m16:16 into real mode
regs_copy:  times charon_regs16_size db 0
con_serial:     dw 0
con_debugcon:   dw 0
con_flags:      db 0
debug_flag:     db 0
charon_tail16_end:

%if R(charon_tail16_end) > 0x10000
%error "the real-mode tail exceeds one 64 KiB segment"
%endif

extern charon_params
