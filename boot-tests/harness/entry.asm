; The harness's boot: a multiboot v1 kernel (QEMU -kernel) that goes to
; long mode on its own identity map and calls harness_main(mbi).
;
; QEMU's multiboot loader refuses 64-bit ELF files, so the image is flat
; and uses the header's address fields (multiboot spec 3.1.3, flag 16,
; the "a.out kludge"): load address, end of file, end of bss, entry.
%include "identity_8g.inc"
%include "params.inc"
%include "enter.inc"

%define MB_MAGIC 0x1badb002
%define MB_FLAGS 0x00010003             ; page-aligned modules, memory info, address fields
%define MB_BOOT_MAGIC 0x2badb002        ; EAX at entry (multiboot spec 3.2)

extern harness_main
extern __harness_start, __harness_file_end, __harness_mem_end

section .multiboot progbits alloc
align 4
global mb_header
mb_header:
        dd      MB_MAGIC
        dd      MB_FLAGS
        dd      -(MB_MAGIC + MB_FLAGS)
        dd      mb_header               ; header_addr
        dd      __harness_start         ; load_addr
        dd      __harness_file_end      ; load_end_addr
        dd      __harness_mem_end       ; bss_end_addr: the loader zeroes up to here
        dd      harness_start32         ; entry_addr

section .text
bits 32
global harness_start32
harness_start32:
        ; Multiboot hands over 32-bit protected mode, paging off, EBX = the
        ; info structure, and no stack and no GDT we may keep.
        cli
        cld
        cmp     eax, MB_BOOT_MAGIC
        jne     .stop
        mov     [mbi_addr], ebx
        mov     esp, stack_top
        lgdt    [gdt_ptr]
        jmp     SEL_CODE32:.flat
.flat:  mov     eax, SEL_DATA
        mov     ds, eax
        mov     es, eax
        mov     ss, eax
        mov     fs, eax
        mov     gs, eax
        ; [intel/vol3] 10.8.5: CR4.PAE, CR3, EFER.LME, then CR0.PG.
        mov     eax, CR4_PAE
        mov     cr4, eax
        mov     eax, harness_pml4
        mov     cr3, eax
        mov     ecx, MSR_EFER
        rdmsr
        bts     eax, EFER_LME_BIT
        wrmsr
        mov     eax, cr0
        or      eax, CR0_PG | CR0_PE
        mov     cr0, eax
        jmp     SEL_CODE64:long_start
.stop:  hlt
        jmp     .stop

bits 64
long_start:
        mov     rsp, stack_top
        mov     edi, [mbi_addr]
        call    harness_main
.halt:  cli
        hlt
        jmp     .halt

section .data
mbi_addr: dd 0
align 16
global harness_gdt
harness_gdt:
        dq      0
        dq      DESC_CODE32             ; SEL_CODE32: flat 32-bit code
        dq      DESC_CODE64             ; SEL_CODE64: 64-bit code
        dq      DESC_DATA               ; SEL_DATA: flat data
gdt_ptr:
        dw      gdt_ptr - harness_gdt - 1
        dq      harness_gdt

; [0, 8 GiB) 1:1 in 2 MiB pages, supervisor and writable (so SMEP and SMAP
; may be on); 8 GiB so that a purgatory loaded above 4 GiB is reachable.
; Never 1 GiB pages: the no1g CPU lacks them. harness_pml5 puts the same
; PML4 under a fifth level for the LA57 entry.
align 4096
global harness_pml5, harness_pml4, harness_pdpt
IDENTITY_8G harness_pml5, harness_pml4, harness_pdpt, harness_pd

section .bss
align 16
        resb    64 * 1024
global stack_top
stack_top:
