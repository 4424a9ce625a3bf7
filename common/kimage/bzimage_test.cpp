// The one set of bzImage header checks: every field a loader needs, and
// one status per broken rule of boot.rst.
#include <charon/kimage/bzimage.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <vector>

namespace charon::kimage {
namespace {

using namespace charon::boot;

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

TEST(BzImage, GoodHeaderGivesTheFieldsALoaderNeeds) {
  const std::vector<uint8_t> k = good_header();
  BzImage h{};
  ASSERT_EQ(parse_bzimage(k.data(), k.size(), Entry::k64, h), Status::kOk);
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
  EXPECT_TRUE(h.can_64());
  EXPECT_FALSE(h.above_4g());
  EXPECT_EQ(h.footprint(), 0x100000u);
}

struct Damage {
  size_t off;
  uint8_t value;
  Entry entry;
  Status want;
};

class BzImageDamage : public ::testing::TestWithParam<Damage> {};

TEST_P(BzImageDamage, EachBrokenRuleHasItsOwnStatusAndSentence) {
  std::vector<uint8_t> k = good_header();
  k[GetParam().off] = GetParam().value;
  BzImage h{};
  EXPECT_EQ(parse_bzimage(k.data(), k.size(), GetParam().entry, h), GetParam().want);
  EXPECT_STRNE(status_message(GetParam().want), "?");
}

INSTANTIATE_TEST_SUITE_P(Each, BzImageDamage,
                         ::testing::Values(Damage{0x202, 'X', Entry::k64, Status::kNoHdrS},
                                           Damage{0x1fe, 0, Entry::k64, Status::kBadBootFlag},
                                           Damage{0x206, 0x09, Entry::k64, Status::kProtocolTooOld},
                                           Damage{0x211, 0, Entry::k64, Status::kNotLoadedHigh},
                                           Damage{0x234, 0, Entry::k64, Status::kNotRelocatable},
                                           Damage{0x1f1, 40, Entry::k64, Status::kSetupPastEnd},
                                           Damage{0x1f5, 0x10, Entry::k64, Status::kBadSyssize},
                                           Damage{0x232, 0x30, Entry::k64, Status::kBadAlignment},
                                           Damage{0x262, 0, Entry::k64, Status::kNoInitSize},
                                           Damage{0x236, 0, Entry::k64, Status::kNo64BitEntry}));

TEST(BzImage, NoXloadflagsIsFineForThe32BitEntry) {
  std::vector<uint8_t> k = good_header();
  k[0x236] = 0;
  BzImage h{};
  EXPECT_EQ(parse_bzimage(k.data(), k.size(), Entry::k32, h), Status::kOk);
}

TEST(BzImage, TooShortFileIsRefusedBeforeAnyRead) {
  const std::vector<uint8_t> k(0x200, 0);
  BzImage h{};
  EXPECT_EQ(parse_bzimage(k.data(), k.size(), Entry::k64, h), Status::kTooShort);
}

TEST(BzImage, SetupSectsZeroMeansFourAndInitrdMaxZeroMeansTheOldDefault) {
  charon::testing::BzSpec spec;
  spec.setup_sects = 0;
  spec.initrd_addr_max = 0;
  const std::vector<uint8_t> k = charon::testing::make_bzimage(spec);
  BzImage h{};
  ASSERT_EQ(parse_bzimage(k.data(), k.size(), Entry::k64, h), Status::kOk);
  EXPECT_EQ(h.setup_size, 5u * 512);
  EXPECT_EQ(h.initrd_addr_max, 0x37ffffffu);
}

TEST(BzImage, EveryPrefixIsRefusedOrParsedWithoutReadingPastIt) {
  const std::vector<uint8_t> full = charon::testing::make_bzimage({});
  for (size_t n = 0; n <= full.size(); n += 97) {
    std::vector<uint8_t> k(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    BzImage h{};
    const Status s = parse_bzimage(k.data(), k.size(), Entry::k64, h);
    if (s == Status::kOk) EXPECT_LE(h.payload_offset + h.payload_size, n);
  }
}

TEST(BzImage, CommandLineChecks) {
  BzImage h{};
  h.cmdline_max = 4;
  EXPECT_EQ(check_cmdline(h, "abcd", 4), Status::kOk);
  EXPECT_EQ(check_cmdline(h, "abcde", 5), Status::kCmdlineTooLong);
  EXPECT_EQ(check_cmdline(h, "a\0c", 3), Status::kCmdlineHasNul);
}

}  // namespace
}  // namespace charon::kimage
