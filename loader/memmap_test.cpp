#include <charon/loader/memmap.h>
#include <gtest/gtest.h>

#include "testdata/test_util.h"

namespace charon::loader {
namespace {

using namespace charon::boot;

using testing::TempDir;
using testing::write_file;

constexpr const char* kIomem =
    "00000000-00000fff : Reserved\n"
    "00001000-0009fbff : System RAM\n"
    "0009fc00-000fffff : Reserved\n"
    "  000f0000-000fffff : System ROM\n"
    "00100000-3ffdffff : System RAM\n"
    "  01000000-01ffffff : Kernel code\n"
    "  30000000-37ffffff : Crash kernel\n"
    "3ffe0000-3fffffff : ACPI Tables\n"
    "40000000-4000ffff : ACPI Non-volatile Storage\n"
    "c0000000-febfffff : PCI Bus 0000:00\n"
    "100000000-17fffffff : System RAM\n"
    "180000000-1bfffffff : Persistent Memory (legacy)\n";

TEST(Iomem, TopLevelLinesGiveTheMapAndNestedOnesAreIgnored) {
  auto m = parse_iomem(kIomem);
  ASSERT_TRUE(m.ok()) << m.error();
  const std::vector<MemRange> want = {
      {0x0, 0x1000, E820Type::kReserved},         {0x1000, 0x9fc00, E820Type::kRam},
      {0x9fc00, 0x100000, E820Type::kReserved},   {0x100000, 0x3ffe0000, E820Type::kRam},
      {0x3ffe0000, 0x40000000, E820Type::kAcpi},  {0x40000000, 0x40010000, E820Type::kNvs},
      {0x100000000, 0x180000000, E820Type::kRam}, {0x180000000, 0x1c0000000, E820Type::kPram},
  };
  EXPECT_EQ(m->ranges, want);
}

TEST(Iomem, NestedCrashKernelLineIsTheCrashReservation) {
  auto m = parse_iomem(kIomem);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->crash_kernel.size(), 1u);
  EXPECT_EQ(m->crash_kernel[0].start, 0x30000000u);
  EXPECT_EQ(m->crash_kernel[0].end, 0x38000000u);
}

TEST(Iomem, TouchingRangesOfOneTypeAreMerged) {
  auto m = parse_iomem("00100000-001fffff : System RAM\n00200000-002fffff : System RAM\n");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->ranges.size(), 1u);
  EXPECT_EQ(m->ranges[0].end, 0x300000u);
}

TEST(Iomem, AddressesHiddenFromNonRootAreSkipped) {
  auto m = parse_iomem("00000000-00000000 : System RAM\n00000000-00000000 : Reserved\n");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->ranges.empty());
}

struct BadLine {
  const char* text;
  const char* expect;
};
class IomemRejects : public ::testing::TestWithParam<BadLine> {};
TEST_P(IomemRejects, MalformedLineWithItsNumber) {
  auto m = parse_iomem(std::string("00100000-001fffff : System RAM\n") + GetParam().text);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find(GetParam().expect), std::string::npos) << m.error();
  EXPECT_NE(m.error().find("line 2"), std::string::npos) << m.error();
}
INSTANTIATE_TEST_SUITE_P(
    Lines, IomemRejects,
    ::testing::Values(BadLine{"00200000-002fffff System RAM\n", "not \"start-end : name\""},
                      BadLine{"0020zz00-002fffff : System RAM\n", "bad address"},
                      BadLine{"00300000-002fffff : System RAM\n", "ends"},
                      BadLine{"00200000-12345678901234567 : System RAM\n", "bad address"},
                      BadLine{"00200000-ffffffffffffffff : System RAM\n", "end of the address"}));

TEST(Iomem, OverlappingTopLevelRangesAreAnError) {
  auto m = parse_iomem("00100000-002fffff : System RAM\n00200000-003fffff : Reserved\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("overlaps"), std::string::npos) << m.error();
}

TEST(FirmwareMemmap, ReadsEveryEntryWithInclusiveEnds) {
  TempDir t;
  const auto d = t.path() / "memmap";
  write_file(d / "0/start", "0x0\n");
  write_file(d / "0/end", "0x9fbff\n");
  write_file(d / "0/type", "System RAM\n");
  write_file(d / "1/start", "0x100000\n");
  write_file(d / "1/end", "0x7fffffff\n");
  write_file(d / "1/type", "System RAM\n");
  write_file(d / "2/start", "0xfeffc000\n");
  write_file(d / "2/end", "0xfeffffff\n");
  write_file(d / "2/type", "Reserved\n");
  write_file(d / "10/start", "0x100000000\n");
  write_file(d / "10/end", "0x1ffffffff\n");
  write_file(d / "10/type", "Some Future Type\n");
  auto m = read_firmware_memmap(d.string());
  ASSERT_TRUE(m.ok()) << m.error();
  const std::vector<MemRange> want = {{0, 0x9fc00, E820Type::kRam},
                                      {0x100000, 0x80000000, E820Type::kRam},
                                      {0xfeffc000, 0xff000000, E820Type::kReserved},
                                      {0x100000000, 0x200000000, E820Type::kReserved}};
  EXPECT_EQ(m->ranges, want);
}

TEST(FirmwareMemmap, ABadNumberNamesTheFile) {
  TempDir t;
  const auto d = t.path() / "memmap";
  write_file(d / "0/start", "0xZZ\n");
  write_file(d / "0/end", "0x9fbff\n");
  write_file(d / "0/type", "System RAM\n");
  auto m = read_firmware_memmap(d.string());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("memmap/0/start"), std::string::npos) << m.error();
}

TEST(SystemMemoryMap, PrefersFirmwareMemmapAndTakesTheCrashRangeFromIomem) {
  TempDir t;
  const auto d = t.path() / "sys/firmware/memmap";
  write_file(d / "0/start", "0x100000\n");
  write_file(d / "0/end", "0x7fffffff\n");
  write_file(d / "0/type", "System RAM\n");
  write_file(t.path() / "proc/iomem", kIomem);
  auto m = read_system_memory_map(t.path().string());
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->ranges.size(), 1u);
  EXPECT_EQ(m->ranges[0].end, 0x80000000u);
  ASSERT_EQ(m->crash_kernel.size(), 1u);
}

TEST(SystemMemoryMap, FallsBackToIomemWithoutFirmwareMemmap) {
  TempDir t;
  write_file(t.path() / "proc/iomem", kIomem);
  auto m = read_system_memory_map(t.path().string());
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->ranges.size(), 8u);
}

TEST(SystemMemoryMap, NeitherSourceIsAClearError) {
  TempDir t;
  auto m = read_system_memory_map(t.path().string());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("no memory map"), std::string::npos) << m.error();
}

}  // namespace
}  // namespace charon::loader
