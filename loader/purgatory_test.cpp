// charon's real purgatory.ro, as kexec-tools would see it.
#include <charon/loader/purgatory.h>
#include <charon/sha256.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "testdata/test_util.h"

namespace charon::loader {
namespace {

std::vector<uint8_t> real() {
  return testing::read_bytes(CHARON_REAL_PURGATORY);
}

// The names and sizes kexec-tools' x86_64 loader patches or reads with
// elf_rel_set_symbol/elf_rel_get_symbol (kexec/kexec.c,
// kexec/arch/x86_64/kexec-x86_64.c arch_update_purgatory,
// kexec-bzImage64.c; types from purgatory/*.c and struct
// arch_options_t), and the charon_params field each must alias.
struct KexecToolsName {
  const char* name;
  size_t size;
  size_t field_offset;
};
constexpr KexecToolsName kNames[] = {
    {"sha256_regions", 16 * 16, offsetof(charon_params, regions)},
    {"sha256_digest", 32, offsetof(charon_params, digest)},
    {"skip_checks", sizeof(int), offsetof(charon_params, skip_checks)},
    {"entry64_regs", 17 * 8, offsetof(charon_params, regs64)},
    {"entry32_regs", 9 * 4, offsetof(charon_params, regs32)},
    // kexec/arch/i386/kexec-elf-x86.c: uint32_t arg1, arg2.
    {"stack_arg32_1", 4, offsetof(charon_params, stack_arg32_1)},
    {"stack_arg32_2", 4, offsetof(charon_params, stack_arg32_2)},
    {"backup_start", sizeof(unsigned long), offsetof(charon_params, backup_dst)},
    {"backup_src_start", sizeof(unsigned long), offsetof(charon_params, backup_src)},
    {"backup_src_size", sizeof(unsigned long), offsetof(charon_params, backup_size)},
    {"panic_kernel", 1, offsetof(charon_params, panic_kernel)},
    {"console_serial", 1, offsetof(charon_params, console_serial)},
    {"console_vga", 1, offsetof(charon_params, console_vga)},
    {"reset_vga", 1, offsetof(charon_params, reset_vga)},
    {"legacy_pic", 1, offsetof(charon_params, legacy_pic)},
    {"serial_base", 2, offsetof(charon_params, serial_base)},
    {"serial_baud", 4, offsetof(charon_params, serial_baud)},
    {"cmdline_end", sizeof(unsigned long), offsetof(charon_params, cmdline_end)},
    {"jump_back_entry", sizeof(unsigned long), offsetof(charon_params, jump_back_entry)},
    // kexec/arch/i386/kexec-bzImage.c --real-mode: struct entry16_regs
    // (8 u32, 8 u16) twice, and the debug hook's uint32_t old_first32.
    {"entry16_regs", 48, offsetof(charon_params, regs16)},
    {"entry16_debug_regs", 48, offsetof(charon_params, regs16_debug)},
    {"entry16_debug_old_first32", 4, offsetof(charon_params, entry16_debug_old_first32)},
};

TEST(KexecToolsCompat, EveryKexecToolsNamePatchesItsCharonParamsField) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_TRUE(e->relocate(0x7f000000).ok());
  uint8_t seed = 1;
  for (const KexecToolsName& n : kNames) {
    SCOPED_TRACE(n.name);
    // A distinct pattern per name, patched only through the kexec-tools
    // name, with kexec-tools' size check and its refusal of bss.
    std::vector<uint8_t> pattern(n.size);
    for (size_t i = 0; i < n.size; ++i) pattern[i] = static_cast<uint8_t>(seed * 31 + i * 7 + 1);
    ++seed;
    auto st = e->set_symbol(n.name, pattern.data(), pattern.size());
    ASSERT_TRUE(st.ok()) << st.error();
    // Read the whole block back and find the bytes in the field.
    charon_params p;
    ASSERT_TRUE(e->get_symbol(kParamsSymbol, &p, sizeof(p)).ok());
    EXPECT_EQ(
        std::memcmp(reinterpret_cast<const uint8_t*>(&p) + n.field_offset, pattern.data(), n.size),
        0)
        << n.name << " does not alias charon_params at offset " << n.field_offset;
    auto where = e->find_symbol(n.name);
    ASSERT_TRUE(where.ok());
    EXPECT_FALSE(where->in_nobits);
    EXPECT_EQ(where->address, e->find_symbol(kParamsSymbol)->address + n.field_offset);
  }
  // The block's identity was not touched by any of them.
  auto p = read_params(*e);
  EXPECT_TRUE(p.ok()) << p.error();
}

// kexec-tools --real-mode reads these addresses (elf_rel_get_addr) and
// derives a real-mode segment from entry16_debug: rmode_switch_cs =
// entry16_debug >> 4, rmode_switch_ip = entry16_debug_pre32 -
// entry16_debug. That only names the routine if entry16_debug is 16-byte
// aligned wherever the loader puts the image (sections are placed at
// their alignment) and pre32 follows it within 64 KiB.
TEST(KexecToolsCompat, RealModeEntriesAreDefinedAndAlignedForKexecToolsHooks) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_TRUE(e->relocate(0x13000).ok());
  for (const char* n :
       {"entry16", "entry16_debug", "entry16_debug_pre32", "entry16_debug_first32", "stack_end"}) {
    auto s = e->find_symbol(n);
    ASSERT_TRUE(s.ok()) << n << ": " << s.error();
  }
  const uint64_t debug = e->find_symbol("entry16_debug")->address;
  const uint64_t pre32 = e->find_symbol("entry16_debug_pre32")->address;
  EXPECT_EQ(debug % 16, 0u);
  EXPECT_EQ(e->find_symbol("entry16")->address % 16, 0u);
  EXPECT_GT(pre32, debug);
  EXPECT_LT(pre32 - debug, 0x10000u);
}

// kexec-tools' elf-x86 loader sets ESP to stack_arg32_2's address and
// expects stack_arg32_1 in the next dword: [esp] = return address,
// [esp + 4] = the first argument (its own purgatory's stack.S layout).
TEST(KexecToolsCompat, StackArg32OneLiesRightAboveStackArg32Two) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_TRUE(e->relocate(0x7f000000).ok());
  auto one = e->find_symbol("stack_arg32_1");
  auto two = e->find_symbol("stack_arg32_2");
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(one->address, two->address + 4);
}

TEST(KexecToolsCompat, WrongSizeForAKexecToolsNameIsRefused) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok());
  uint32_t v = 0;  // serial_base is a uint16_t in kexec-tools
  auto st = e->set_symbol("serial_base", &v, sizeof(v));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("has size 2, not 4"), std::string::npos) << st.error();
}

TEST(KexecToolsCompat, PurgatoryStartIsAGlobalSymbolInsideTheImage) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->relocate(0x7f000000).ok());
  auto s = e->find_symbol(kEntrySymbol);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_GE(s->address, 0x7f000000u);
  EXPECT_LT(s->address, 0x7f000000u + e->mem_size());
}

TEST(Purgatory, RealImageRelocatesAnywhereBelow2GAndKeepsItsIdentity) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_LE(e->max_align(), 4096u);
  for (uint64_t base : {0x100000ull, 0x40000000ull, 0x7ff00000ull}) {
    ASSERT_TRUE(e->relocate(base).ok()) << base;
    auto p = read_params(*e);
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->serial_base, 0x3f8);
  }
}

TEST(Purgatory, ParamsWithWrongMagicVersionOrSizeAreRefused) {
  auto e = RelocatableElf::parse(real());
  ASSERT_TRUE(e.ok());
  auto p = read_params(*e);
  ASSERT_TRUE(p.ok());
  charon_params bad = *p;
  bad.magic ^= 1;
  EXPECT_NE(check_params_identity(bad).error().find("magic"), std::string::npos);
  EXPECT_FALSE(write_params(*e, bad).ok());
  bad = *p;
  bad.version = CHARON_PARAMS_VERSION + 1;
  EXPECT_NE(check_params_identity(bad).error().find("version " +
                                                    std::to_string(CHARON_PARAMS_VERSION + 1)),
            std::string::npos);
  bad = *p;
  bad.size = 8;
  EXPECT_NE(check_params_identity(bad).error().find("size field is 8"), std::string::npos);
  // And a purgatory whose block says so is refused on reading.
  charon_params raw;
  ASSERT_TRUE(e->get_symbol(kParamsSymbol, &raw, sizeof(raw)).ok());
  raw.magic = 0xdeadbeef;
  ASSERT_TRUE(e->set_symbol(kParamsSymbol, &raw, sizeof(raw)).ok());
  EXPECT_FALSE(read_params(*e).ok());
}

}  // namespace
}  // namespace charon::loader
