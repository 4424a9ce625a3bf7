// The identity-map builder, checked by walking the tables it builds the way
// the MMU would. [intel/vol3]: 4.5.
#include <charon/x86/identity_map.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "test_tables.h"

namespace charon::x86 {
namespace {

using walker::HostArena;
using walker::Walk;
using walker::walk;

constexpr uint64_t KiB = 1024, MiB = KiB * KiB, GiB = MiB * KiB, TiB = GiB * KiB;
constexpr MapPolicy k4Level1G{.gbpages = true, .la57 = false};
constexpr MapPolicy k4Level2M{.gbpages = false, .la57 = false};
constexpr MapPolicy k5Level1G{.gbpages = true, .la57 = true};
constexpr MapPolicy k5Level2M{.gbpages = false, .la57 = true};

// Checks [start, end) maps onto itself: every 2 MiB step for spans up to a
// few GiB, 4096 random samples beyond, and both ends always.
void expect_identity(const TableArena& arena, uint64_t root, bool la57, uint64_t start,
                     uint64_t end, std::mt19937_64& rng) {
  auto check = [&](uint64_t va) {
    const Walk w = walk(arena, root, la57, va);
    EXPECT_TRUE(w.present) << std::hex << va;
    EXPECT_EQ(w.phys, va);
  };
  check(start);
  check(end - 1);
  if (end - start <= 8 * GiB) {
    for (uint64_t va = start; va < end; va += 2 * MiB) check(va);
  } else {
    for (int i = 0; i < 4096; ++i) check(start + rng() % (end - start));
  }
}

bool present(const HostArena& h, const IdentityMap& m, MapPolicy p, uint64_t va) {
  return walk(h.arena, m.root(), p.la57, va).present;
}

TEST(PteTest, LeafAddressMaskKeepsPatAndLowBitsOutOfTheAddress) {
  // Bit 12 is PAT in a 2 MiB or 1 GiB leaf, an address bit in a table entry.
  const Pte e(0x8000'0001'2345'f083);
  EXPECT_EQ(e.table_address(), 0x1'2345'f000u);
  EXPECT_EQ(e.leaf_address(PageSize::k2M), 0x1'2340'0000u);
  EXPECT_EQ(e.leaf_address(PageSize::k1G), 0x1'0000'0000u);
  EXPECT_TRUE(e.present() && e.writable() && e.ps() && e.nx());
  EXPECT_FALSE(e.user() || e.accessed() || e.global());
  Pte f(e.raw());
  f.set_leaf_address(PageSize::k2M, 0xfff'ffff'ffe0'0000);
  EXPECT_EQ(f.raw(), 0x800f'ffff'ffe5'f083u) << "only bits 51:21 change";
}

TEST(IdentityMapTest, MapsFirstFourGiBOntoItselfWithFourOneGiBLeaves) {
  HostArena h(8);
  IdentityMap m(h.arena, k4Level1G);
  ASSERT_EQ(m.init(), MapStatus::Ok);
  ASSERT_EQ(m.map(0, 4 * GiB), MapStatus::Ok);
  std::mt19937_64 rng(1);
  expect_identity(h.arena, m.root(), false, 0, 4 * GiB, rng);
  EXPECT_EQ(walk(h.arena, m.root(), false, 3 * GiB).leaf_shift, kPdptShift);
  EXPECT_EQ(h.arena.used, 2u) << "PML4 and one PDPT";
  for (uint64_t far : {4 * GiB, 5 * GiB, 512 * GiB, 100 * TiB})
    EXPECT_FALSE(present(h, m, k4Level1G, far)) << std::hex << far;
  EXPECT_TRUE(h.guards_intact());
}

TEST(IdentityMapTest, WithoutOneGiBPagesUsesOnlyTwoMiBLeaves) {
  HostArena h(16);
  IdentityMap m(h.arena, k4Level2M);
  ASSERT_EQ(m.map(0, 4 * GiB), MapStatus::Ok);
  std::mt19937_64 rng(2);
  expect_identity(h.arena, m.root(), false, 0, 4 * GiB, rng);
  for (uint64_t va = 0; va < 4 * GiB; va += 2 * MiB)
    ASSERT_EQ(walk(h.arena, m.root(), false, va).leaf_shift, kPdShift) << std::hex << va;
  EXPECT_EQ(h.arena.used, 6u) << "PML4, PDPT and four page directories";
  EXPECT_FALSE(present(h, m, k4Level2M, 4 * GiB));
}

TEST(IdentityMapTest, UntypedMapsNeverUseFourKiBPages) {
  HostArena h(16);
  IdentityMap m(h.arena, k4Level1G);
  ASSERT_EQ(m.map(0x1234'5678, 0x1234'5679), MapStatus::Ok);
  ASSERT_EQ(m.map(3 * GiB - 4096, 5 * GiB + 4096), MapStatus::Ok);
  size_t leaves = 0;
  walker::for_each_leaf(h.arena, m.root(), false, [&](uint64_t va, unsigned shift) {
    ++leaves;
    EXPECT_NE(shift, kPtShift) << std::hex << va;
  });
  EXPECT_EQ(leaves, 5u) << "2 MiB at 0x12200000 and below 3 GiB, 1 GiB at 3 and 4, 2 MiB at 5";
}

TEST(IdentityMapTest, FiveLevelTablesMapAddressesAboveTheFourLevelLimit) {
  for (MapPolicy p : {k5Level1G, k5Level2M}) {
    HostArena h(32);
    IdentityMap m(h.arena, p);
    const uint64_t high = (uint64_t{1} << 51) + 3 * GiB + 6 * MiB;
    ASSERT_EQ(m.map(0, 1 * GiB), MapStatus::Ok);
    ASSERT_EQ(m.map(high, high + 3 * GiB), MapStatus::Ok);
    std::mt19937_64 rng(3);
    expect_identity(h.arena, m.root(), true, 0, 1 * GiB, rng);
    expect_identity(h.arena, m.root(), true, high, high + 3 * GiB, rng);
    EXPECT_FALSE(present(h, m, p, high - 2 * MiB));
    EXPECT_FALSE(present(h, m, p, high + 3 * GiB));
    EXPECT_FALSE(present(h, m, p, uint64_t{1} << 48));
    EXPECT_EQ(h.arena.used, p.gbpages ? 7u : 10u);
  }
}

TEST(IdentityMapTest, MapsRangesAboveFourGiBAndUpToTheTopOfTheAddressSpace) {
  for (MapPolicy p : {k4Level1G, k4Level2M, k5Level1G, k5Level2M}) {
    HostArena h(64);
    IdentityMap m(h.arena, p);
    const uint64_t top = idmap_limit(p);
    ASSERT_EQ(m.map(5 * GiB + 4 * MiB, 7 * GiB), MapStatus::Ok);
    ASSERT_EQ(m.map(top - 3 * GiB - 2 * MiB, top), MapStatus::Ok);
    std::mt19937_64 rng(4);
    expect_identity(h.arena, m.root(), p.la57, 5 * GiB + 4 * MiB, 7 * GiB, rng);
    expect_identity(h.arena, m.root(), p.la57, top - 3 * GiB - 2 * MiB, top, rng);
    EXPECT_FALSE(present(h, m, p, top - 3 * GiB - 4 * MiB));
    EXPECT_FALSE(present(h, m, p, 7 * GiB));
    EXPECT_FALSE(present(h, m, p, 4 * GiB));
  }
}

TEST(IdentityMapTest, UnalignedStartAndEndAreRoundedOutToTwoMiB) {
  HostArena h(8);
  IdentityMap m(h.arena, k4Level1G);
  ASSERT_EQ(m.map(0x1234'5678, 0x5400'0001), MapStatus::Ok);
  std::mt19937_64 rng(5);
  expect_identity(h.arena, m.root(), false, 0x1220'0000, 0x5420'0000, rng);
  EXPECT_FALSE(present(h, m, k4Level1G, 0x1220'0000 - 1));
  EXPECT_FALSE(present(h, m, k4Level1G, 0x5420'0000));
}

TEST(IdentityMapTest, RepeatedAndOverlappingMapsChangeAndAllocateNothing) {
  for (MapPolicy p : {k4Level1G, k4Level2M, k5Level1G}) {
    HostArena h(64);
    IdentityMap m(h.arena, p);
    ASSERT_EQ(m.map(1 * GiB + 2 * MiB, 6 * GiB), MapStatus::Ok);
    ASSERT_EQ(m.map(600 * GiB, 601 * GiB + 1), MapStatus::Ok);
    const size_t used = h.arena.used;
    const std::vector<uint8_t> before = h.snapshot();
    ASSERT_EQ(m.map(1 * GiB + 2 * MiB, 6 * GiB), MapStatus::Ok);
    ASSERT_EQ(m.map(2 * GiB, 3 * GiB), MapStatus::Ok);
    ASSERT_EQ(m.map(1 * GiB + 3 * MiB, 1 * GiB + 5 * MiB), MapStatus::Ok);
    ASSERT_EQ(m.map(600 * GiB + 7, 600 * GiB + 8), MapStatus::Ok);
    ASSERT_EQ(m.init(), MapStatus::Ok);
    EXPECT_EQ(h.arena.used, used);
    EXPECT_TRUE(h.snapshot() == before) << "a covered range rewrote an entry";
  }
}

TEST(IdentityMapTest, PresentOneGiBLeafIsNeverSplitByALaterPartialRange) {
  HostArena h(8);
  IdentityMap m(h.arena, k4Level1G);
  ASSERT_EQ(m.map(2 * GiB, 3 * GiB), MapStatus::Ok);
  const size_t used = h.arena.used;
  ASSERT_EQ(m.map(2 * GiB + 10 * MiB, 3 * GiB + 4 * MiB), MapStatus::Ok);
  EXPECT_EQ(walk(h.arena, m.root(), false, 2 * GiB + 10 * MiB).leaf_shift, kPdptShift);
  EXPECT_EQ(h.arena.used, used + 1) << "only the GiB above needs a page directory";
  std::mt19937_64 rng(6);
  expect_identity(h.arena, m.root(), false, 2 * GiB, 3 * GiB + 4 * MiB, rng);
}

TEST(IdentityMapTest, WholeGiBAfterAPartialOneFillsTheExistingDirectory) {
  HostArena h(8);
  IdentityMap m(h.arena, k4Level1G);
  ASSERT_EQ(m.map(2 * GiB + 10 * MiB, 2 * GiB + 20 * MiB), MapStatus::Ok);
  const size_t used = h.arena.used;
  ASSERT_EQ(m.map(2 * GiB, 3 * GiB), MapStatus::Ok);
  EXPECT_EQ(h.arena.used, used);
  std::mt19937_64 rng(7);
  expect_identity(h.arena, m.root(), false, 2 * GiB, 3 * GiB, rng);
  EXPECT_EQ(walk(h.arena, m.root(), false, 2 * GiB).leaf_shift, kPdShift);
}

TEST(IdentityMapTest, BadRangesAreRejectedWithoutAllocating) {
  for (MapPolicy p : {k4Level1G, k5Level2M}) {
    HostArena h(8);
    IdentityMap m(h.arena, p);
    const uint64_t top = idmap_limit(p);
    EXPECT_EQ(m.map(4 * MiB, 4 * MiB), MapStatus::BadRange);
    EXPECT_EQ(m.map(4 * MiB, 2 * MiB), MapStatus::BadRange);
    EXPECT_EQ(m.map(top - 2 * MiB, top + 1), MapStatus::BadRange);
    EXPECT_EQ(m.map(0, ~uint64_t{0}), MapStatus::BadRange);
    EXPECT_EQ(h.arena.used, 0u);
    EXPECT_EQ(m.root(), 0u);
    EXPECT_EQ(m.map(top - 1, top), MapStatus::Ok) << "the limit itself is an allowed end";
  }
  EXPECT_EQ(idmap_limit(k4Level1G), uint64_t{1} << 47);
  EXPECT_EQ(idmap_limit(k5Level1G), uint64_t{1} << 52);
}

TEST(IdentityMapTest, MisalignedOrZeroArenaIsRejected) {
  HostArena h(4);
  TableArena a = h.arena;
  a.phys_base += 8;
  EXPECT_EQ(IdentityMap(a, k4Level1G).init(), MapStatus::Misaligned);
  a = h.arena;
  a.phys_base = 0;
  EXPECT_EQ(IdentityMap(a, k4Level1G).init(), MapStatus::Misaligned);
  a = h.arena;
  a.virt_base += 64;
  EXPECT_EQ(IdentityMap(a, k4Level1G).map(0, GiB), MapStatus::Misaligned);
  EXPECT_EQ(a.used, 0u);
}

TEST(TableArenaTest, AllocReturnsZeroedPagesInOrderThenZero) {
  HostArena h(2, 0x20'0000);
  EXPECT_EQ(h.arena.alloc(), 0x20'0000u);
  EXPECT_EQ(h.arena.alloc(), 0x20'1000u);
  EXPECT_EQ(h.arena.alloc(), 0u);
  EXPECT_EQ(h.arena.used, 2u);
  const auto* page = static_cast<const uint8_t*>(h.arena.to_virt(0x20'1000));
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(std::all_of(page, page + kPageSize, [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(h.arena.to_virt(0x20'2000), nullptr);
  EXPECT_EQ(h.arena.to_virt(0x1f'f000), nullptr);
  EXPECT_TRUE(h.guards_intact());
}

TEST(IdentityMapTest, TooSmallArenaFailsCleanlyAtEverySize) {
  const std::vector<charon_region> ranges = {
      {0, 3 * GiB + 6 * MiB}, {700 * GiB + 1, 2 * GiB}, {5 * GiB, 40 * MiB}};
  for (MapPolicy p : {k4Level1G, k4Level2M, k5Level1G}) {
    const size_t need = idmap_pages_needed(ranges.data(), ranges.size(), p);
    for (size_t pages = 0; pages < need; ++pages) {
      HostArena h(pages);
      IdentityMap m(h.arena, p);
      MapStatus last = m.init();
      for (const charon_region& r : ranges)
        if (last == MapStatus::Ok) last = m.map(r.start, r.start + r.len);
      EXPECT_EQ(last, MapStatus::OutOfTables) << pages << " of " << need;
      EXPECT_EQ(h.arena.used, pages);
      EXPECT_TRUE(h.guards_intact());
      // Valid, just incomplete: whatever is present maps onto itself.
      std::mt19937_64 rng(pages);
      for (int i = 0; i < 2000 && m.root() != 0; ++i) {
        const uint64_t va = rng() % (704 * GiB);
        const Walk w = walk(h.arena, m.root(), p.la57, va);
        if (w.present) ASSERT_EQ(w.phys, va);
      }
    }
  }
}

TEST(IdentityMapTest, PagesNeededCountsRootAndIgnoresEmptyOrRejectedRanges) {
  const charon_region none[] = {{5 * GiB, 0}, {~uint64_t{0} - 5, 10}, {0, uint64_t{1} << 48}};
  EXPECT_EQ(idmap_pages_needed(none, 3, k4Level1G), 1u);
  EXPECT_EQ(idmap_pages_needed(nullptr, 0, k5Level1G), 1u);
  const charon_region four_gib[] = {{0, 4 * GiB}};
  EXPECT_EQ(idmap_pages_needed(four_gib, 1, k4Level1G), 2u);
  EXPECT_EQ(idmap_pages_needed(four_gib, 1, k4Level2M), 6u);
  EXPECT_EQ(idmap_pages_needed(four_gib, 1, k5Level1G), 3u);
  const charon_region inside_one_gib[] = {{2 * GiB, 4 * MiB}};
  EXPECT_EQ(idmap_pages_needed(inside_one_gib, 1, k4Level1G), 3u) << "a part of a GiB needs a PD";
}

// A random range: mostly clustered below 64 GiB so that ranges overlap
// and share tables, some near the top of the address space, some huge,
// some empty, some rejected.
charon_region random_range(std::mt19937_64& rng, MapPolicy p) {
  const uint64_t top = idmap_limit(p);
  const uint64_t cluster = (rng() % 3) * 512 * GiB;  // neighbouring PDPTs
  switch (rng() % 9) {
    case 0:
      return {cluster + rng() % (64 * GiB), rng() % (64 * MiB)};
    case 1:
      return {cluster + (rng() % 64) * GiB, (1 + rng() % 8) * GiB};
    case 2:
      return {cluster + rng() % (16 * GiB), rng() % (5 * GiB)};
    case 3:
      return {rng() % (64 * GiB), 0};
    case 4: {
      const uint64_t start = top - 1 - rng() % (8 * GiB);
      return {start, 1 + rng() % (top - start)};
    }
    case 5:  // past the limit, or wrapping
      return rng() % 2 ? charon_region{top - GiB, 2 * GiB} : charon_region{~uint64_t{0} - 5, 64};
    case 7:  // GiB-aligned start, ending inside that GiB or just after it
      return {cluster + (rng() % 8) * GiB, rng() % (GiB + 8 * MiB)};
    case 6:  // huge; without 1 GiB pages every GiB costs a page directory
      return {rng() % top, (1 + rng() % 64) * (p.gbpages ? 64 * GiB : GiB)};
    default:
      return {cluster + (1 + rng() % 40) * GiB - rng() % (4 * MiB), rng() % (3 * GiB)};
  }
}

// The reference for what is mapped: the union of the accepted ranges,
// each rounded out to 2 MiB.
bool accepted(const charon_region& r, MapPolicy p) {
  const uint64_t end = r.start + r.len;
  return end > r.start && end <= idmap_limit(p);
}

bool in_rounded_union(const std::vector<charon_region>& ranges, MapPolicy p, uint64_t va) {
  for (const charon_region& r : ranges) {
    if (!accepted(r, p)) continue;
    const uint64_t end = r.start + r.len;
    const uint64_t s = r.start & ~(2 * MiB - 1), e = (end + 2 * MiB - 1) & ~(2 * MiB - 1);
    if (s <= va && va < e) return true;
  }
  return false;
}

TEST(IdentityMapTest, PagesNeededEqualsPagesUsedAndMapsExactlyTheRangesOverRandomSets) {
  std::mt19937_64 rng(0x636861726f6e);  // fixed seed: a failure reproduces
  for (int iter = 0; iter < 2000; ++iter) {
    const MapPolicy p{.gbpages = (iter & 1) != 0, .la57 = (iter & 2) != 0};
    std::vector<charon_region> ranges(rng() % 9);
    for (charon_region& r : ranges) r = random_range(rng, p);
    const size_t need = idmap_pages_needed(ranges.data(), ranges.size(), p);
    ASSERT_LT(need, 5000u) << "generator too generous at iteration " << iter;

    // An arena of exactly the predicted size: too few pages would fail
    // with OutOfTables, too many would leave `used` short of it.
    HostArena h(need);
    IdentityMap m(h.arena, p);
    ASSERT_EQ(m.init(), MapStatus::Ok);
    for (const charon_region& r : ranges) {
      const MapStatus s = m.map(r.start, r.start + r.len);
      ASSERT_TRUE(s == MapStatus::Ok || s == MapStatus::BadRange) << map_status_name(s);
    }
    ASSERT_EQ(h.arena.used, need) << "iteration " << iter;
    ASSERT_TRUE(h.guards_intact());

    for (const charon_region& r : ranges) {
      if (!accepted(r, p)) continue;
      const uint64_t end = r.start + r.len;
      expect_identity(h.arena, m.root(), p.la57, r.start, end, rng);
      for (uint64_t edge : {r.start & ~(2 * MiB - 1), (end + 2 * MiB - 1) & ~(2 * MiB - 1)}) {
        for (uint64_t va : {edge - 1, edge})
          ASSERT_EQ(present(h, m, p, va), in_rounded_union(ranges, p, va)) << std::hex << va;
      }
    }
    for (int i = 0; i < 64; ++i) {
      const uint64_t va = rng() % idmap_limit(p);
      ASSERT_EQ(present(h, m, p, va), in_rounded_union(ranges, p, va)) << std::hex << va;
    }
  }
}

// The loader sizes the scratch area before it knows the CPU and before the
// purgatory picks its order of map() calls, so it asks for 2 MiB leaves and
// 5 levels. That count must not depend on order and must bound the others.
TEST(IdentityMapTest, PagesNeededWithTwoMiBFiveLevelBoundsEveryPolicyAndOrder) {
  std::mt19937_64 rng(0x6c6f61646572);
  for (int iter = 0; iter < 1000; ++iter) {
    std::vector<charon_region> ranges(rng() % 9);
    for (charon_region& r : ranges) r = random_range(rng, iter % 2 ? k4Level2M : k5Level2M);
    std::vector<charon_region> shuffled = ranges;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    const size_t bound = idmap_pages_needed(ranges.data(), ranges.size(), k5Level2M);
    ASSERT_EQ(idmap_pages_needed(shuffled.data(), shuffled.size(), k5Level2M), bound);
    for (MapPolicy p : {k4Level1G, k4Level2M, k5Level1G}) {
      ASSERT_LE(idmap_pages_needed(ranges.data(), ranges.size(), p), bound) << iter;
      ASSERT_LE(idmap_pages_needed(shuffled.data(), shuffled.size(), p), bound) << iter;
    }
  }
}

TEST(IdentityMapTest, CoversAnswersForMappedUnmappedAndStraddlingRanges) {
  for (MapPolicy p : {k4Level1G, k4Level2M, k5Level1G, k5Level2M}) {
    HostArena h(64);
    IdentityMap m(h.arena, p);
    EXPECT_FALSE(m.covers(0, 4096)) << "nothing is mapped before init";
    ASSERT_EQ(m.map(3 * GiB, 5 * GiB), MapStatus::Ok);
    ASSERT_EQ(m.map(600 * GiB + 5 * MiB, 600 * GiB + 6 * MiB), MapStatus::Ok);
    EXPECT_TRUE(m.covers(3 * GiB, 2 * GiB));
    EXPECT_TRUE(m.covers(4 * GiB - 8, 16)) << "across a 1 GiB boundary";
    EXPECT_TRUE(m.covers(600 * GiB + 4 * MiB, 4096)) << "2 MiB rounding";
    EXPECT_FALSE(m.covers(3 * GiB - 1, 2)) << "straddles the start";
    EXPECT_FALSE(m.covers(5 * GiB - 1, 2)) << "straddles the end";
    EXPECT_FALSE(m.covers(600 * GiB + 6 * MiB, 1)) << "one 2 MiB page past";
    EXPECT_FALSE(m.covers(1 * GiB, 4096));
    EXPECT_FALSE(m.covers(3 * GiB, 0));
    EXPECT_FALSE(m.covers(~uint64_t{0} - 10, 100)) << "wraps around";
  }
}

}  // namespace
}  // namespace charon::x86
