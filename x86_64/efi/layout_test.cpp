#include "layout.h"

#include <charon/x86/identity_map.h>
#include <gtest/gtest.h>

#include <vector>

namespace charon::efi {
namespace {

constexpr uint64_t M = 1ull << 20;

LayoutInput kernel_input(bool entry32) {
  LayoutInput in{};
  in.entry32 = entry32;
  in.kernel_size = 40 * M + 123;
  in.kernel_align = 2 * M;
  in.kernel_pref = 16 * M;
  in.kernel_above_4g = true;
  in.initrd_size = 7 * M + 5;
  in.initrd_max = 0x7fffffff;
  in.setup_size = 4096 + 100;
  in.cmdline_map = 2048;
  in.purgatory_size = 0x4400;
  in.idmap_limit = 8ull << 30;
  return in;
}

bool overlaps(const Range& a, const Range& b) {
  return a.size() && b.size() && a.start < b.end && b.start < a.end;
}

void expect_inside(const Range& r, const std::vector<FreeRange>& free) {
  bool in = false;
  for (const FreeRange& f : free) in |= r.start >= f.start && r.end <= f.end;
  EXPECT_TRUE(in) << std::hex << r.start << "-" << r.end;
}

void check_plan(const LayoutInput& in, const Layout& l, const std::vector<FreeRange>& free) {
  const Range all[] = {l.kernel, l.initrd, l.setup, l.purgatory, l.scratch};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(all[i].start % 4096, 0u);
    EXPECT_EQ(all[i].end % 4096, 0u);
    if (all[i].size()) expect_inside(all[i], free);
    for (size_t j = i + 1; j < 5; ++j) EXPECT_FALSE(overlaps(all[i], all[j])) << i << " " << j;
  }
  EXPECT_EQ(l.kernel.start % in.kernel_align, 0u);
  EXPECT_GE(l.kernel.size(), in.kernel_size);
  EXPECT_GE(l.initrd.size(), in.initrd_size);
  EXPECT_LE(l.initrd.end - 1, in.initrd_max);
  EXPECT_LE(l.setup.end, k4G);
  EXPECT_LE(l.purgatory.end, k2G);
  EXPECT_LE(l.scratch.end, k4G);
  EXPECT_GE(l.scratch.size(), scratch_bytes(in, l));
}

TEST(Layout, KernelAtPrefAddressWhenFreeAndEverySegmentApart) {
  std::vector<FreeRange> free = {{M, 0x3e000000}, {0x100000000ull, 0x200000000ull}};
  std::vector<FreeRange> work = free;
  work.resize(free.size() + 8);
  size_t n = free.size();
  const LayoutInput in = kernel_input(false);
  Layout l;
  ASSERT_EQ(plan_layout(in, work.data(), n, l), LayoutStatus::kOk);
  EXPECT_EQ(l.kernel.start, 16 * M);
  check_plan(in, l, free);
}

TEST(Layout, KernelMovesUpToTheNextAlignedFreeAddress) {
  // [16 MiB, 17 MiB) is taken: the kernel goes to the next 2 MiB boundary.
  std::vector<FreeRange> free = {{M, 16 * M}, {17 * M, 0x3e000000}};
  std::vector<FreeRange> work = free;
  work.resize(free.size() + 8);
  size_t n = free.size();
  const LayoutInput in = kernel_input(false);
  Layout l;
  ASSERT_EQ(plan_layout(in, work.data(), n, l), LayoutStatus::kOk);
  EXPECT_EQ(l.kernel.start, 18 * M);
  check_plan(in, l, free);
}

TEST(Layout, Entry32KeepsEverythingBelow4GiB) {
  // Most free memory above 4 GiB; 32-bit entry must not use it.
  std::vector<FreeRange> free = {{M, 128 * M}, {0x100000000ull, 0x800000000ull}};
  std::vector<FreeRange> work = free;
  work.resize(free.size() + 8);
  size_t n = free.size();
  const LayoutInput in = kernel_input(true);
  Layout l;
  ASSERT_EQ(plan_layout(in, work.data(), n, l), LayoutStatus::kOk);
  for (const Range& r : {l.kernel, l.initrd, l.setup, l.purgatory, l.scratch})
    EXPECT_LE(r.end, k4G);
  check_plan(in, l, free);
}

TEST(Layout, EachShortageIsNamed) {
  const LayoutInput in = kernel_input(false);
  struct Case {
    std::vector<FreeRange> free;
    LayoutStatus want;
  };
  const Case cases[] = {
      {{{M, 32 * M}}, LayoutStatus::kNoKernel},
      // Room for the kernel only, nothing for the initrd below initrd_max.
      {{{16 * M, 58 * M}, {0x80000000ull, 0x90000000ull}}, LayoutStatus::kNoInitrd},
      // The purgatory must lie below 2 GiB.
      {{{16 * M, 56 * M + 7 * M + 4096 * 2}, {0x80000000ull, 0x90000000ull}},
       LayoutStatus::kNoPurgatory},
  };
  for (const Case& c : cases) {
    std::vector<FreeRange> work = c.free;
    work.resize(c.free.size() + 8);
    size_t n = c.free.size();
    Layout l;
    EXPECT_EQ(plan_layout(in, work.data(), n, l), c.want);
    EXPECT_STRNE(layout_status_message(c.want), "?");
  }
}

TEST(Layout, ScratchCoversTheWorstCaseTablesOfEverythingMapped) {
  const LayoutInput in = kernel_input(false);
  Layout l{};
  l.kernel = {16 * M, 56 * M};
  l.setup = {0x3e000000, 0x3e002000};
  l.purgatory = {0x3f000000, 0x3f005000};
  const charon_region r[] = {{0, in.idmap_limit}};
  const size_t floor = x86::idmap_pages_needed(r, 1, x86::MapPolicy{false, true});
  EXPECT_GT(scratch_bytes(in, l), floor * 4096);
}

TEST(Layout, PlaceHonoursAlignmentAndDirection) {
  std::vector<FreeRange> work = {{0x101000, 0x900000}, {}, {}};
  size_t n = 1;
  EXPECT_EQ(place(work.data(), n, 0x1000, 0x200000, 0, ~0ull, false), 0x200000u);
  EXPECT_EQ(place(work.data(), n, 0x1000, 0x1000, 0, 0x800000, true), 0x7ff000u);
  EXPECT_EQ(place(work.data(), n, 0x10000000, 0x1000, 0, ~0ull, true), 0u);
}

}  // namespace
}  // namespace charon::efi
