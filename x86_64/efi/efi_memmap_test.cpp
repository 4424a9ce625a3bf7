#include "efi_memmap.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace charon::efi {
namespace {

using loader::E820Type;

// A firmware map with a descriptor size larger than the struct, as real
// firmware uses (OVMF: 48 bytes), so every stride bug shows.
struct FakeMap {
  size_t stride = 48;
  std::vector<uint8_t> bytes;
  void add(EfiMemType t, uint64_t start, uint64_t pages, uint64_t attr = 0) {
    const size_t off = bytes.size();
    bytes.resize(off + stride, 0xcc);  // garbage in the padding
    EfiMemDesc d{static_cast<uint32_t>(t), 0, start, 0, pages, attr};
    std::memcpy(bytes.data() + off, &d, sizeof d);
  }
  EfiMemMap map() const { return {bytes.data(), bytes.size(), stride}; }
};

TEST(EfiMemmap, TypesBecomeWhatTheKernelMayUseAfterExitBootServices) {
  auto type = [](EfiMemType t, uint64_t attr = 0) {
    return e820_type_of(EfiMemDesc{static_cast<uint32_t>(t), 0, 0, 0, 1, attr});
  };
  EXPECT_EQ(type(EfiMemType::kConventional), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kBootServicesCode), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kBootServicesData), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kLoaderCode), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kLoaderData), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kRuntimeServicesCode), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kRuntimeServicesData), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kAcpiReclaim), E820Type::kAcpi);
  EXPECT_EQ(type(EfiMemType::kAcpiNvs), E820Type::kNvs);
  EXPECT_EQ(type(EfiMemType::kReserved), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kMmio), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kUnusable), E820Type::kUnusable);
  EXPECT_EQ(type(EfiMemType::kPersistent), E820Type::kPmem);
  EXPECT_EQ(type(EfiMemType::kUnaccepted), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kConventional, kEfiMemorySp), E820Type::kSoftReserved);
}

TEST(EfiMemmap, E820IsSortedAndMergedAcrossOutOfOrderDescriptors) {
  FakeMap m;
  m.add(EfiMemType::kBootServicesData, 0x100000, 0x10);  // RAM, after the next
  m.add(EfiMemType::kConventional, 0x0, 0xa0);           // RAM [0, 640K)
  m.add(EfiMemType::kConventional, 0x110000, 0x10);      // RAM, adjacent to the first
  m.add(EfiMemType::kRuntimeServicesData, 0x120000, 1);
  m.add(EfiMemType::kAcpiNvs, 0x121000, 2);
  m.add(EfiMemType::kLoaderData, 0x123000, 0, 0);  // empty: skipped
  loader::boot_params bp{};
  ASSERT_EQ(fill_e820(m.map(), bp), E820Status::kOk);
  ASSERT_EQ(bp.e820_entries, 4);
  EXPECT_EQ(+bp.e820_table[0].addr, 0u);
  EXPECT_EQ(+bp.e820_table[0].size, 0xa0000u);
  EXPECT_EQ(+bp.e820_table[1].addr, 0x100000u);
  EXPECT_EQ(+bp.e820_table[1].size, 0x20000u);
  EXPECT_EQ(+bp.e820_table[1].type, static_cast<uint32_t>(E820Type::kRam));
  EXPECT_EQ(+bp.e820_table[2].type, static_cast<uint32_t>(E820Type::kReserved));
  EXPECT_EQ(+bp.e820_table[3].addr, 0x121000u);
  EXPECT_EQ(+bp.e820_table[3].type, static_cast<uint32_t>(E820Type::kNvs));
}

TEST(EfiMemmap, MoreThanTheZeroPageHoldsIsAnError) {
  FakeMap m;
  for (int i = 0; i < 130; ++i)  // alternate types: nothing merges
    m.add(i % 2 ? EfiMemType::kConventional : EfiMemType::kAcpiNvs, 0x100000ull + i * 0x1000, 1);
  loader::boot_params bp{};
  EXPECT_EQ(fill_e820(m.map(), bp), E820Status::kTooMany);
}

TEST(EfiMemmap, DescriptorSizeBelowTheStructIsRejected) {
  FakeMap m;
  m.stride = 40;
  m.add(EfiMemType::kConventional, 0, 1);
  loader::boot_params bp{};
  EfiMemMap map = m.map();
  map.desc_size = 24;
  EXPECT_EQ(fill_e820(map, bp), E820Status::kBadDescSize);
}

TEST(EfiMemmap, FreeRangesAreConventionalOnlyAboveTheFloorAndMerged) {
  FakeMap m;
  m.add(EfiMemType::kConventional, 0x0, 0xa0);  // below the floor
  m.add(EfiMemType::kConventional, 0x300000, 0x100);
  m.add(EfiMemType::kConventional, 0x200000, 0x100);  // merges with the one above
  m.add(EfiMemType::kBootServicesData, 0x400000, 0x100);
  m.add(EfiMemType::kConventional, 0x800000, 0x100, kEfiMemorySp);
  m.add(EfiMemType::kConventional, 0xf0000, 0x20);  // straddles the floor
  FreeRange out[8];
  const size_t n = free_ranges(m.map(), 0x100000, out, 8);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(out[0].start, 0x100000u);
  EXPECT_EQ(out[0].end, 0x110000u);
  EXPECT_EQ(out[1].start, 0x200000u);
  EXPECT_EQ(out[1].end, 0x400000u);
}

TEST(EfiMemmap, TopOfRamIgnoresReservedAndMmio) {
  FakeMap m;
  m.add(EfiMemType::kConventional, 0x100000, 0x100);
  m.add(EfiMemType::kMmio, 0xfec00000, 1);
  m.add(EfiMemType::kLoaderData, 0x40000000, 0x10);
  EXPECT_EQ(top_of_ram(m.map()), 0x40010000u);
}

}  // namespace
}  // namespace charon::efi
