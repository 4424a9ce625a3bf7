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
#define IA64_PSR_IC_BIT 13
#define IA64_PSR_I_BIT 14
#define IA64_PSR_DT_BIT 17
#define IA64_PSR_RT_BIT 27
#define IA64_PSR_IT_BIT 36
#define IA64_PSR_BN_BIT 44

/* ia64_dump_cpu_regs' buffer, in eight-byte words: r0-r31, b0-b7, then the
 * registers below. The routine stores them in exactly this order. */
#define IA64_DUMP_GR 0
#define IA64_DUMP_BR 32
#define IA64_DUMP_PR 40
#define IA64_DUMP_IP 41
#define IA64_DUMP_RSC 42
#define IA64_DUMP_BSP 43
#define IA64_DUMP_BSPSTORE 44
#define IA64_DUMP_RNAT 45
#define IA64_DUMP_UNAT 46
#define IA64_DUMP_FPSR 47
#define IA64_DUMP_PFS 48
#define IA64_DUMP_LC 49
#define IA64_DUMP_EC 50
#define IA64_DUMP_WORDS 51

#endif
