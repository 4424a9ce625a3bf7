; harness_enter: leaves the harness's long mode and enters the target in
; the state entry_plan describes. Every path first drops to 32-bit
; protected mode with paging off ([intel/vol3] 10.8.5.4: compatibility
; mode, clear CR0.PG, clear EFER.LME); the 64-bit paths then re-enter long
; mode on the plan's transit tables, which may be 5-level.
%include "params.inc"
%include "enter.inc"

extern entry_plan, harness_gdt

section .text
bits 64
global harness_enter
harness_enter:
        cli
        push    SEL_CODE32
        push    .compat
        retfq
bits 32
.compat:
        mov     eax, cr0
        btr     eax, CR0_PG_BIT
        mov     cr0, eax
        mov     ecx, MSR_EFER
        rdmsr
        btr     eax, EFER_LME_BIT
        wrmsr
        xor     eax, eax
        mov     cr4, eax
        cmp     dword [entry_plan + P_MODE], MODE_PM32
        je      enter_pm32
        cmp     dword [entry_plan + P_MODE], MODE_DIRECT32
        je      enter_direct32
        ; Back to long mode; CR4.LA57 may only change with paging off.
        mov     eax, [entry_plan + P_TRANSIT_CR4]
        mov     cr4, eax
        mov     eax, [entry_plan + P_TRANSIT_CR3]
        mov     cr3, eax
        mov     ecx, MSR_EFER
        rdmsr
        bts     eax, EFER_LME_BIT
        wrmsr
        mov     eax, cr0
        bts     eax, CR0_PG_BIT
        mov     cr0, eax
        jmp     SEL_CODE64:.long
bits 64
.long:
        ; PCIDE needs long mode and CR3[11:0] = 0 ([intel/vol3] 4.10.1).
        mov     rcx, cr4
        or      rcx, [entry_plan + P_EXTRA_CR4]
        mov     cr4, rcx
        test    dword [entry_plan + P_FLAGS], F_SET_WP
        jz      .wp_ok
        mov     rcx, cr0
        bts     rcx, CR0_WP_BIT         ; [intel/vol3] 2.5
        mov     cr0, rcx
.wp_ok:
        cmp     dword [entry_plan + P_MODE], MODE_DIRECT64
        je      enter_direct64

        ; ---- Lm64: into the purgatory through the switch stub.
        test    dword [entry_plan + P_FLAGS], F_GARBAGE_IDTR
        jz      .idt_ok
        lidt    [garbage_pseudo]
.idt_ok:
        LOAD_PLAN_GPRS
        mov     rax, [entry_plan + P_TARGET]
        mov     rdx, [entry_plan + P_TARGET_CR3]
        test    dword [entry_plan + P_FLAGS], F_SET_DF
        jz      .df_ok
        std
.df_ok: test    dword [entry_plan + P_FLAGS], F_SET_IF
        jz      .if_ok
        sti                             ; the 8259s are masked: nothing arrives
.if_ok: test    dword [entry_plan + P_FLAGS], F_GARBAGE_GDTR
        jz      .gdt_ok
        lgdt    [garbage_pseudo]        ; loaded segments keep their cached bases
.gdt_ok:
        mov     rsp, [R(rsp)]
        jmp     switch_stub

; ---- Direct64: a reference 64-bit handoff straight to the probe, on the
; harness's identity map and GDT (already 0x10 code, 0x18 data).
enter_direct64:
        mov     eax, SEL_DATA
        mov     ds, eax
        mov     es, eax
        mov     ss, eax
        mov     fs, eax
        mov     gs, eax
        lidt    [zero_pseudo]
        mov     eax, 2
        test    dword [entry_plan + P_FLAGS], F_SET_DF
        jz      .flags
        or      eax, 1 << 10
.flags: push    rax
        popfq
        mov     rax, [R(rax)]
        mov     rdx, [R(rdx)]
        LOAD_PLAN_GPRS
        mov     rsp, [R(rsp)]
        jmp     [entry_plan + P_TARGET]

bits 32
; ---- Pm32: 32-bit protected mode, paging off, the plan's garbage GPRs
; except EAX = the entry address: 32-bit code has no RIP-relative
; addressing and no stack to call/pop with, so purgatory.bin's entry32
; takes its own address in EAX (x86_64/purgatory/entry.asm).
enter_pm32:
        LOAD_PLAN_GPRS32
        mov     eax, [entry_plan + P_TARGET]
        test    dword [entry_plan + P_FLAGS], F_ENTRY_IN_EBP
        jz      .ebp_ok
        mov     ebp, eax
        xor     eax, eax
.ebp_ok:
        test    dword [entry_plan + P_FLAGS], F_SET_DF
        jz      .df_ok
        std
.df_ok: test    eax, eax
        jz      .via_ebp
        jmp     eax
.via_ebp:
        jmp     ebp

; ---- Direct32: a reference 32-bit handoff (boot.rst: 0x10 flat code,
; 0x18 flat data) straight to the probe.
enter_direct32:
        lgdt    [gdt32_ptr]
        jmp     BOOT_CS:.cs_ok
.cs_ok: mov     eax, BOOT_DS
        mov     ds, eax
        mov     es, eax
        mov     ss, eax
        mov     fs, eax
        mov     gs, eax
        mov     eax, 2
        test    dword [entry_plan + P_FLAGS], F_SET_DF
        jz      .flags
        or      eax, 1 << 10
.flags: push    eax
        popfd
load32_and_go:
        mov     eax, [R(rax)]
        LOAD_PLAN_GPRS32
        jmp     [entry_plan + P_TARGET]

; The only harness page that the lm64-purgonly tables map besides the
; purgatory: the CR3 switch and the jump must execute from a page that is
; mapped both before and after `mov cr3`.
section .stub progbits alloc exec align=4096
bits 64
global switch_stub
switch_stub:
        mov     cr3, rdx
        jmp     rax

section .data
align 16
garbage_pseudo:                         ; a GDTR/IDTR that points nowhere useful
        dw      0x0007
        dq      0xdead0000beef0000
zero_pseudo:                            ; boot.rst handoff: no IDT
        dw      0
        dq      0
gdt32:  dq      0
        dq      DESC_CODE32
        dq      DESC_CODE32             ; BOOT_CS: flat 32-bit code
        dq      DESC_DATA               ; BOOT_DS: flat data
gdt32_ptr:
        dw      gdt32_ptr - gdt32 - 1
        dd      gdt32
