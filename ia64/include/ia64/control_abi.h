/* The ia64 control block's contract with its caller, shared by the
 * assembly (run through the C preprocessor) and the host C++ code, so that
 * no number is written down twice. Plain #defines only: this file is read
 * by GNU as after cpp, which knows no C++. */
#ifndef CHARON_IA64_CONTROL_ABI_H
#define CHARON_IA64_CONTROL_ABI_H

/* Linux include/linux/kexec.h: the flag bits of an indirection-list entry.
 * The rest of the entry is a page-aligned physical address. */
#define IA64_IND_DESTINATION 0x1
#define IA64_IND_INDIRECTION 0x2
#define IA64_IND_DONE 0x4
#define IA64_IND_SOURCE 0x8

/* relocate_new_kernel's purge block (argument 6): eight-byte words at these
 * offsets. The first five are what PAL_PTCE_INFO returns ([ia64/vol2]
 * 11.10, PAL_PTCE_INFO; the loop in [ia64/vol3] ptc.e); the rest name the
 * translation registers that the old kernel pinned (Linux pins its text
 * and data, PAL code and the current stack, arch/ia64/kernel/head.S). */
#define IA64_PURGE_PTCE_BASE 0
#define IA64_PURGE_PTCE_COUNT0 8
#define IA64_PURGE_PTCE_COUNT1 16
#define IA64_PURGE_PTCE_STRIDE0 24
#define IA64_PURGE_PTCE_STRIDE1 32
#define IA64_PURGE_KERNEL_TR_VA 40
#define IA64_PURGE_KERNEL_TR_LOG2 48
#define IA64_PURGE_GRANULE_LOG2 56
#define IA64_PURGE_STACK_TR_VA 64
#define IA64_PURGE_SIZE 72

/* Bytes below the top of the memory stack that sp starts at: the 16-byte
 * scratch area that the software conventions reserve above sp. */
#define IA64_STACK_SCRATCH 16

/* fc.i flushes at least 32 bytes, aligned on a 32-byte boundary ([ia64/vol3]
 * fc). Stepping by 32 therefore reaches every line on any implementation,
 * whatever its real line size. */
#define IA64_FC_STRIDE 32

/* PSR bits ([ia64/vol2] 3.3.2, Table 3-2). */
#define IA64_PSR_AC_BIT 3
#define IA64_PSR_MFL_BIT 4
#define IA64_PSR_MFH_BIT 5
#define IA64_PSR_IC_BIT 13
#define IA64_PSR_I_BIT 14
#define IA64_PSR_DT_BIT 17
#define IA64_PSR_RT_BIT 27
#define IA64_PSR_IT_BIT 36
#define IA64_PSR_BN_BIT 44

/* ia64_dump_cpu_regs' buffer is Linux's elf_gregset_t (arch/ia64/include/
 * asm/elf.h, ELF_*_OFFSET), the pr_reg of the NT_PRSTATUS note that crash
 * tools read: crash.c takes dst[43] as CFM and dst[46] as ar.bsp. Eight-byte
 * words. */
#define IA64_DUMP_GR 0   /* r0-r31 */
#define IA64_DUMP_NAT 32 /* bit N set: rN was NaT */
#define IA64_DUMP_PR 33
#define IA64_DUMP_BR 34 /* b0-b7 */
#define IA64_DUMP_IP 42
#define IA64_DUMP_CFM 43
#define IA64_DUMP_PSR 44
#define IA64_DUMP_RSC 45
#define IA64_DUMP_BSP 46
#define IA64_DUMP_BSPSTORE 47
#define IA64_DUMP_RNAT 48
#define IA64_DUMP_CCV 49
#define IA64_DUMP_UNAT 50
#define IA64_DUMP_FPSR 51
#define IA64_DUMP_PFS 52
#define IA64_DUMP_LC 53
#define IA64_DUMP_EC 54
#define IA64_DUMP_CSD 55
#define IA64_DUMP_SSD 56
#define IA64_DUMP_WORDS 57 /* ELF_AR_END_OFFSET / 8 */

/* kexec_fake_sal_rendez ends this many vectors in service before it
 * waits: at most one per priority class (vector bits 7:4) can be in
 * service at once, fifteen classes of external vectors plus ExtINT and
 * NMI ([ia64/vol2] External Interrupt Control Registers, cr.eoi). An EOI
 * with nothing in service changes nothing. */
#define IA64_RENDEZ_EOIS 17

#endif
