; The test payload's entry: one source, four images (payload.mk):
;   payload32.elf     ELF32, entered in 32-bit protected mode (elf-x86)
;   payload64.elf     ELF64, entered in 64-bit mode (elf-x86_64), -DBITS64
;   payload-mb1.elf   ELF32 with a multiboot v1 header, -DMB1
;   payload-mb2.elf   ELF32 with a multiboot2 header, -DMB2
; The entry records what it was handed before it touches anything, then
; runs report.cpp on a stack of its own. No constant is shared with charon:
; the headers' numbers are typed from the specifications here.
global payload_entry
extern payload_main
extern __bss_start, __bss_end

%ifdef BITS64
bits 64
%define PTR dq
%else
bits 32
%define PTR dd
%endif

section .head progbits alloc noexec nowrite align=8
%ifdef MB2
; Multiboot2 2.0, 3.1.1: magic, architecture 0 (i386 protected mode),
; header length, checksum; then tags. One information request (optional)
; and the end tag: the image is ELF, so no address or entry tag.
align 8
mb2_header:
    dd 0xe85250d6
    dd 0
    dd mb2_end - mb2_header
    dd -(0xe85250d6 + 0 + (mb2_end - mb2_header))
    dw 1, 1                 ; information request, optional
    dd 16
    dd 6, 4                 ; memory map, basic meminfo
    dw 0, 0                 ; end tag
    dd 8
mb2_end:
%endif
%ifdef MB1
; Multiboot 0.6.96, 3.1.1: magic, flags (0: page-align modules, 1: memory
; information), checksum. ELF image, so no address fields.
align 4
    dd 0x1badb002
    dd 3
    dd -(0x1badb002 + 3)
%endif

section .text
payload_entry:
%ifdef BITS64
    mov     [rel state + 0], rax
    mov     [rel state + 8], rbx
    mov     [rel state + 16], rdi
    mov     [rel state + 24], rsi
    mov     [rel state + 32], rsp
    mov     rax, cr0
    mov     [rel state + 40], rax
    mov     rax, cr4
    mov     [rel state + 48], rax
    lea     rsp, [rel stack_top]
    lea     rdi, [rel state]
    call    payload_main
%else
    mov     [state + 0], eax
    mov     [state + 4], ebx
    mov     [state + 8], esp
    ; The cdecl frame a stack-argument loader builds (kexec-tools'
    ; elf-x86: [esp] return address, [esp + 4] the ELF boot notes).
    ; Paging is off, so any ESP can be read.
    mov     eax, [esp]
    mov     [state + 12], eax
    mov     eax, [esp + 4]
    mov     [state + 16], eax
    mov     eax, cr0
    mov     [state + 20], eax
    mov     eax, cr4
    mov     [state + 24], eax
    mov     esp, stack_top
    push    state
    call    payload_main
%endif
.halt:
    cli
    hlt
    jmp     .halt

section .data
align 8
global state
state:  times 8 PTR 0

section .bss
align 16
    resb    16384
stack_top:
