#include <charon/loader/bzimage.h>
#include <charon/loader/bzimage_core.h>
#include <gtest/gtest.h>

#include <vector>

namespace charon::loader {
namespace {

std::vector<uint8_t> good_header() {
  std::vector<uint8_t> k(0x4000, 0);
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) k[off + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0x1f1, 1, 1);            // setup_sects
  put(0x1f4, 0x3c00 / 16, 4);  // syssize
  put(0x1fe, 0xaa55, 2);
  k[0x201] = 0x6a;
  put(0x202, kHdrSMagic, 4);
  put(0x206, 0x020f, 2);
  put(0x211, LOADED_HIGH, 1);
  put(0x22c, 0x7fffffff, 4);
  put(0x230, 0x200000, 4);
  put(0x234, 1, 1);
  put(0x236, XLF_KERNEL_64, 2);
  put(0x238, 2047, 4);
  put(0x258, 0x1000000, 8);
  put(0x260, 0x100000, 4);
  return k;
}

TEST(BzImageCore, GoodHeaderGivesTheFieldsALoaderNeeds) {
  const std::vector<uint8_t> k = good_header();
  BzHeaderInfo h{};
  ASSERT_EQ(check_bzimage(k.data(), k.size(), BzEntry::k64, h), BzStatus::kOk);
  EXPECT_EQ(h.setup_size, 0x400u);
  EXPECT_EQ(h.payload_offset, 0x400u);
  EXPECT_EQ(h.payload_size, 0x3c00u);
  EXPECT_EQ(h.header_end, 0x26cu);
  EXPECT_EQ(h.init_size, 0x100000u);
  EXPECT_EQ(h.kernel_alignment, 0x200000u);
  EXPECT_EQ(h.pref_address, 0x1000000u);
  EXPECT_EQ(h.cmdline_max, 2047u);
  EXPECT_EQ(h.initrd_addr_max, 0x7fffffffu);
  EXPECT_EQ(h.version, 0x020f);
}

struct Damage {
  size_t off;
  uint8_t value;
  BzEntry entry;
  BzStatus want;
};

class BzImageCoreDamage : public testing::TestWithParam<Damage> {};

TEST_P(BzImageCoreDamage, EachBrokenRuleHasItsOwnStatus) {
  std::vector<uint8_t> k = good_header();
  k[GetParam().off] = GetParam().value;
  BzHeaderInfo h{};
  EXPECT_EQ(check_bzimage(k.data(), k.size(), GetParam().entry, h), GetParam().want);
  EXPECT_STRNE(bz_status_message(GetParam().want), "?");
}

INSTANTIATE_TEST_SUITE_P(Each, BzImageCoreDamage,
                         testing::Values(Damage{0x202, 'X', BzEntry::k64, BzStatus::kNoHdrS},
                                         Damage{0x1fe, 0, BzEntry::k64, BzStatus::kBadBootFlag},
                                         Damage{0x206, 0x09, BzEntry::k64,
                                                BzStatus::kProtocolTooOld},
                                         Damage{0x211, 0, BzEntry::k64, BzStatus::kNotLoadedHigh},
                                         Damage{0x234, 0, BzEntry::k64, BzStatus::kNotRelocatable},
                                         Damage{0x1f1, 40, BzEntry::k64, BzStatus::kSetupPastEnd},
                                         Damage{0x1f5, 0x10, BzEntry::k64, BzStatus::kBadSyssize},
                                         Damage{0x232, 0x30, BzEntry::k64, BzStatus::kBadAlignment},
                                         Damage{0x262, 0, BzEntry::k64, BzStatus::kNoInitSize},
                                         Damage{0x236, 0, BzEntry::k64, BzStatus::kNo64BitEntry}));

TEST(BzImageCore, NoXloadflagsIsFineForThe32BitEntry) {
  std::vector<uint8_t> k = good_header();
  k[0x236] = 0;
  BzHeaderInfo h{};
  EXPECT_EQ(check_bzimage(k.data(), k.size(), BzEntry::k32, h), BzStatus::kOk);
}

TEST(BzImageCore, TooShortFileIsRefusedBeforeAnyRead) {
  const std::vector<uint8_t> k(0x200, 0);
  BzHeaderInfo h{};
  EXPECT_EQ(check_bzimage(k.data(), k.size(), BzEntry::k64, h), BzStatus::kTooShort);
}

// The hosted parser and the freestanding core agree on every image the
// hosted tests build, so the hosted one can be switched to call the core.
TEST(BzImageCore, AgreesWithTheHostedParser) {
  for (int variant = 0; variant < 4; ++variant) {
    std::vector<uint8_t> k = good_header();
    if (variant == 1) k[0x1f1] = 0;                                   // setup_sects 0 means 4
    if (variant == 2) k.resize(k.size() - 7);                         // partial last paragraph
    if (variant == 3) k[0x22c] = k[0x22d] = k[0x22e] = k[0x22f] = 0;  // default initrd max
    BzHeaderInfo h{};
    auto hosted = parse_bzimage(k, EntryMode::k64);
    const BzStatus st = check_bzimage(k.data(), k.size(), BzEntry::k64, h);
    ASSERT_EQ(hosted.ok(), st == BzStatus::kOk) << variant << " " << hosted.error();
    if (!hosted.ok()) continue;
    EXPECT_EQ(h.setup_size, hosted->setup_size);
    EXPECT_EQ(h.payload_size, hosted->payload_size);
    EXPECT_EQ(h.init_size, hosted->init_size);
    EXPECT_EQ(h.kernel_alignment, hosted->kernel_alignment);
    EXPECT_EQ(h.cmdline_max, hosted->cmdline_max);
    EXPECT_EQ(h.initrd_addr_max, hosted->initrd_addr_max);
  }
}

}  // namespace
}  // namespace charon::loader
