; The parameter block, laid out from params.inc (generated from
; common/include/charon/params.h), in .data so that loaders patching by
; symbol find it in a PROGBITS section (kexec-tools refuses .bss).
;
; `charon_params` names the whole block. The kexec-tools x86_64 names
; alias single fields with kexec-tools' sizes, so a loader written for
; kexec-tools' purgatory patches ours unchanged.
;
; Assembled with -DCHARON_KERNEL_ABI, it is the kernel flavour
; (purgatory-linux.ro), the purgatory that the Linux kernel's
; kexec_file_load loads and patches by name (kernel/kexec_file.c
; kexec_calculate_store_digests, arch/x86/kernel/kexec-bzimage64.c
; bzImage64_load). Then it exports the kernel's names instead:
;   purgatory_sha_regions   = the block's regions (16 x {start, len})
;   purgatory_sha256_digest = the block's digest
;   entry64_regs            = struct charon_kernel_regs64, the kernel's
;                             struct kexec_entry64_regs order (rax, rcx,
;                             rdx, rbx, rsp, rbp, rsi, rdi, ...), its own
;                             136 bytes right after the block, NOT the
;                             block's regs64 (kexec-tools' order). The
;                             kernel's st_size check cannot tell the two
;                             apart; entry.asm copies it into regs64.
; and none of kexec-tools' names, so that no loader patches the wrong
; order by the right name. stack_end (entry.asm) is the same in both.
%include "params.inc"

; FIELD name, offset, size: a global data symbol with its ELF size.
%macro FIELD 3
    global %1:data %3
    %1 equ charon_params + %2
%endmacro

; AT off: pad with zeros up to `off` bytes into the block.
%macro AT 1
    times (%1) - ($ - charon_params) db 0
%endmacro

section .data.params progbits alloc write noexec align=64
global charon_params:data CHARON_PARAMS_BYTES
; Defaults are what kexec-tools' purgatory does when a loader patches only
; kexec-tools' names: generic64 through entry64_regs (handoff 0), serial
; base 0x3f8, no console. charon's own defaults: map [0, 4 GiB) and use
; the built-in scratch area.
charon_params:
AT charon_params_magic
    dd CHARON_PARAMS_MAGIC
AT charon_params_version
    dw CHARON_PARAMS_VERSION
AT charon_params_size
    dw CHARON_PARAMS_BYTES
AT charon_params_handoff
    dd CHARON_HANDOFF_GENERIC64
AT charon_params_serial_base
    dw 0x3f8
AT charon_params_debugcon_port
    dw 0xe9
%ifdef CHARON_KERNEL_ABI
; The kernel patches no console field. Print on the 8250 at 0x3f8 with
; the divisor the old kernel left (serial_baud 0): a kexec_file_load user
; then sees `charon:` lines on the serial console the old kernel used
; (its baud, not one we guess). A machine without a UART there loses
; nothing: the port reads 0xff, THRE set, and the wait for THRE is
; bounded anyway (uart8250.cpp).
AT charon_params_console_serial
    db 1
%endif
AT charon_params_idmap_limit
    dq 0x100000000
AT CHARON_PARAMS_BYTES

%ifdef CHARON_KERNEL_ABI
; The kernel's entry64_regs, all zero until kexec_file_load fills it
; (rbx = 0, rsi = boot_params, rsp = stack_end, rip = kernel + 0x200).
; entry.asm takes it into the block's regs64 when its rip is set.
global entry64_regs:data charon_kernel_regs64_size
entry64_regs:
    times charon_kernel_regs64_size db 0

FIELD purgatory_sha_regions,   charon_params_regions, charon_params_regions_size
FIELD purgatory_sha256_digest, charon_params_digest,  charon_params_digest_size
%else
FIELD sha256_regions,   charon_params_regions,         charon_params_regions_size
FIELD sha256_digest,    charon_params_digest,          charon_params_digest_size
FIELD backup_start,     charon_params_backup_dst,      charon_params_backup_dst_size
FIELD backup_src_start, charon_params_backup_src,      charon_params_backup_src_size
FIELD backup_src_size,  charon_params_backup_size,     charon_params_backup_size_size
FIELD entry64_regs,     charon_params_regs64,          charon_params_regs64_size
FIELD entry32_regs,     charon_params_regs32,          charon_params_regs32_size
FIELD stack_arg32_1,    charon_params_stack_arg32_1,   charon_params_stack_arg32_1_size
FIELD stack_arg32_2,    charon_params_stack_arg32_2,   charon_params_stack_arg32_2_size
FIELD skip_checks,      charon_params_skip_checks,     charon_params_skip_checks_size
FIELD jump_back_entry,  charon_params_jump_back_entry, charon_params_jump_back_entry_size
FIELD cmdline_end,      charon_params_cmdline_end,     charon_params_cmdline_end_size
FIELD serial_baud,      charon_params_serial_baud,     charon_params_serial_baud_size
FIELD serial_base,      charon_params_serial_base,     charon_params_serial_base_size
FIELD console_serial,   charon_params_console_serial,  charon_params_console_serial_size
FIELD console_vga,      charon_params_console_vga,     charon_params_console_vga_size
FIELD reset_vga,        charon_params_reset_vga,       charon_params_reset_vga_size
FIELD panic_kernel,     charon_params_panic_kernel,    charon_params_panic_kernel_size
FIELD legacy_pic,       charon_params_legacy_pic,      charon_params_legacy_pic_size
; --real-mode (kexec/arch/i386/kexec-bzImage.c): two register sets, each
; read only by its own entry (entry16.asm), and the debug hook's target.
FIELD entry16_regs,       charon_params_regs16,       charon_params_regs16_size
FIELD entry16_debug_regs, charon_params_regs16_debug, charon_params_regs16_debug_size
FIELD entry16_debug_old_first32, charon_params_entry16_debug_old_first32, \
      charon_params_entry16_debug_old_first32_size
%endif
