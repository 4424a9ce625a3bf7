#include <charon/loader/image.h>
#include <charon/loader/placement.h>
#include <gtest/gtest.h>

#include <random>

#include "testdata/synthetic_bzimage.h"
#include "testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kM = 1ull << 20;
constexpr uint64_t kG = 1ull << 30;

PlanInput input_for(const MemoryMap& map, EntryMode mode, testing::BzSpec spec = {}) {
  auto f = testing::make_bzimage(spec);
  auto k = parse_bzimage(f, mode);
  EXPECT_TRUE(k.ok()) << k.error();
  PlanInput in;
  in.kernel = *k;
  in.mode = mode;
  in.initrd_size = 20 * kM;
  in.setup_size = 4096 + 100;
  in.purgatory_size = 0x1d000;
  in.usable = usable_ram(map.ranges);
  in.idmap_limit = 0;
  for (const auto& r : map.ranges)
    if (r.type == E820Type::kRam) in.idmap_limit = std::max(in.idmap_limit, r.end);
  in.scratch_bytes = scratch_bytes_for;
  return in;
}

bool inside(const Range& r, const std::vector<Range>& usable) {
  for (const Range& u : usable)
    if (u.start <= r.start && r.end <= u.end) return true;
  return false;
}

void expect_sane(const Plan& p, const PlanInput& in) {
  std::vector<Range> all = {p.kernel, p.setup, p.purgatory, p.scratch};
  if (in.initrd_size) all.push_back(p.initrd);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].start % kPage, 0u);
    EXPECT_EQ(all[i].end % kPage, 0u);
    EXPECT_LT(all[i].start, all[i].end);
    EXPECT_TRUE(inside(all[i], in.usable))
        << "segment " << i << " at 0x" << std::hex << all[i].start << " is outside usable RAM";
    for (size_t j = i + 1; j < all.size(); ++j)
      EXPECT_TRUE(all[i].end <= all[j].start || all[j].end <= all[i].start)
          << "segments " << i << " and " << j << " overlap";
  }
  EXPECT_EQ(p.kernel.start % in.kernel.kernel_alignment, 0u);
  EXPECT_GE(p.kernel.end - p.kernel.start, in.kernel.init_size);
  EXPECT_LE(p.purgatory.end, k2G);
  EXPECT_LE(p.scratch.end, k4G);
  EXPECT_LE(p.setup.end, k4G);
}

TEST(Placement, Kernel64AndInitrdGoAbove4GWhenRamIsThere) {
  const auto map = testing::qemu_map(3 * kG - kM, 3 * kG);
  const auto in = input_for(map, EntryMode::k64);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  expect_sane(*p, in);
  EXPECT_GE(p->kernel.start, k4G);
  EXPECT_GE(p->initrd.start, k4G);
}

TEST(Placement, KernelTakesPrefAddressWhenNoRamAbove4G) {
  const auto map = testing::qemu_map(512 * kM - kM, 0);
  const auto in = input_for(map, EntryMode::k64);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  expect_sane(*p, in);
  EXPECT_EQ(p->kernel.start, in.kernel.pref_address);
}

TEST(Placement, KernelWithoutAbove4GFlagStaysBelow4G) {
  testing::BzSpec s;
  s.xloadflags = XLF_KERNEL_64;
  const auto map = testing::qemu_map(3 * kG - kM, 3 * kG);
  const auto in = input_for(map, EntryMode::k64, s);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  expect_sane(*p, in);
  EXPECT_LE(p->kernel.end, k4G);
  EXPECT_LE(p->initrd.end, uint64_t{in.kernel.initrd_addr_max} + 1);
}

TEST(Placement, Protocol32KeepsEverySegmentBelow4G) {
  const auto map = testing::qemu_map(3 * kG - kM, 3 * kG);
  const auto in = input_for(map, EntryMode::k32);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  expect_sane(*p, in);
  for (const Range& r : {p->kernel, p->initrd, p->setup, p->purgatory, p->scratch})
    EXPECT_LE(r.end, k4G);
}

TEST(Placement, Protocol32InitrdRespectsInitrdAddrMax) {
  testing::BzSpec s;
  s.initrd_addr_max = 0x37ffffff;
  const auto map = testing::qemu_map(3 * kG - kM, 0);
  const auto in = input_for(map, EntryMode::k32, s);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_LE(p->initrd.end, 0x38000000u);
  EXPECT_GT(p->initrd.start, 0x30000000u) << "the initrd goes as high as allowed";
}

TEST(Placement, Protocol32RefusesWhenTheKernelFitsOnlyAbove4G) {
  // 12 MiB below 4 GiB (too little for init_size), plenty above.
  const auto map = testing::qemu_map(12 * kM, 3 * kG);
  auto in = input_for(map, EntryMode::k32);
  auto p = plan_layout(in);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("kernel below 4 GiB"), std::string::npos) << p.error();
  // The same machine takes a 64-bit load.
  auto in64 = input_for(map, EntryMode::k64);
  auto p64 = plan_layout(in64);
  ASSERT_TRUE(p64.ok()) << p64.error();
  expect_sane(*p64, in64);
}

TEST(Placement, Protocol32RefusesWhenTheInitrdFitsOnlyAbove4G) {
  // The kernel fits in [16 MiB, 32 MiB); the 20 MiB initrd fits nowhere
  // below 4 GiB but would above.
  const auto map = testing::qemu_map(40 * kM, 3 * kG);
  auto p = plan_layout(input_for(map, EntryMode::k32));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("initrd"), std::string::npos) << p.error();
  EXPECT_NE(p.error().find("cannot take it above 4 GiB"), std::string::npos) << p.error();
}

TEST(Placement, TooLittleRamIsAClearError) {
  const auto map = testing::qemu_map(8 * kM, 0);
  auto p = plan_layout(input_for(map, EntryMode::k64));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("segments do not fit"), std::string::npos) << p.error();
}

TEST(Placement, ScratchIsLargeEnoughForEverythingItMaps) {
  const auto map = testing::qemu_map(3 * kG - kM, 3 * kG);
  const auto in = input_for(map, EntryMode::k64);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok());
  const std::vector<Range> mapped = {{0, in.idmap_limit}, p->kernel, p->initrd, p->setup,
                                     p->purgatory,        p->scratch};
  EXPECT_GE(p->scratch.end - p->scratch.start, scratch_bytes_for(mapped));
}

// The crash reservation of a QEMU guest with 6 GiB lies just below 3 GiB.
PlanInput crash_input_above_2g(uint64_t purgatory_max_end) {
  const auto map = testing::qemu_map(3 * kG - kM, 3 * kG, "  b0000000-bfffffff : Crash kernel\n");
  PlanInput in = input_for(map, EntryMode::k64);
  in.usable = usable_crash(map.crash_kernel);
  in.initrd_size = 8 * kM;
  in.backup_size = 640 * 1024;
  in.elfcorehdr_size = 0x200;
  in.purgatory_max_end = purgatory_max_end;
  return in;
}

TEST(Placement, APurgatoryWithOnlyPcRelativeRelocationsMayGoAbove2GWhenNothingIsBelow) {
  const PlanInput in = crash_input_above_2g(k4G);
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_GE(p->purgatory.start, 0xb0000000u);
  EXPECT_LE(p->purgatory.end, 0xc0000000u);
  for (const Range& r :
       {p->kernel, p->initrd, p->setup, p->purgatory, p->scratch, p->backup, p->elfcorehdr})
    EXPECT_TRUE(inside(r, in.usable)) << std::hex << r.start;
  // Given RAM below 2 GiB, it still goes there (the entry contract's 2 GiB).
  PlanInput low = crash_input_above_2g(k4G);
  low.usable.push_back({256 * kM, 512 * kM});
  auto q = plan_layout(low);
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_LE(q->purgatory.end, k2G);
}

TEST(Placement, APurgatoryWith32SRelocationsNeverGoesAbove2G) {
  auto p = plan_layout(crash_input_above_2g(k2G));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("no room for the purgatory"), std::string::npos) << p.error();
  EXPECT_NE(p.error().find("below 0x80000000"), std::string::npos) << p.error();
}

// (The 32-bit protocol keeps the initrd below initrd_addr_max, 2 GiB here.)
TEST(Placement, CrashExtrasAreDisjointAndBelow4GFor32Bit) {
  PlanInput in = crash_input_above_2g(k4G);
  const auto map = testing::qemu_map(3 * kG - kM, 3 * kG,
                                     "  60000000-6fffffff : Crash kernel\n"
                                     "  140000000-14fffffff : Crash kernel\n");
  in.usable = usable_crash(map.crash_kernel);
  in.mode = EntryMode::k32;
  auto p = plan_layout(in);
  ASSERT_TRUE(p.ok()) << p.error();
  std::vector<Range> all = {p->kernel,  p->initrd, p->setup,     p->purgatory,
                            p->scratch, p->backup, p->elfcorehdr};
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_LE(all[i].end, k4G) << i;
    for (size_t j = i + 1; j < all.size(); ++j)
      EXPECT_TRUE(all[i].end <= all[j].start || all[j].end <= all[i].start) << i << " " << j;
  }
  EXPECT_EQ(p->backup.end - p->backup.start, 640u * 1024);
  EXPECT_EQ(p->elfcorehdr.end - p->elfcorehdr.start, kPage);
}

TEST(RangeAllocator, HighAndLowPreferencesAndAlignment) {
  RangeAllocator a({{0x100000, 0x800000}});
  auto lo = a.take(0x1000, 0x200000, 0, UINT64_MAX, Prefer::kLow);
  ASSERT_TRUE(lo);
  EXPECT_EQ(*lo, 0x200000u);
  auto hi = a.take(0x1000, 0x1000, 0, UINT64_MAX, Prefer::kHigh);
  ASSERT_TRUE(hi);
  EXPECT_EQ(*hi, 0x7ff000u);
  EXPECT_FALSE(a.take_at(0x200000, 0x1000)) << "already taken";
  EXPECT_TRUE(a.take_at(0x100000, 0x1000));
  EXPECT_FALSE(a.take(0x800000, 0x1000, 0, UINT64_MAX, Prefer::kLow));
}

TEST(Placement, RandomMapsGiveDisjointSegmentsInsideRamOrAnError) {
  std::mt19937_64 rng(12345);
  int planned = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<MemRange> ranges;
    uint64_t at = 0;
    for (int i = 0; i < 12; ++i) {
      at += (rng() % 64) * kM;
      const uint64_t len = (rng() % 1024 + 1) * kM;
      const auto type = rng() % 3 ? E820Type::kRam : E820Type::kReserved;
      ranges.push_back({at, at + len, type});
      at += len;
    }
    auto norm = normalize_ranges(ranges);
    ASSERT_TRUE(norm.ok());
    MemoryMap map{*norm, {}};
    const auto mode = rng() % 2 ? EntryMode::k64 : EntryMode::k32;
    testing::BzSpec s;
    s.version = 0x020f;
    s.pref_address = (rng() % 64) * 2 * kM;
    auto in = input_for(map, mode, s);
    in.initrd_size = (rng() % 200) * kM;
    auto p = plan_layout(in);
    if (!p.ok()) {
      EXPECT_NE(p.error().find("do not fit"), std::string::npos) << p.error();
      continue;
    }
    ++planned;
    expect_sane(*p, in);
    if (mode == EntryMode::k32) {
      for (const Range& r : {p->kernel, p->initrd, p->setup, p->purgatory, p->scratch})
        if (r.end > r.start) EXPECT_LE(r.end, k4G);
    }
  }
  EXPECT_GT(planned, 100) << "the property was checked on too few successful plans";
}

}  // namespace
}  // namespace charon::loader
