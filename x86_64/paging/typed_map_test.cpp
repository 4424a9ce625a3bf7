// The typed identity map: built over synthetic e820 tables and checked by
// a test-side walker that visits every leaf. Each leaf must lie wholly in
// memory (shrunk to pages) or in a required range (grown to pages); every
// page of both must be mapped; each leaf must be the largest that fits;
// and idmap_pages_needed() must be exactly what the builder used.
#include <charon/boot/boot_params.h>
#include <charon/x86/identity_map.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "test_tables.h"

namespace charon::x86 {
namespace {

using walker::HostArena;

constexpr uint64_t KiB = 1024, MiB = KiB * KiB, GiB = MiB * KiB;
constexpr uint64_t k4K = 4 * KiB;
constexpr MapPolicy kPolicies[] = {
    {.gbpages = true, .la57 = false},
    {.gbpages = false, .la57 = false},
    {.gbpages = true, .la57 = true},
    {.gbpages = false, .la57 = true},
};
constexpr MapPolicy kBoundPolicy{.gbpages = false, .la57 = true};

// A synthetic e820 entry; the memory ranges are the RAM, ACPI and NVS ones.
struct E820 {
  uint64_t start, end;
  boot::E820Type type;
};

std::vector<charon_region> memory_of(const std::vector<E820>& map) {
  std::vector<charon_region> out;
  for (const E820& e : map)
    if (e.type == boot::E820Type::kRam || e.type == boot::E820Type::kAcpi ||
        e.type == boot::E820Type::kNvs)
      out.push_back({e.start, e.end - e.start});
  return out;
}

// [start, end) intervals, sorted and merged: the reference for what the
// map may and must cover, computed without the builder's code.
using Set = std::vector<std::pair<uint64_t, uint64_t>>;

Set merged(Set s) {
  std::sort(s.begin(), s.end());
  Set out;
  for (const auto& [a, b] : s) {
    if (a >= b) continue;
    if (!out.empty() && a <= out.back().second)
      out.back().second = std::max(out.back().second, b);
    else
      out.push_back({a, b});
  }
  return out;
}

bool contains(const Set& s, uint64_t a, uint64_t b) {
  for (const auto& [x, y] : s)
    if (x <= a && b <= y) return true;
  return false;
}

bool intersects(const Set& s, uint64_t a, uint64_t b) {
  for (const auto& [x, y] : s)
    if (x < b && a < y) return true;
  return false;
}

// Memory shrunk to pages, required grown to pages, both cut where the
// policy's paging cannot map.
Set allowed_set(const std::vector<charon_region>& memory,
                const std::vector<charon_region>& required, MapPolicy p) {
  const uint64_t top = idmap_limit(p);
  Set s;
  for (const charon_region& m : memory) {
    const uint64_t a = (m.start + k4K - 1) & ~(k4K - 1);
    const uint64_t b = std::min(top, m.start + m.len) & ~(k4K - 1);
    s.push_back({a, b});
  }
  for (const charon_region& r : required) {
    if (r.len == 0 || r.start + r.len > top || r.start + r.len < r.start) continue;
    s.push_back({r.start & ~(k4K - 1), (r.start + r.len + k4K - 1) & ~(k4K - 1)});
  }
  return merged(s);
}

struct Built {
  size_t need = 0, used = 0;
  Set leaves;  // merged
  size_t by_shift[31] = {};
};

// Builds in an arena of exactly idmap_pages_needed() pages (too few would
// fail, too many would leave `used` short), memory first or last.
Built build(const std::vector<charon_region>& memory, std::vector<charon_region> required,
            MapPolicy p, std::mt19937_64* shuffle = nullptr) {
  const MapLayout layout{memory.data(), memory.size(), required.data(), required.size()};
  Built b;
  b.need = idmap_pages_needed(layout, p);
  HostArena h(b.need);
  IdentityMap m(h.arena, p, layout);
  std::vector<charon_region> order = required;
  if (shuffle) std::shuffle(order.begin(), order.end(), *shuffle);
  const bool memory_last = shuffle && (*shuffle)() % 2;
  if (!memory_last) EXPECT_EQ(m.map_memory(), MapStatus::Ok);
  for (const charon_region& r : order) {
    const MapStatus s = m.map(r.start, r.start + r.len);
    EXPECT_TRUE(s == MapStatus::Ok || s == MapStatus::BadRange) << map_status_name(s);
  }
  if (memory_last) EXPECT_EQ(m.map_memory(), MapStatus::Ok);
  b.used = h.arena.used;
  EXPECT_TRUE(h.guards_intact());
  Set leaves;
  walker::for_each_leaf(h.arena, m.root(), p.la57, [&](uint64_t va, unsigned shift) {
    leaves.push_back({va, va + (uint64_t{1} << shift)});
    ++b.by_shift[shift];
  });
  b.leaves = merged(leaves);
  // Every leaf again, against the reference: inside what is allowed, and
  // the largest leaf that fits (a 4 KiB page only where its 2 MiB is not
  // wholly allowed, a 2 MiB leaf only where its GiB is not, with gbpages).
  const Set allowed = allowed_set(memory, required, p);
  walker::for_each_leaf(h.arena, m.root(), p.la57, [&](uint64_t va, unsigned shift) {
    const uint64_t size = uint64_t{1} << shift;
    EXPECT_TRUE(contains(allowed, va, va + size))
        << std::hex << "leaf 0x" << va << "+0x" << size << " reaches past memory and required";
    if (shift == kPtShift)
      EXPECT_FALSE(contains(allowed, va & ~(2 * MiB - 1), (va & ~(2 * MiB - 1)) + 2 * MiB))
          << std::hex << "4 KiB page at 0x" << va << " where a 2 MiB leaf fits";
    if (shift == kPdShift && p.gbpages)
      EXPECT_FALSE(contains(allowed, va & ~(GiB - 1), (va & ~(GiB - 1)) + GiB))
          << std::hex << "2 MiB leaf at 0x" << va << " where a 1 GiB leaf fits";
  });
  EXPECT_EQ(b.leaves, allowed) << "the leaves must cover exactly memory and required";
  return b;
}

// QEMU's pc machine with -m 6G under SeaBIOS: low RAM, the EBDA and the
// BIOS as reserved, RAM to 3 GiB less SeaBIOS's tables, the PCI hole
// (MMIO, not in the table at all), the BIOS flash, RAM above 4 GiB.
const std::vector<E820> kQemu6G = {
    {0, 0x9fc00, boot::E820Type::kRam},
    {0x9fc00, 0xa0000, boot::E820Type::kReserved},
    {0xf0000, 0x100000, boot::E820Type::kReserved},
    {0x100000, 0xbffe0000, boot::E820Type::kRam},
    {0xbffe0000, 0xc0000000, boot::E820Type::kReserved},
    {0xfeffc000, 0xff000000, boot::E820Type::kReserved},
    {0xfffc0000, 0x100000000, boot::E820Type::kReserved},
    {0x100000000, 0x1c0000000, boot::E820Type::kRam},
};

TEST(TypedMapTest, QemuMapIsCoveredWithoutItsReservedRangesOrThePciHole) {
  const std::vector<charon_region> memory = memory_of(kQemu6G);
  // A Linux load: low memory, a kernel, boot_params, the purgatory and
  // its scratch, an initrd above 4 GiB.
  const std::vector<charon_region> required = {{0, 1 * MiB},          {0x1000000, 0x3000000},
                                               {0x7f000000, 0x3000},  {0x7ff00000, 0x6000},
                                               {0x7fe00000, 0x10000}, {0x1b0000000, 0x4000123}};
  for (MapPolicy p : kPolicies) {
    const Built b = build(memory, required, p);
    EXPECT_EQ(b.used, b.need);
    EXPECT_FALSE(intersects(b.leaves, 0xbffe0000, 0xc0000000)) << "SeaBIOS's reserved tables";
    EXPECT_FALSE(intersects(b.leaves, 0xc0000000, 0x100000000)) << "the PCI hole and the BIOS";
    EXPECT_TRUE(intersects(b.leaves, 0x9fc00, 0xa0000)) << "[0, 1 MiB) is required whole";
    EXPECT_EQ(b.by_shift[kPdptShift], p.gbpages ? 5u : 0u) << "GiB 0 (with [0, 1 MiB)), 1, 4-6";
    EXPECT_EQ(b.by_shift[kPtShift], (0xbffe0000u - 0xbfe00000u) / k4K) << "RAM's end at 3 GiB";
  }
}

TEST(TypedMapTest, ReservedHoleInsideAGiBGetsFourKiBPagesAroundIt) {
  // A reserved hole of three pages, not 2 MiB-aligned, inside GiB 1.
  const std::vector<E820> e820 = {{0, 0x9f000, boot::E820Type::kRam},
                                  {0x100000, 0x50001000, boot::E820Type::kRam},
                                  {0x50001000, 0x50004000, boot::E820Type::kReserved},
                                  {0x50004000, 0x80000000, boot::E820Type::kRam}};
  const std::vector<charon_region> memory = memory_of(e820);
  for (MapPolicy p : kPolicies) {
    const Built b = build(memory, {{0, 1 * MiB}}, p);
    EXPECT_EQ(b.used, b.need);
    EXPECT_FALSE(intersects(b.leaves, 0x50001000, 0x50004000));
    EXPECT_TRUE(contains(b.leaves, 0x50000000, 0x50001000));
    EXPECT_TRUE(contains(b.leaves, 0x50004000, 0x50200000));
    EXPECT_EQ(b.by_shift[kPtShift], 512u - 3) << "the one 2 MiB chunk holding the hole";
    EXPECT_EQ(b.by_shift[kPdptShift], p.gbpages ? 1u : 0u) << "GiB 0 only; GiB 1 has the hole";
  }
}

TEST(TypedMapTest, RangesNotTwoMiBAlignedAndPartialPagesOfMemory) {
  // Memory that starts and ends inside pages: a page only partly memory
  // is not mapped. ACPI and NVS count as memory; unusable does not.
  const std::vector<E820> e820 = {{0x1000, 0x9fc00, boot::E820Type::kRam},
                                  {0x100000, 0x3ff7e123, boot::E820Type::kRam},
                                  {0x3ff7e123, 0x3ff80000, boot::E820Type::kAcpi},
                                  {0x3ff80000, 0x3ffa0000, boot::E820Type::kNvs},
                                  {0x3ffa0000, 0x3ffc0000, boot::E820Type::kUnusable},
                                  {0x40000800, 0x40300000, boot::E820Type::kRam}};
  const std::vector<charon_region> memory = memory_of(e820);
  for (MapPolicy p : kPolicies) {
    const Built b = build(memory, {}, p);
    EXPECT_EQ(b.used, b.need);
    EXPECT_FALSE(intersects(b.leaves, 0, 0x1000));
    EXPECT_FALSE(intersects(b.leaves, 0x9f000, 0x100000)) << "the page holding 0x9fc00";
    EXPECT_TRUE(contains(b.leaves, 0x3ff7f000, 0x3ffa0000)) << "ACPI and NVS are memory";
    // Each range shrinks on its own: loaders pass touching ranges merged.
    EXPECT_FALSE(intersects(b.leaves, 0x3ff7e000, 0x3ff7f000)) << "half RAM, half ACPI";
    EXPECT_FALSE(intersects(b.leaves, 0x3ffa0000, 0x40001000));
    EXPECT_TRUE(contains(b.leaves, 0x40001000, 0x40300000));
  }
}

TEST(TypedMapTest, RegionInMmioIsMappedAloneAndLargeMemoryAboveFourGiB) {
  // 68 GiB of RAM ending off 2 MiB, and a required range in the MMIO
  // hole (a region the loader named there): mapped, and nothing around it.
  const std::vector<E820> e820 = {
      {0x100000, 0xc0000000, boot::E820Type::kRam},
      {0x100000000, 0x1100000000 + 5 * MiB + 0x123, boot::E820Type::kRam}};
  const std::vector<charon_region> memory = memory_of(e820);
  for (MapPolicy p : kPolicies) {
    const Built b = build(memory, {{0xfed00010, 0x20}}, p);
    EXPECT_EQ(b.used, b.need);
    EXPECT_TRUE(contains(b.leaves, 0xfed00000, 0xfed01000));
    EXPECT_FALSE(intersects(b.leaves, 0xc0000000, 0xfed00000));
    EXPECT_FALSE(intersects(b.leaves, 0xfed01000, 0x100000000));
    EXPECT_EQ(b.by_shift[kPtShift], 1u + 256 + 256)
        << "the MMIO page, [1 MiB, 2 MiB) and the last whole MiB of RAM";
  }
}

// Random e820-like tables and required sets, over the whole address space.
std::vector<charon_region> random_memory(std::mt19937_64& rng, MapPolicy p) {
  std::vector<charon_region> m;
  uint64_t at = rng() % (4 * MiB);
  const int n = rng() % 12;
  for (int i = 0; i < n; ++i) {
    const uint64_t len = (rng() % 4 == 0) ? rng() % (3 * GiB) : rng() % (40 * MiB);
    m.push_back({at, len});
    at += len + (rng() % 3 == 0 ? 0 : rng() % (rng() % 2 ? 5 * MiB : 2 * GiB));
  }
  if (rng() % 8 == 0) m.push_back({idmap_limit(p) - rng() % (3 * GiB), 4 * GiB});  // cut
  if (rng() % 8 == 0) m.push_back({rng() % (8 * GiB), rng() % (8 * GiB)});         // overlaps
  std::shuffle(m.begin(), m.end(), rng);
  return m;
}

std::vector<charon_region> random_required(std::mt19937_64& rng, MapPolicy p) {
  std::vector<charon_region> r;
  const int n = rng() % 10;
  for (int i = 0; i < n; ++i) {
    switch (rng() % 5) {
      case 0:
        r.push_back({rng() % (16 * GiB), rng() % (64 * KiB)});
        break;
      case 1:
        r.push_back({rng() % (16 * GiB), rng() % (3 * GiB)});
        break;
      case 2:  // rejected: past the limit, or wrapping
        r.push_back(rng() % 2 ? charon_region{idmap_limit(p) - MiB, 2 * MiB}
                              : charon_region{~uint64_t{0} - 5, 64});
        break;
      case 3:
        r.push_back({(rng() % 700) * GiB + rng() % GiB, rng() % (8 * MiB)});
        break;
      default:
        r.push_back({rng() % (16 * GiB), 0});
    }
  }
  return r;
}

TEST(TypedMapTest, PagesNeededEqualsPagesUsedInAnyOrderOverRandomTables) {
  std::mt19937_64 rng(0x7479706564);  // fixed seed: a failure reproduces
  for (int iter = 0; iter < 600; ++iter) {
    const MapPolicy p = kPolicies[iter % 4];
    const std::vector<charon_region> memory = random_memory(rng, p);
    const std::vector<charon_region> required = random_required(rng, p);
    const Built a = build(memory, required, p);
    ASSERT_EQ(a.used, a.need) << "iteration " << iter;
    const Built b = build(memory, required, p, &rng);
    ASSERT_EQ(b.used, a.need) << "another order, iteration " << iter;
    ASSERT_EQ(b.leaves, a.leaves);
    if (::testing::Test::HasFailure()) FAIL() << "iteration " << iter;
  }
}

TEST(TypedMapTest, PagesNeededWithTwoMiBFiveLevelBoundsEveryPolicy) {
  std::mt19937_64 rng(0x626f756e64);
  for (int iter = 0; iter < 600; ++iter) {
    const std::vector<charon_region> memory = random_memory(rng, kPolicies[0]);
    const std::vector<charon_region> required = random_required(rng, kPolicies[0]);
    const MapLayout l{memory.data(), memory.size(), required.data(), required.size()};
    const size_t bound = idmap_pages_needed(l, kBoundPolicy);
    for (MapPolicy p : kPolicies) ASSERT_LE(idmap_pages_needed(l, p), bound) << iter;
    EXPECT_EQ(scratch_bytes_needed(l), (bound + kScratchSlackPages) * kPageSize);
  }
}

TEST(TypedMapTest, RangeOutsideTheLayoutIsMappedWithLeavesInsideItOnly) {
  // What the purgatory finds late (an EFI table in reserved memory, a
  // command line): mapped, with large leaves only inside it.
  const std::vector<charon_region> memory = {{0x100000, 0x40000000}};
  const MapLayout l{memory.data(), memory.size(), nullptr, 0};
  for (MapPolicy p : kPolicies) {
    HostArena h(64);
    IdentityMap m(h.arena, p, l);
    ASSERT_EQ(m.map_memory(), MapStatus::Ok);
    ASSERT_EQ(m.map(0x7f1ff123, 0x7f601000), MapStatus::Ok);
    Set leaves;
    walker::for_each_leaf(h.arena, m.root(), p.la57, [&](uint64_t va, unsigned shift) {
      leaves.push_back({va, va + (uint64_t{1} << shift)});
    });
    EXPECT_EQ(merged(leaves), merged({{0x100000, 0x40100000}, {0x7f1ff000, 0x7f601000}}));
    EXPECT_TRUE(m.covers(0x7f1ff123, 0x7f601000 - 0x7f1ff123));
    EXPECT_FALSE(m.covers(0x7f1fe000, 1));
  }
}

TEST(TypedMapTest, NoMemoryAndNothingRequiredStillGivesARoot) {
  HostArena h(2);
  IdentityMap m(h.arena, kPolicies[0], MapLayout{});
  EXPECT_EQ(m.map_memory(), MapStatus::Ok);
  EXPECT_NE(m.root(), 0u);
  EXPECT_EQ(idmap_pages_needed(MapLayout{}, kPolicies[0]), 1u);
}

}  // namespace
}  // namespace charon::x86
