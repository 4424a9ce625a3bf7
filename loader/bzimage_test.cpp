#include <charon/loader/bzimage.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

namespace charon::loader {
namespace {

using charon::testing::BzSpec;
using namespace charon::boot;
using charon::testing::make_bzimage;

TEST(BzImage, AcceptsARelocatable64BitKernelAndReadsItsFields) {
  BzSpec s;
  auto f = make_bzimage(s);
  auto k = parse_bzimage(f, EntryMode::k64);
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->setup_size, 5u * 512);
  EXPECT_EQ(k->payload_offset, 5u * 512);
  EXPECT_EQ(k->payload_size, s.payload_bytes);
  EXPECT_EQ(k->init_size, s.init_size);
  EXPECT_EQ(k->kernel_alignment, s.kernel_alignment);
  EXPECT_EQ(k->pref_address, s.pref_address);
  EXPECT_EQ(k->cmdline_max, s.cmdline_size);
  EXPECT_TRUE(k->can_64());
  EXPECT_TRUE(k->above_4g());
  EXPECT_FALSE(k->la57());
}

TEST(BzImage, SetupSectsZeroMeansFour) {
  BzSpec s;
  s.setup_sects = 0;
  auto f = make_bzimage(s);
  auto k = parse_bzimage(f, EntryMode::k64);
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->setup_size, 5u * 512);
}

TEST(BzImage, Xlf5LevelIsReported) {
  BzSpec s;
  s.xloadflags |= XLF_5LEVEL;
  auto f = make_bzimage(s);
  auto k = parse_bzimage(f, EntryMode::k64);
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(k->la57());
}

struct BadCase {
  const char* name;
  void (*mutate)(BzSpec&);
  EntryMode mode;
  const char* expect;  // a substring the message must contain
};

class BzImageRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(BzImageRejects, WithAMessageNamingTheField) {
  BzSpec s;
  GetParam().mutate(s);
  auto f = make_bzimage(s);
  auto k = parse_bzimage(f, GetParam().mode);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find(GetParam().expect), std::string::npos) << k.error();
}

INSTANTIATE_TEST_SUITE_P(
    Header, BzImageRejects,
    ::testing::Values(
        BadCase{"BadMagic", [](BzSpec& s) { s.magic = 0x12345678; }, EntryMode::k64, "HdrS"},
        BadCase{"Protocol2_09", [](BzSpec& s) { s.version = 0x0209; }, EntryMode::k32,
                "2.09 is too old"},
        BadCase{"Protocol2_11For64Bit", [](BzSpec& s) { s.version = 0x020b; }, EntryMode::k64,
                "no 64-bit entry point"},
        BadCase{"NoXlfKernel64", [](BzSpec& s) { s.xloadflags = 0; }, EntryMode::k64,
                "XLF_KERNEL_64"},
        BadCase{"NotRelocatable", [](BzSpec& s) { s.relocatable = 0; }, EntryMode::k64,
                "relocatable_kernel is 0"},
        BadCase{"NotLoadedHigh", [](BzSpec& s) { s.loadflags = 0; }, EntryMode::k64, "LOADED_HIGH"},
        BadCase{"AlignmentNotPowerOfTwo", [](BzSpec& s) { s.kernel_alignment = 0x300000; },
                EntryMode::k64, "kernel_alignment 0x300000"},
        BadCase{"ZeroInitSize", [](BzSpec& s) { s.init_size = 0; }, EntryMode::k64,
                "init_size is 0"},
        BadCase{"InitSizeBelowPayload", [](BzSpec& s) { s.init_size = 0x1000; }, EntryMode::k64,
                "init_size 0x1000"},
        BadCase{"SyssizeBeyondFile", [](BzSpec& s) { s.syssize_override = 0x100000; },
                EntryMode::k64, "syssize 0x100000"},
        BadCase{"SyssizeZero", [](BzSpec& s) { s.syssize_override = 0; }, EntryMode::k64,
                "syssize 0x0"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BzImage, OldProtocolWithoutXloadflagsStillLoadsBy32BitEntry) {
  BzSpec s;
  s.version = 0x020a;
  auto f = make_bzimage(s);
  auto k = parse_bzimage(f, EntryMode::k32);
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_FALSE(k->can_64());
  EXPECT_FALSE(k->above_4g());
}

TEST(BzImage, RejectsAFileTooShortForTheHeader) {
  auto f = make_bzimage(BzSpec{});
  f.resize(0x200);
  auto k = parse_bzimage(f, EntryMode::k64);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("too short"), std::string::npos) << k.error();
}

TEST(BzImage, RejectsAFileCutInsideTheSetupCode) {
  auto f = make_bzimage(BzSpec{});
  f.resize(0x900);  // header intact, setup code (0xa00 bytes) cut short
  auto k = parse_bzimage(f, EntryMode::k64);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("truncated"), std::string::npos) << k.error();
}

TEST(BzImage, RejectsAFileCutInsideThePayload) {
  auto f = make_bzimage(BzSpec{});
  f.resize(f.size() - 4096);
  auto k = parse_bzimage(f, EntryMode::k64);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("truncated"), std::string::npos) << k.error();
}

TEST(BzImage, EveryPrefixOfAValidImageIsRejectedOrParsedWithoutCrashing) {
  const auto f = make_bzimage(BzSpec{});
  size_t accepted = 0;
  for (size_t n = 0; n < f.size(); n += 97) {
    std::vector<uint8_t> p(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
    auto k = parse_bzimage(p, EntryMode::k64);
    if (k.ok()) {
      ++accepted;
      EXPECT_LE(k->payload_offset + k->payload_size, n);
    }
  }
  // Cutting more than the 15-byte paragraph slack of syssize is caught.
  EXPECT_EQ(accepted, 0u);
}

}  // namespace
}  // namespace charon::loader
