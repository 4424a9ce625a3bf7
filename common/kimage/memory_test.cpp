// The memory the purgatory's map covers, from a machine's memory map.
#include <charon/kimage/image.h>
#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace charon::kimage {
namespace {

using boot::E820Type;

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;  // {start, len}

Ranges ranges(const std::vector<MemRange>& map, size_t* closed = nullptr) {
  charon_region out[CHARON_MAX_MEMORY_RANGES];
  size_t n = 99;
  const size_t c = memory_ranges(map.data(), map.size(), out, n);
  if (closed) *closed = c;
  for (size_t i = n; i < CHARON_MAX_MEMORY_RANGES; ++i) EXPECT_EQ(out[i].len, 0u) << i;
  Ranges r;
  for (size_t i = 0; i < n; ++i) r.push_back({out[i].start, out[i].len});
  return r;
}

TEST(MemoryRanges, RamAcpiAndNvsAreMemoryAndTouchingOnesMergeInAnyOrder) {
  const std::vector<MemRange> map = {{0x100000, 0x7ff00000, E820Type::kRam},
                                     {0x7ff00000, 0x7ff80000, E820Type::kAcpi},
                                     {0x7ff80000, 0x7ffc0000, E820Type::kNvs},
                                     {0x7ffc0000, 0x80000000, E820Type::kReserved},
                                     {0, 0x9fc00, E820Type::kRam},
                                     {0x9fc00, 0x100000, E820Type::kReserved},
                                     {0xfed00000, 0xfed01000, E820Type::kReserved},
                                     {0x100000000, 0x140000000, E820Type::kRam},
                                     {0x140000000, 0x180000000, E820Type::kPmem},
                                     {0x180000000, 0x190000000, E820Type::kUnusable},
                                     {0x190000000, 0x1a0000000, E820Type::kSoftReserved}};
  size_t closed = 9;
  const auto r = ranges(map, &closed);
  const Ranges want = {{0, 0x9fc00}, {0x100000, 0x7fec0000}, {0x100000000, 0x40000000}};
  EXPECT_EQ(r, want);
  EXPECT_EQ(closed, 0u);
}

TEST(MemoryRanges, OverlappingAndEmptyEntriesAreTakenOnce) {
  const auto r = ranges({{0x200000, 0x400000, E820Type::kRam},
                         {0x300000, 0x500000, E820Type::kRam},
                         {0x600000, 0x600000, E820Type::kRam},
                         {0x100000, 0x200000, E820Type::kAcpi}});
  EXPECT_EQ(r, (Ranges{{0x100000, 0x400000}}));
}

TEST(MemoryRanges, BeyondTheBlocksCapacityTheSmallestGapsCloseFirst) {
  // 40 ranges of 1 MiB: gaps of 4 MiB, but every fourth one only 8 KiB.
  std::vector<MemRange> map;
  uint64_t at = 0x100000;
  for (int i = 0; i < 40; ++i) {
    map.push_back({at, at + 0x100000, E820Type::kRam});
    at += 0x100000 + (i % 4 == 3 ? 0x2000 : 0x400000);
  }
  size_t closed = 0;
  const auto r = ranges(map, &closed);
  ASSERT_EQ(r.size(), size_t{CHARON_MAX_MEMORY_RANGES});
  EXPECT_EQ(closed, 8u);
  // The 8 KiB gaps after ranges 3, 7, ..., 31 are the ones closed.
  for (const auto& [start, len] : r) {
    for (int i = 0; i < 39; ++i) {
      const uint64_t gap_start = map[i].end, gap_end = map[i + 1].start;
      const bool covered = start <= gap_start && gap_end <= start + len;
      if (covered) EXPECT_EQ(gap_end - gap_start, 0x2000u) << "gap after range " << i;
    }
  }
  EXPECT_EQ(r.front().first, 0x100000u);
  EXPECT_EQ(r.back().first + r.back().second, map.back().end);
}

}  // namespace
}  // namespace charon::kimage
