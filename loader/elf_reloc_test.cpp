#include <charon/loader/elf_reloc.h>
#include <charon/params.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "testdata/test_util.h"

namespace charon::loader {
namespace {

std::vector<uint8_t> fake() {
  return testing::read_bytes(CHARON_FAKE_PURGATORY);
}

template <class T>
T sym(const RelocatableElf& e, const char* name) {
  T v{};
  auto st = e.get_symbol(name, &v, sizeof(v));
  EXPECT_TRUE(st.ok()) << st.error();
  return v;
}

uint64_t addr(const RelocatableElf& e, const char* name) {
  auto s = e.find_symbol(name);
  EXPECT_TRUE(s.ok()) << s.error();
  return s.ok() ? s->address : 0;
}

TEST(ElfReloc, EachRelocationTypeGetsItsPsAbiValue) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok()) << e.error();
  for (uint64_t base : {0x100000ull, 0x7fe00000ull, 0x12345000ull}) {
    ASSERT_TRUE(e->relocate(base).ok());
    const uint64_t target = addr(*e, "reloc_target");
    EXPECT_GE(target, base);
    EXPECT_LT(target, base + e->mem_size());
    // R_X86_64_64: S + A
    EXPECT_EQ(sym<uint64_t>(*e, "probe_abs64"), target + 8);
    // R_X86_64_32: S + A, zero-extended
    EXPECT_EQ(sym<uint32_t>(*e, "probe_abs32"), target + 16);
    // R_X86_64_32S: S + A, sign-extended
    EXPECT_EQ(static_cast<uint64_t>(static_cast<int64_t>(sym<int32_t>(*e, "probe_abs32s"))),
              target + 24);
    // R_X86_64_PC32: S + A - P
    EXPECT_EQ(static_cast<int64_t>(sym<int32_t>(*e, "probe_pc32")),
              static_cast<int64_t>(target - addr(*e, "probe_pc32")));
    // R_X86_64_PLT32: L + A - P, with L the function itself here
    EXPECT_EQ(static_cast<int64_t>(sym<int32_t>(*e, "probe_plt32")),
              static_cast<int64_t>(addr(*e, "purgatory_helper") - 4 - addr(*e, "probe_plt32")));
  }
}

TEST(ElfReloc, LayoutKeepsSectionAlignmentAndPutsBssLast) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->relocate(0x200000).ok());
  EXPECT_EQ(addr(*e, "charon_params") % alignof(struct charon_params), 0u);
  EXPECT_GE(addr(*e, "bss_buffer") - 0x200000, e->image().size()) << "bss lies after the bytes";
  EXPECT_LE(addr(*e, "bss_buffer") + 64 - 0x200000, e->mem_size());
}

TEST(ElfReloc, Abs32SRefusesABaseAbove2G) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  auto st = e->relocate(0x80000000ull);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("R_X86_64_32S"), std::string::npos) << st.error();
  EXPECT_NE(st.error().find("overflows"), std::string::npos) << st.error();
}

TEST(ElfReloc, Abs32RefusesABaseAbove4G) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  auto st = e->relocate(0x100000000ull);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("overflows"), std::string::npos) << st.error();
}

TEST(ElfReloc, SetSymbolChecksTheSizeAsKexecToolsDoes) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  uint32_t four = 0;
  auto st = e->set_symbol("serial_base", &four, sizeof(four));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("has size 2, not 4"), std::string::npos) << st.error();
}

TEST(ElfReloc, SetSymbolRefusesBss) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  uint8_t buf[64] = {};
  auto st = e->set_symbol("bss_buffer", buf, sizeof(buf));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("bss"), std::string::npos) << st.error();
}

TEST(ElfReloc, UnknownSymbolIsNamed) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  uint8_t b = 0;
  auto st = e->set_symbol("no_such_symbol", &b, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("'no_such_symbol' not found"), std::string::npos) << st.error();
}

TEST(ElfReloc, SetThenGetRoundTripsAndRelocateStartsFresh) {
  auto e = RelocatableElf::parse(fake());
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->relocate(0x100000).ok());
  const uint16_t port = 0x2f8;
  ASSERT_TRUE(e->set_symbol("serial_base", &port, 2).ok());
  EXPECT_EQ(sym<uint16_t>(*e, "serial_base"), 0x2f8);
  ASSERT_TRUE(e->relocate(0x100000).ok());
  EXPECT_EQ(sym<uint16_t>(*e, "serial_base"), 0x3f8) << "relocate rebuilds from the file";
}

// ---- hostile input: edits of a valid object

struct Elf {
  std::vector<uint8_t> b;
  Elf64_Ehdr eh() const {
    Elf64_Ehdr h;
    std::memcpy(&h, b.data(), sizeof(h));
    return h;
  }
  Elf64_Shdr sh(size_t i) const {
    Elf64_Shdr s;
    std::memcpy(&s, b.data() + eh().e_shoff + i * sizeof(s), sizeof(s));
    return s;
  }
  void put_sh(size_t i, const Elf64_Shdr& s) {
    std::memcpy(b.data() + eh().e_shoff + i * sizeof(s), &s, sizeof(s));
  }
  size_t first(uint32_t type) const {
    for (size_t i = 0; i < eh().e_shnum; ++i)
      if (sh(i).sh_type == type) return i;
    return 0;
  }
  // The first RELA section that patches an allocated section.
  size_t alloc_rela() const {
    for (size_t i = 0; i < eh().e_shnum; ++i)
      if (sh(i).sh_type == SHT_RELA && (sh(sh(i).sh_info).sh_flags & SHF_ALLOC)) return i;
    return 0;
  }
};

std::string parse_error(const std::vector<uint8_t>& b) {
  auto e = RelocatableElf::parse(b);
  return e.ok() ? std::string("(parsed)") : e.error();
}

TEST(ElfRelocHostile, UnsupportedRelocationTypeIsRefusedByName) {
  Elf f{fake()};
  const size_t r = f.alloc_rela();
  ASSERT_NE(r, 0u);
  Elf64_Rela rela;
  std::memcpy(&rela, f.b.data() + f.sh(r).sh_offset, sizeof(rela));
  rela.r_info = ELF64_R_INFO(ELF64_R_SYM(rela.r_info), R_X86_64_GOTPCREL);
  std::memcpy(f.b.data() + f.sh(r).sh_offset, &rela, sizeof(rela));
  const std::string err = parse_error(f.b);
  EXPECT_NE(err.find("R_X86_64_GOTPCREL"), std::string::npos) << err;
}

TEST(ElfRelocHostile, RelocationOutsideItsSectionIsRefused) {
  Elf f{fake()};
  const size_t r = f.alloc_rela();
  Elf64_Rela rela;
  std::memcpy(&rela, f.b.data() + f.sh(r).sh_offset, sizeof(rela));
  rela.r_offset = f.sh(f.sh(r).sh_info).sh_size - 2;
  std::memcpy(f.b.data() + f.sh(r).sh_offset, &rela, sizeof(rela));
  EXPECT_NE(parse_error(f.b).find("outside its"), std::string::npos) << parse_error(f.b);
}

TEST(ElfRelocHostile, SymbolIndexOutOfRangeIsRefused) {
  Elf f{fake()};
  const size_t r = f.alloc_rela();
  Elf64_Rela rela;
  std::memcpy(&rela, f.b.data() + f.sh(r).sh_offset, sizeof(rela));
  rela.r_info = ELF64_R_INFO(100000, ELF64_R_TYPE(rela.r_info));
  std::memcpy(f.b.data() + f.sh(r).sh_offset, &rela, sizeof(rela));
  EXPECT_NE(parse_error(f.b).find("names symbol 100000"), std::string::npos) << parse_error(f.b);
}

TEST(ElfRelocHostile, SectionPastTheEndOfTheFileIsRefused) {
  Elf f{fake()};
  const size_t s = f.first(SHT_PROGBITS);
  Elf64_Shdr h = f.sh(s);
  h.sh_offset = f.b.size() - 4;
  h.sh_size = 0x100;
  f.put_sh(s, h);
  EXPECT_NE(parse_error(f.b).find("runs past the end"), std::string::npos) << parse_error(f.b);
}

TEST(ElfRelocHostile, HugeSectionSizeDoesNotWrapTheBoundsCheck) {
  Elf f{fake()};
  const size_t s = f.first(SHT_PROGBITS);
  Elf64_Shdr h = f.sh(s);
  h.sh_size = ~0ull - 8;
  f.put_sh(s, h);
  EXPECT_NE(parse_error(f.b).find("runs past the end"), std::string::npos) << parse_error(f.b);
}

TEST(ElfRelocHostile, SymbolNameOutsideTheStringTableIsRefused) {
  Elf f{fake()};
  const size_t st = f.first(SHT_SYMTAB);
  Elf64_Sym sy;
  const size_t off = f.sh(st).sh_offset + sizeof(Elf64_Sym);
  std::memcpy(&sy, f.b.data() + off, sizeof(sy));
  sy.st_name = 0x7fffffff;
  std::memcpy(f.b.data() + off, &sy, sizeof(sy));
  EXPECT_NE(parse_error(f.b).find("outside the string table"), std::string::npos)
      << parse_error(f.b);
}

TEST(ElfRelocHostile, WrongElfKindsAreRefused) {
  {
    Elf f{fake()};
    f.b[EI_CLASS] = ELFCLASS32;
    EXPECT_NE(parse_error(f.b).find("ELFCLASS64"), std::string::npos);
  }
  {
    Elf f{fake()};
    Elf64_Ehdr h = f.eh();
    h.e_type = ET_EXEC;
    std::memcpy(f.b.data(), &h, sizeof(h));
    EXPECT_NE(parse_error(f.b).find("ET_REL"), std::string::npos);
  }
  {
    Elf f{fake()};
    Elf64_Ehdr h = f.eh();
    h.e_machine = EM_386;
    std::memcpy(f.b.data(), &h, sizeof(h));
    EXPECT_NE(parse_error(f.b).find("EM_X86_64"), std::string::npos);
  }
  {
    Elf f{fake()};
    f.b[0] = 0;
    EXPECT_NE(parse_error(f.b).find("not an ELF"), std::string::npos);
  }
}

TEST(ElfRelocHostile, EveryTruncationIsRefusedWithoutCrashing) {
  const auto b = fake();
  for (size_t n = 0; n < b.size(); n += 7) {
    std::vector<uint8_t> p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    auto e = RelocatableElf::parse(p);
    EXPECT_FALSE(e.ok()) << "a " << n << "-byte prefix parsed";
  }
}

TEST(ElfRelocHostile, SingleByteCorruptionsNeverCrash) {
  // Each header and section-header byte set to a few hostile values; the
  // parser must answer ok or a message, under ASan and UBSan.
  const auto b = fake();
  Elf f{b};
  std::vector<size_t> offsets;
  for (size_t i = 0; i < sizeof(Elf64_Ehdr); ++i) offsets.push_back(i);
  for (size_t i = 0; i < f.eh().e_shnum * sizeof(Elf64_Shdr); ++i)
    offsets.push_back(f.eh().e_shoff + i);
  size_t refused = 0;
  for (size_t off : offsets) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      auto c = b;
      c[off] = v;
      auto e = RelocatableElf::parse(c);
      if (!e.ok()) {
        ++refused;
        EXPECT_FALSE(e.error().empty());
      } else {
        (void)e->relocate(0x100000);
      }
    }
  }
  EXPECT_GT(refused, offsets.size()) << "corruptions should mostly be caught";
}

}  // namespace
}  // namespace charon::loader
