// The kernel flavour, purgatory-linux.ro, as the Linux kernel's
// kexec_file_load sees it (Debian's 6.1 source):
//  - kernel/kexec_file.c kexec_purgatory_find_symbol: STB_GLOBAL, defined;
//    kexec_purgatory_get_set_symbol: st_size must equal the kernel's size
//    and the section must not be SHT_NOBITS;
//  - kexec_calculate_store_digests: purgatory_sha_regions (16 x struct
//    kexec_sha_region) and purgatory_sha256_digest (32 bytes);
//  - arch/x86/kernel/kexec-bzimage64.c bzImage64_load: entry64_regs as
//    struct kexec_entry64_regs (arch/x86/include/asm/kexec.h), stack_end;
//  - kexec_purgatory_setup_sechdrs: purgatory_start in an executable
//    section (or e_entry inside one, before that backport);
//  - machine_kexec_64.c arch_kexec_apply_relocations_add: the relocation
//    types it applies.
#include <charon/loader/elf_reloc.h>
#include <charon/params.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>

namespace charon::loader {
namespace {

// The kernel's structs, field for field, as they are in its headers.
struct kexec_sha_region {  // include/linux/purgatory.h
  unsigned long start;
  unsigned long len;
};
struct kexec_entry64_regs {  // arch/x86/include/asm/kexec.h
  uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip;
};
constexpr size_t kKexecSegmentMax = 16;  // include/linux/kexec.h
constexpr size_t kSha256DigestSize = 32;

// charon's mirror of the kernel's order must be the kernel's order.
#define SAME_OFFSET(f) \
  static_assert(offsetof(charon_kernel_regs64, f) == offsetof(kexec_entry64_regs, f))
SAME_OFFSET(rax);
SAME_OFFSET(rcx);
SAME_OFFSET(rdx);
SAME_OFFSET(rbx);
SAME_OFFSET(rsp);
SAME_OFFSET(rbp);
SAME_OFFSET(rsi);
SAME_OFFSET(rdi);
SAME_OFFSET(r8);
SAME_OFFSET(r15);
SAME_OFFSET(rip);
static_assert(sizeof(charon_kernel_regs64) == sizeof(kexec_entry64_regs));
// The trap this flavour exists for: same size, other order.
static_assert(sizeof(charon_regs64) == sizeof(kexec_entry64_regs));
static_assert(offsetof(kexec_entry64_regs, rsi) == 6 * 8);
static_assert(offsetof(charon_regs64, rsi) == 4 * 8);

std::vector<uint8_t> flavour() {
  std::ifstream f(CHARON_KERNEL_PURGATORY, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

RelocatableElf parsed() {
  auto e = RelocatableElf::parse(flavour());
  EXPECT_TRUE(e.ok()) << e.error();
  EXPECT_TRUE(e->relocate(0x7f000000).ok());
  return std::move(*e);
}

TEST(KernelFlavour, KernelNamesHaveTheKernelsSizesInLoadedSections) {
  RelocatableElf e = parsed();
  struct Name {
    const char* name;
    size_t size;
  };
  for (const Name& n : {Name{"purgatory_sha_regions", kKexecSegmentMax * sizeof(kexec_sha_region)},
                        Name{"purgatory_sha256_digest", kSha256DigestSize},
                        Name{"entry64_regs", sizeof(kexec_entry64_regs)}}) {
    SCOPED_TRACE(n.name);
    auto s = e.find_symbol(n.name);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->size, n.size);
    EXPECT_FALSE(s->in_nobits);  // kexec_purgatory_get_set_symbol refuses NOBITS
  }
  // bzImage64_load only takes its address (NOBITS is fine there).
  EXPECT_TRUE(e.find_symbol("stack_end").ok());
}

TEST(KernelFlavour, DigestNamesAliasTheParameterBlock) {
  RelocatableElf e = parsed();
  const uint64_t block = e.find_symbol("charon_params")->address;
  EXPECT_EQ(e.find_symbol("purgatory_sha_regions")->address,
            block + offsetof(charon_params, regions));
  EXPECT_EQ(e.find_symbol("purgatory_sha256_digest")->address,
            block + offsetof(charon_params, digest));
}

TEST(KernelFlavour, EntryRegsAreTheirOwnObjectRightAfterTheBlock) {
  RelocatableElf e = parsed();
  const uint64_t block = e.find_symbol("charon_params")->address;
  // Not the block's regs64 (kexec-tools' order): entry.asm converts.
  EXPECT_EQ(e.find_symbol("entry64_regs")->address, block + sizeof(charon_params));
  EXPECT_NE(e.find_symbol("entry64_regs")->address, block + offsetof(charon_params, regs64));
}

TEST(KernelFlavour, KernelPatchOfEntryRegsLandsInKernelOrderAndLeavesTheBlock) {
  RelocatableElf e = parsed();
  charon_params before;
  ASSERT_TRUE(e.get_symbol("charon_params", &before, sizeof(before)).ok());
  // What bzImage64_load does: get, set rbx/rsi/rip/rsp, set.
  kexec_entry64_regs r;
  ASSERT_TRUE(e.get_symbol("entry64_regs", &r, sizeof(r)).ok());
  EXPECT_EQ(r.rip, 0u);  // zero until patched: entry.asm converts only a set rip
  r.rbx = 0;
  r.rsi = 0x12345000;
  r.rip = 0x1000000 + 0x200;
  r.rsp = e.find_symbol("stack_end")->address;
  ASSERT_TRUE(e.set_symbol("entry64_regs", &r, sizeof(r)).ok());
  // The bytes sit where charon's mirror says: rsi in slot 6.
  charon_kernel_regs64 k;
  ASSERT_TRUE(e.get_symbol("entry64_regs", &k, sizeof(k)).ok());
  EXPECT_EQ(k.rsi, 0x12345000u);
  EXPECT_EQ(k.rip, 0x1000200u);
  uint64_t slots[17];
  std::memcpy(slots, &k, sizeof(slots));
  EXPECT_EQ(slots[6], 0x12345000u);
  EXPECT_EQ(slots[4], r.rsp);
  charon_params after;
  ASSERT_TRUE(e.get_symbol("charon_params", &after, sizeof(after)).ok());
  EXPECT_EQ(std::memcmp(&before, &after, sizeof(before)), 0);
}

TEST(KernelFlavour, BlockDefaultsAreGeneric64WithTheSerialConsoleOn) {
  RelocatableElf e = parsed();
  charon_params p;
  ASSERT_TRUE(e.get_symbol("charon_params", &p, sizeof(p)).ok());
  EXPECT_EQ(p.magic, CHARON_PARAMS_MAGIC);
  EXPECT_EQ(p.size, sizeof(charon_params));
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_GENERIC64);
  EXPECT_EQ(p.console_serial, 1);
  EXPECT_EQ(p.serial_base, 0x3f8);
  EXPECT_EQ(p.serial_baud, 0u);  // keep the old kernel's divisor
  EXPECT_EQ(p.regs64.rip, 0u);
}

TEST(KernelFlavour, NoKexecToolsNameIsExported) {
  RelocatableElf e = parsed();
  for (const char* n : {"sha256_regions", "sha256_digest", "entry32_regs", "backup_start",
                        "console_serial", "serial_base", "skip_checks"})
    EXPECT_FALSE(e.find_symbol(n).ok()) << n;
}

TEST(KernelFlavour, OnlyRelocationTypesTheKernelApplies) {
  RelocatableElf e = parsed();
  // arch_kexec_apply_relocations_add: NONE, 64, 32, 32S, PC32, PLT32.
  for (uint32_t t = 0; t < 64; ++t) {
    if (t == R_X86_64_NONE || t == R_X86_64_64 || t == R_X86_64_32 || t == R_X86_64_32S ||
        t == R_X86_64_PC32 || t == R_X86_64_PLT32)
      continue;
    EXPECT_FALSE(e.has_relocation(t)) << "relocation type " << t;
  }
}

// kexec_purgatory_setup_sechdrs takes the entry from the global
// purgatory_start when its section is executable and holds it; kernels
// without that change take e_entry as an offset into the executable
// section that holds it (sh_addr is 0 in ET_REL). Both must agree.
TEST(KernelFlavour, PurgatoryStartIsTheEntryInAnExecutableSection) {
  const std::vector<uint8_t> f = flavour();
  ASSERT_GE(f.size(), sizeof(Elf64_Ehdr));
  Elf64_Ehdr eh;
  std::memcpy(&eh, f.data(), sizeof(eh));
  ASSERT_EQ(eh.e_type, ET_REL);
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  std::memcpy(sh.data(), f.data() + eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
  bool found = false;
  for (const Elf64_Shdr& s : sh) {
    if (s.sh_type != SHT_SYMTAB) continue;
    const char* strtab = reinterpret_cast<const char*>(f.data() + sh[s.sh_link].sh_offset);
    for (size_t k = 0; k < s.sh_size / sizeof(Elf64_Sym); ++k) {
      Elf64_Sym y;
      std::memcpy(&y, f.data() + s.sh_offset + k * sizeof(y), sizeof(y));
      if (ELF64_ST_BIND(y.st_info) != STB_GLOBAL ||
          std::strcmp(strtab + y.st_name, "purgatory_start"))
        continue;
      found = true;
      ASSERT_GT(y.st_shndx, SHN_UNDEF);
      ASSERT_LT(y.st_shndx, eh.e_shnum);
      const Elf64_Shdr& text = sh[y.st_shndx];
      EXPECT_TRUE(text.sh_flags & SHF_EXECINSTR);
      EXPECT_TRUE(text.sh_flags & SHF_ALLOC);
      EXPECT_LT(y.st_value, text.sh_size);
      EXPECT_EQ(eh.e_entry, text.sh_addr + y.st_value);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace charon::loader
