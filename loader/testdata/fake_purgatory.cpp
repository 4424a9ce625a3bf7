// A stand-in for purgatory.ro in the relocator's unit tests: an ET_REL
// object built with -fno-pic -mcmodel=kernel that exports charon_params,
// kexec-tools' names aliasing its fields, purgatory_start, and one probe
// word per relocation type whose correct value the test can compute from
// the symbol addresses.
#include <charon/params.h>
#include <stddef.h>

extern "C" {

[[gnu::used, gnu::section(".data.params")]] struct charon_params charon_params = {
    .magic = CHARON_PARAMS_MAGIC,
    .version = CHARON_PARAMS_VERSION,
    .size = sizeof(struct charon_params),
    .serial_base = 0x3f8,
    .debugcon_port = 0xe9,
    .idmap_limit = 1ull << 32,
};

// A bss object, so that "never patch bss" has something to refuse.
[[gnu::used]] unsigned char bss_buffer[64];

// The target every probe relocates against, in its own section so that
// the assembler cannot resolve PC-relative references itself.
[[gnu::used, gnu::section(".data.target")]] unsigned long reloc_target[4] = {1, 2, 3, 4};

[[gnu::used, gnu::noinline]] void purgatory_helper() {
  bss_buffer[0] = 1;
}

// 64-bit code (mcmodel=kernel): absolute 32S loads and a PLT32 call.
[[gnu::used]] void purgatory_start() {
  reloc_target[1] = reloc_target[0];
  purgatory_helper();
}

}  // extern "C"

// kexec-tools' names as sized aliases of charon_params' fields, as the
// real purgatory's params.asm defines them. A function body is the one
// place asm gets the offsets from the compiler.
#define ALIAS(name, field)                                              \
  asm volatile(".globl " #name "\n.type " #name ",@object\n.set " #name \
               ", charon_params + %c0\n.size " #name                    \
               ", %c1\n" ::"i"(offsetof(struct charon_params, field)),  \
               "i"(sizeof(((struct charon_params*)0)->field)))

extern "C" [[gnu::used]] void fake_purgatory_aliases() {
  ALIAS(sha256_regions, regions);
  ALIAS(sha256_digest, digest);
  ALIAS(backup_start, backup_dst);
  ALIAS(backup_src_start, backup_src);
  ALIAS(backup_src_size, backup_size);
  ALIAS(entry64_regs, regs64);
  ALIAS(entry32_regs, regs32);
  ALIAS(skip_checks, skip_checks);
  ALIAS(jump_back_entry, jump_back_entry);
  ALIAS(cmdline_end, cmdline_end);
  ALIAS(serial_baud, serial_baud);
  ALIAS(serial_base, serial_base);
  ALIAS(console_serial, console_serial);
  ALIAS(console_vga, console_vga);
  ALIAS(reset_vga, reset_vga);
  ALIAS(panic_kernel, panic_kernel);
  ALIAS(legacy_pic, legacy_pic);
}

asm(R"(
  .section .data.probes,"aw",@progbits
  .balign 8
  .globl probe_abs64
  .type probe_abs64,@object
  .size probe_abs64, 8
probe_abs64: .quad reloc_target + 8
  .globl probe_abs32
  .type probe_abs32,@object
  .size probe_abs32, 4
probe_abs32: .long reloc_target + 16
  .globl probe_abs32s
  .type probe_abs32s,@object
  .size probe_abs32s, 4
probe_abs32s:
  .reloc ., R_X86_64_32S, reloc_target + 24
  .long 0
  .globl probe_pc32
  .type probe_pc32,@object
  .size probe_pc32, 4
probe_pc32: .long reloc_target - .
  .globl probe_plt32
  .type probe_plt32,@object
  .size probe_plt32, 4
probe_plt32:
  .reloc ., R_X86_64_PLT32, purgatory_helper - 4
  .long 0
)");
