; The probe's real-mode entry, for generic16 and kexec-tools' --real-mode.
;
; probe_rm_stub is position-independent 16-bit code that the harness
; copies below 1 MiB (probe::kRmStubAddr) and names as regs16's cs:ip.
; It records what it was handed into its own copy of probe::Saved (every
; access is CS-relative: no other segment register is ours to use), proves
; that it runs in real mode (CS - 1 in ES reads the same byte 16 bytes
; on), optionally far-calls a realmode_swtch hook as a Linux setup code
; does, then returns to 32-bit protected mode on a GDT of its own (0x10
; flat code, 0x18 flat data, boot.rst's) and jumps to the header's target:
; probe_entry16_pm in the probe image, or a code32_start hook that must
; come back there with ESI, EDI, EBP and EBX kept.
; probe_entry16_pm copies the record into `saved` and joins the 32-bit
; entry's way to long mode and the checker.
%include "saved.inc"

%define MSR_EFER 0xc0000080
; Values the code32_start hook must hand back unchanged.
%define KEEP_EDI 0x0d15ea5e
%define KEEP_EBP 0xb01dface
%define KEEP_EBX 0x5eed1e55
; RS(x): offset of x from CS's base. The harness enters the stub through a
; segment RM_CS_BIAS bytes below the stub (cs = (stub - 0x100) >> 4, ip =
; 0x100 + RM_HDR_ENTRY), so a purgatory that loaded another cs, or ignored
; ip, lands elsewhere and every record below misses its place.
%define RS(x) ((x) - probe_rm_stub + RM_CS_BIAS)
; SO(x): offset of x in the stub itself.
%define SO(x) ((x) - probe_rm_stub)

extern saved, probe_to_long32
global probe_rm_stub, probe_rm_stub_size, probe_entry16_pm

section .text.rm16 progbits alloc exec write align=16
bits 16
probe_rm_stub:
hdr_hook_ip:    dw 0                    ; probe::RmStubHeader
hdr_hook_cs:    dw 0
hdr_pm_target:  dd 0
                dw 0x10
                dw 0
%if SO($) != RM_HDR_ENTRY
%error "RmStubHeader size"
%endif
rm_entry:
        ; Nothing before these stores may change a register or the flags.
        mov     [cs:RS(saved16) + S_RAX], eax
        mov     [cs:RS(saved16) + S_RBX], ebx
        mov     [cs:RS(saved16) + S_RCX], ecx
        mov     [cs:RS(saved16) + S_RDX], edx
        mov     [cs:RS(saved16) + S_RSI], esi
        mov     [cs:RS(saved16) + S_RDI], edi
        mov     [cs:RS(saved16) + S_RSP], esp
        mov     [cs:RS(saved16) + S_RBP], ebp
        mov     [cs:RS(saved16) + S_CS], cs
        mov     [cs:RS(saved16) + S_DS], ds
        mov     [cs:RS(saved16) + S_ES], es
        mov     [cs:RS(saved16) + S_SS], ss
        mov     [cs:RS(saved16) + S_FS], fs
        mov     [cs:RS(saved16) + S_GS], gs
        ; EFLAGS through the handed stack (ss:sp must be usable memory).
        pushfd
        pop     dword [cs:RS(saved16) + S_RFLAGS]
        mov     eax, cr0
        mov     [cs:RS(saved16) + S_CR0], eax
        mov     eax, cr3
        mov     [cs:RS(saved16) + S_CR3], eax
        mov     eax, cr4
        mov     [cs:RS(saved16) + S_CR4], eax
        mov     ecx, MSR_EFER
        rdmsr
        mov     [cs:RS(saved16) + S_EFER], eax
        mov     [cs:RS(saved16) + S_EFER + 4], edx
        o32 sgdt [cs:RS(saved16) + S_GDTR]
        o32 sidt [cs:RS(saved16) + S_IDTR]
        ; Real-mode addressing: segment * 16 + offset. In protected mode
        ; CS - 1 would be a selector, not the same memory 16 bytes lower.
        mov     ax, cs
        dec     ax
        mov     es, ax
        mov     eax, [es:RS(marker) + 16]
        xor     edx, edx
        cmp     eax, [cs:RS(marker)]
        jne     .arith_done
        inc     edx
.arith_done:
        mov     [cs:RS(saved16) + S_RM_ARITH], edx
        ; The realmode_swtch hook (boot.rst): a far call right before the
        ; switch to protected mode.
        cmp     word [cs:RS(hdr_hook_cs)], 0
        je      .no_hook
        call    far [cs:RS(hdr_hook_ip)]
        mov     dword [cs:RS(saved16) + S_HOOK_CALLED], 1
        pushfd
        pop     dword [cs:RS(saved16) + S_HOOK_RFLAGS]
.no_hook:
        ; Back to 32-bit protected mode, the way a setup code goes to
        ; code32_start: our GDT, PE, flat data, a stack, a far jump.
        cli
        xor     esi, esi
        mov     si, cs
        shl     esi, 4                  ; CS's base: the stub - RM_CS_BIAS
        lea     eax, [esi + RS(gdt)]
        mov     [cs:RS(gdtr) + 2], eax
        o32 lgdt [cs:RS(gdtr)]
        mov     eax, cr0
        or      al, 1
        mov     cr0, eax
        mov     ax, 0x18
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     fs, ax
        mov     gs, ax
        lea     esp, [esi + RS(stack_top)]
        mov     edi, KEEP_EDI
        mov     ebp, KEEP_EBP
        mov     ebx, KEEP_EBX
        o32 jmp far [cs:RS(hdr_pm_target)]

align 4
marker:         dd 0x4c414552           ; "REAL"
align 8
gdt:            dq 0
                dq 0
                dq 0x00cf9a000000ffff   ; 0x10: flat 32-bit code
                dq 0x00cf92000000ffff   ; 0x18: flat data
gdt_end:
align 4
                dw 0
gdtr:           dw gdt_end - gdt - 1
                dd 0
align 16
saved16:        times SAVED_SIZE db 0
align 16
                times 256 db 0
stack_top:
probe_rm_stub_end:
probe_rm_stub_size equ probe_rm_stub_end - probe_rm_stub

; ---- back in the probe image: 32-bit, flat, ESI = CS's base in the stub ---
bits 32
probe_entry16_pm:
        ; The code32_start hook (when there was one) must have kept these.
        xor     edx, edx
        cmp     esi, RM_STUB_ADDR - RM_CS_BIAS
        jne     .kept
        cmp     edi, KEEP_EDI
        jne     .kept
        cmp     ebp, KEEP_EBP
        jne     .kept
        cmp     ebx, KEEP_EBX
        jne     .kept
        inc     edx
.kept:
        cld
        mov     esi, RM_STUB_ADDR + SO(saved16)
        mov     edi, saved
        mov     ecx, SAVED_SIZE / 4
        rep movsd
        mov     [saved + S_FIRST32_KEPT], edx
        mov     dword [saved + S_ENTRY], 16
        jmp     probe_to_long32
