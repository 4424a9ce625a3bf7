// Typed CR0, CR4 and EFER: every accessor owns exactly the bit the manual
// gives it. The bit numbers below are typed from [intel/vol3]: 2.5 and
// 2.2.1 independently of cr.h.
#include <charon/x86/cr.h>
#include <gtest/gtest.h>

namespace charon::x86 {
namespace {

template <class R>
struct BitCase {
  const char* name;
  unsigned bit;
  bool (R::*get)() const;
  R& (R::*set)(bool);
};

// Setting a bit in zero gives exactly that bit, clearing it in all-ones
// clears exactly that bit, and the getter sees only that bit.
template <class R>
void expect_bits(std::initializer_list<BitCase<R>> cases) {
  for (const BitCase<R>& c : cases) {
    const uint64_t mask = uint64_t{1} << c.bit;
    R zero;
    EXPECT_EQ((zero.*c.set)(true).raw(), mask) << c.name;
    R ones(~uint64_t{0});
    EXPECT_EQ((ones.*c.set)(false).raw(), ~mask) << c.name;
    EXPECT_TRUE((R(mask).*c.get)()) << c.name;
    EXPECT_FALSE((R(~mask).*c.get)()) << c.name;
  }
}

TEST(CrTest, Cr0AccessorsOwnTheirManualBits) {
  expect_bits<Cr0>({{"pe", 0, &Cr0::pe, &Cr0::set_pe},
                    {"mp", 1, &Cr0::mp, &Cr0::set_mp},
                    {"em", 2, &Cr0::em, &Cr0::set_em},
                    {"ts", 3, &Cr0::ts, &Cr0::set_ts},
                    {"et", 4, &Cr0::et, &Cr0::set_et},
                    {"ne", 5, &Cr0::ne, &Cr0::set_ne},
                    {"wp", 16, &Cr0::wp, &Cr0::set_wp},
                    {"am", 18, &Cr0::am, &Cr0::set_am},
                    {"nw", 29, &Cr0::nw, &Cr0::set_nw},
                    {"cd", 30, &Cr0::cd, &Cr0::set_cd},
                    {"pg", 31, &Cr0::pg, &Cr0::set_pg}});
}

TEST(CrTest, Cr4AccessorsOwnTheirManualBits) {
  expect_bits<Cr4>({{"vme", 0, &Cr4::vme, &Cr4::set_vme},
                    {"pvi", 1, &Cr4::pvi, &Cr4::set_pvi},
                    {"tsd", 2, &Cr4::tsd, &Cr4::set_tsd},
                    {"de", 3, &Cr4::de, &Cr4::set_de},
                    {"pse", 4, &Cr4::pse, &Cr4::set_pse},
                    {"pae", 5, &Cr4::pae, &Cr4::set_pae},
                    {"mce", 6, &Cr4::mce, &Cr4::set_mce},
                    {"pge", 7, &Cr4::pge, &Cr4::set_pge},
                    {"pce", 8, &Cr4::pce, &Cr4::set_pce},
                    {"osfxsr", 9, &Cr4::osfxsr, &Cr4::set_osfxsr},
                    {"osxmmexcpt", 10, &Cr4::osxmmexcpt, &Cr4::set_osxmmexcpt},
                    {"umip", 11, &Cr4::umip, &Cr4::set_umip},
                    {"la57", 12, &Cr4::la57, &Cr4::set_la57},
                    {"fsgsbase", 16, &Cr4::fsgsbase, &Cr4::set_fsgsbase},
                    {"pcide", 17, &Cr4::pcide, &Cr4::set_pcide},
                    {"osxsave", 18, &Cr4::osxsave, &Cr4::set_osxsave},
                    {"smep", 20, &Cr4::smep, &Cr4::set_smep},
                    {"smap", 21, &Cr4::smap, &Cr4::set_smap},
                    {"pke", 22, &Cr4::pke, &Cr4::set_pke},
                    {"cet", 23, &Cr4::cet, &Cr4::set_cet}});
}

TEST(CrTest, EferAccessorsOwnTheirManualBitsAndMsrIndex) {
  expect_bits<Efer>({{"sce", 0, &Efer::sce, &Efer::set_sce},
                     {"lme", 8, &Efer::lme, &Efer::set_lme},
                     {"lma", 10, &Efer::lma, &Efer::set_lma},
                     {"nxe", 11, &Efer::nxe, &Efer::set_nxe}});
  EXPECT_EQ(kMsrEfer, 0xc0000080u);
}

TEST(CrTest, BuildsTheLongModeValuesTheHandoffLoads) {
  // CR0 of a running 64-bit Linux kernel, 0x80050033, decoded by hand.
  const Cr0 cr0 =
      Cr0().set_pe(true).set_mp(true).set_et(true).set_ne(true).set_wp(true).set_am(true).set_pg(
          true);
  EXPECT_EQ(cr0.raw(), 0x8005'0033u);
  EXPECT_FALSE(cr0.em() || cr0.ts() || cr0.nw() || cr0.cd());
  // EFER with SYSCALL, long mode enabled and active, NX: 0xd01.
  EXPECT_EQ(Efer().set_sce(true).set_lme(true).set_lma(true).set_nxe(true).raw(), 0xd01u);
  // Clearing features keeps the bits charon does not know about.
  const Cr4 cr4 = Cr4(0x3606f0 | (uint64_t{1} << 13)).set_smep(false).set_smap(false);
  EXPECT_EQ(cr4.raw(), 0x0606f0u | (uint64_t{1} << 13));
  EXPECT_TRUE(cr4.pae() && cr4.pge() && cr4.osxsave() && cr4.pcide());
}

}  // namespace
}  // namespace charon::x86
