/* charon's parameter block: the one ABI between a loader and the purgatory.
 *
 * C-compatible (C99 and C++20), little-endian, naturally aligned, no
 * padding the compiler chooses on its own. nasm lays the block out from
 * build/gen/params.inc, which gen_params.cpp prints from this definition,
 * so no offset is ever typed twice.
 *
 * purgatory.ro exports the whole block as `charon_params`, and every field
 * that kexec-tools' x86_64 loader patches under the name it uses
 * (sha256_regions, entry64_regs, ...), with the same size. purgatory.bin
 * gives the block's offset in its header (charon_bin_header below).
 *
 * Every field is documented in README.md, section "The parameter block".
 */
#ifndef CHARON_PARAMS_H
#define CHARON_PARAMS_H

#include <stdint.h>

#define CHARON_PARAMS_MAGIC 0x4e524843u /* "CHRN" little-endian */
#define CHARON_PARAMS_VERSION 3u
#define CHARON_MAX_REGIONS 16 /* kexec-tools' SHA256_REGIONS */
#define CHARON_MAX_MAP_RANGES 8
#define CHARON_MAX_MEMORY_RANGES 32
#define CHARON_BACKUP_DEFAULT_SIZE (640u * 1024u) /* [0, 640 KiB) */

/* How the purgatory leaves. Generic64 is the default because it is what
 * kexec-tools' x86_64 loader expects: it fills entry64_regs and nothing
 * else. */
#define CHARON_HANDOFF_GENERIC64 0u /* load regs64 exactly, CS=0x10, paging on */
#define CHARON_HANDOFF_LINUX64 1u   /* boot.rst 64-bit: RSI=boot_params, jump kernel_entry */
#define CHARON_HANDOFF_LINUX32 2u   /* boot.rst 32-bit: ESI=boot_params, paging off */
#define CHARON_HANDOFF_GENERIC32 3u /* load regs32 exactly, paging off */
#define CHARON_HANDOFF_GENERIC16 4u /* real mode: regs16 exactly, jump cs:ip (entry16) */
#define CHARON_HANDOFF_COUNT 5u

/* flags */
#define CHARON_F_SCALAR_ONLY 0x1u      /* never use SHA-NI (and never enable SSE) */
#define CHARON_F_HALT_BEFORE_JUMP 0x2u /* verify and prepare, then halt: a loader self-test */
#define CHARON_F_FAULT_TEST 0x4u   /* execute ud2 once the IDT is in: proves the exception report */
#define CHARON_F_FAULT_TEST32 0x8u /* the same in the 32-bit entry, before long mode */

struct charon_region { /* == kexec-tools' struct sha256_region */
  uint64_t start;
  uint64_t len;
};

struct charon_regs64 { /* == kexec-tools' struct entry64_regs */
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip;
};

/* The kernel-ABI flavour (purgatory-linux.ro) only: the register set in
 * the order of the Linux kernel's struct kexec_entry64_regs
 * (arch/x86/include/asm/kexec.h), which kexec_file_load patches as
 * `entry64_regs`. Same name and size as kexec-tools' entry64_regs, other
 * order. It is not part of charon_params: that flavour places it right
 * after the block and converts it into regs64 on entry (README, "The
 * kernel flavour"). */
struct charon_kernel_regs64 {
  uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip;
};

struct charon_regs32 { /* == kexec-tools' struct entry32_regs */
  uint32_t eax, ebx, ecx, edx, esi, edi, esp, ebp;
  uint32_t eip;
};

/* == kexec-tools' struct entry16_regs: the real-mode register set that
 * entry16 loads before it jumps to cs:ip. ip and cs in this order are a
 * real-mode far pointer (offset, then segment). */
struct charon_regs16 {
  uint32_t eax, ebx, ecx, edx, esi, edi, esp, ebp;
  uint16_t ds, es, ss, fs, gs, ip, cs, pad;
};

struct charon_params {
  /* identity */
  uint32_t magic;   /* CHARON_PARAMS_MAGIC */
  uint16_t version; /* CHARON_PARAMS_VERSION */
  uint16_t size;    /* sizeof(struct charon_params) */
  uint32_t flags;   /* CHARON_F_* */
  uint32_t handoff; /* CHARON_HANDOFF_* */

  /* verification: SHA-256 over regions[0..15] in order, zero-length
   * entries contribute nothing (kexec-tools' rule). */
  struct charon_region regions[CHARON_MAX_REGIONS]; /* sha256_regions */
  uint8_t digest[32];                               /* sha256_digest */

  /* crash-dump backup, copied after verification succeeds.
   * backup_dst == 0 disables it; backup_size == 0 means the default
   * [0, 640 KiB). */
  uint64_t backup_dst;  /* backup_start */
  uint64_t backup_src;  /* backup_src_start */
  uint64_t backup_size; /* backup_src_size */

  /* handoff register sets for the generic kinds */
  struct charon_regs64 regs64; /* entry64_regs */
  struct charon_regs32 regs32; /* entry32_regs */
  /* generic32's two stack words, kexec-tools' elf-x86 ABI: when regs32.esp
   * holds the address of stack_arg32_2 (what kexec-tools' loader sets),
   * the purgatory enters with ESP at the top of its own stack, 8 bytes
   * down, and these two words pushed there: [ESP] = stack_arg32_2 (a
   * return address, 0), [ESP + 4] = stack_arg32_1 (the first argument, the
   * ELF boot notes). Same order in memory as kexec-tools' stack. */
  uint32_t stack_arg32_2; /* stack_arg32_2 */
  uint32_t stack_arg32_1; /* stack_arg32_1 */

  int32_t skip_checks;      /* skip_checks: nonzero skips verification (kexec-tools' meaning) */
  uint64_t jump_back_entry; /* jump_back_entry: kept for ABI compatibility, unused */
  uint64_t cmdline_end;     /* cmdline_end: kept for ABI compatibility, unused */

  /* console */
  uint32_t serial_baud;     /* serial_baud: 0 leaves the UART's divisor alone */
  uint16_t serial_base;     /* serial_base: 8250 I/O port, default 0x3f8 */
  uint16_t debugcon_port;   /* the port console_debugcon writes to, default 0xe9 */
  uint8_t console_serial;   /* console_serial: nonzero prints on the 8250 */
  uint8_t console_vga;      /* console_vga: accepted, charon has no VGA console */
  uint8_t reset_vga;        /* reset_vga: accepted, unused */
  uint8_t panic_kernel;     /* panic_kernel: this image is a crash kernel */
  uint8_t console_debugcon; /* nonzero prints on debugcon_port */
  uint8_t legacy_pic;       /* legacy_pic: accepted, unused */
  uint8_t reserved0[2];

  /* Linux kinds */
  uint64_t boot_params;  /* physical address of struct boot_params (RSI/ESI) */
  uint64_t kernel_entry; /* linux64: load address + 0x200; linux32: load address */

  /* the purgatory's own identity map */
  uint64_t idmap_limit;  /* map [0, idmap_limit) as well (untyped); 0: no such range */
  uint64_t scratch_base; /* page-aligned area for page tables; 0: use the built-in one */
  uint64_t scratch_size; /* bytes; see charon_idmap_bytes_needed() in the loader */
  struct charon_region map_ranges[CHARON_MAX_MAP_RANGES]; /* e.g. the kernel's init_size range */

  /* Optional: SHA-256 of each region alone. Only read after the combined
   * digest failed, to name the region that differs; an all-zero entry
   * means "not given" (charon's loaders leave a region over 1 MiB without
   * one when they hash without SHA-NI). Verification itself is one pass,
   * as above. */
  uint8_t region_digests[CHARON_MAX_REGIONS][32];

  /* The machine's memory (e820 RAM, ACPI data and ACPI NVS), which the
   * identity map covers page by page, with large leaves only where the
   * whole leaf is memory or required (README, "Identity page tables").
   * Zero-length entries are unused. All zero: only the ranges above and
   * [0, idmap_limit) are mapped, as before version 2. */
  struct charon_region memory[CHARON_MAX_MEMORY_RANGES];

  /* Version 3: real mode (kexec-tools --real-mode; README, "The generic16
   * handoff"). entry16 loads regs16 and jumps to regs16.cs:ip;
   * entry16_debug loads regs16_debug instead (kexec-tools patches both
   * with the same value). entry16_debug_first32, which a Linux setup
   * code calls as its code32_start, continues at
   * entry16_debug_old_first32 with every register kept. */
  struct charon_regs16 regs16;        /* entry16_regs */
  struct charon_regs16 regs16_debug;  /* entry16_debug_regs */
  uint32_t entry16_debug_old_first32; /* entry16_debug_old_first32 */
  uint32_t reserved1;
};

/* purgatory.bin begins with this header; every offset is from the start
 * of the file, which is loaded at any 4 KiB-aligned address below 4 GiB. */
#define CHARON_BIN_MAGIC 0x4e494243u /* "CBIN" */
struct charon_bin_header {
  uint32_t magic;     /* CHARON_BIN_MAGIC */
  uint32_t version;   /* CHARON_PARAMS_VERSION */
  uint32_t entry64;   /* 64-bit entry (long mode, image mapped 1:1) */
  uint32_t entry32;   /* 32-bit entry (protected mode, paging off) */
  uint32_t params;    /* offset of struct charon_params */
  uint32_t file_size; /* bytes of the file */
  uint32_t mem_size;  /* bytes to reserve from the load address (file + bss) */
  /* Version 3: the real-mode entries (README, "The generic16 handoff") */
  uint32_t entry16;               /* 32-bit, paging off, EAX = its address */
  uint32_t entry16_debug;         /* the same, with regs16_debug and console lines */
  uint32_t entry16_debug_pre32;   /* 16-bit far routine: setup's realmode_swtch hook */
  uint32_t entry16_debug_first32; /* 32-bit: setup's code32_start hook */
  uint32_t reserved;
};

#ifdef __cplusplus
static_assert(sizeof(struct charon_region) == 16);
static_assert(sizeof(struct charon_regs64) == 17 * 8);
static_assert(sizeof(struct charon_kernel_regs64) == 17 * 8);
static_assert(sizeof(struct charon_regs32) == 9 * 4);
static_assert(sizeof(struct charon_regs16) == 48); /* kexec-tools' entry16_regs */
static_assert(sizeof(struct charon_bin_header) == 48);
static_assert(sizeof(struct charon_params) % 8 == 0);
#endif

#endif /* CHARON_PARAMS_H */
