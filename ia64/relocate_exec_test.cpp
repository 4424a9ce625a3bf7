// relocate_new_kernel's real machine code, run in the interpreter over
// indirection lists built the way Linux builds them. Each test states the
// property of the hand-off that it proves.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "control_layout.h"
#include "ia64/control_abi.h"
#include "ia64/control_offsets.h"
#include "interp/exec_support.h"
#include "interp/kimage_builder.h"

namespace charon::ia64 {
namespace {

// Simulated physical memory map of every scenario. Each run of control
// pages sits far from the others, as a hypervisor may hand them out.
constexpr uint64_t kMemSize = 32u << 20;
constexpr uint64_t kCode = 0x0200000;
constexpr uint64_t kRegisterStack = 0x0300000;
constexpr uint64_t kMemoryStack = 0x0380000;
constexpr uint64_t kPurgeBlock = 0x0400000;
constexpr uint64_t kBootParam = 0x0410000;
constexpr uint64_t kPalBase = 0x0420000;
constexpr uint64_t kPool = 0x0500000;  // sources and indirection pages
constexpr uint64_t kPoolEnd = 0x1000000;
constexpr uint64_t kKernelEntry = 0x1000000;

// PAL_PTCE_INFO-style purge parameters, and the pinned TRs.
constexpr uint64_t kPtceBase = 0x1000, kPtceCount0 = 3, kPtceCount1 = 2;
constexpr uint64_t kPtceStride0 = 0x100000, kPtceStride1 = 0x2000;
constexpr uint64_t kKernelTrVa = 0xa000000100000000ull, kKernelTrLog2 = 26;
constexpr uint64_t kGranuleLog2 = 24, kStackTrVa = 0xe000000004000000ull;

struct DestRun {
  uint64_t dest;
  unsigned pages;
};

class Relocation {
 public:
  Relocation(uint64_t page_size, std::vector<DestRun> runs)
      : ps_(page_size), runs_(std::move(runs)), mem_(0, kMemSize), m_(mem_) {}

  // Lays everything out, builds the list and runs to the kernel entry.
  RunResult run(uint64_t boot_param_arg = kBootParam) {
    std::mt19937_64 rng(ps_ * 7919 + runs_.size());
    // Background noise everywhere, so that a stray store is visible.
    for (uint64_t a = 0; a < kMemSize; a += 8) mem_.write64(a, rng());

    const uint64_t purge[] = {kPtceBase,   kPtceCount0,   kPtceCount1,  kPtceStride0, kPtceStride1,
                              kKernelTrVa, kKernelTrLog2, kGranuleLog2, kStackTrVa};
    static_assert(sizeof purge == IA64_PURGE_SIZE);
    mem_.write(kPurgeBlock, purge, sizeof purge);

    PageAllocator pool(kPool, kPoolEnd, ps_);
    KimageBuilder kimage(mem_, pool, ps_);
    for (const DestRun& r : runs_) {
      EXPECT_TRUE(kimage.set_destination(r.dest));
      for (unsigned i = 0; i < r.pages; ++i) {
        const uint64_t src = pool.take();
        EXPECT_NE(src, 0u) << "test pool too small";
        kimage.add_page(src);
        copies_.push_back({src, r.dest + i * ps_});
        dest_pages_.insert(r.dest / ps_ + i);
      }
    }
    kimage.terminate();
    ind_pages_ = kimage.indirection_pages();

    const auto plan = plan_control_block({.page_size = ps_});
    EXPECT_TRUE(plan.ok()) << plan.error();
    const auto call =
        relocate_call(plan.value(), {kCode, kMemoryStack, kRegisterStack},
                      {kimage.head(), kKernelEntry, boot_param_arg, kPalBase, kPurgeBlock});
    EXPECT_TRUE(call.ok()) << call.error();
    args_ = call.value().args;

    enter_control(mem_, m_, kCode, IA64_CONTROL_RELOCATE_NEW_KERNEL);
    EXPECT_EQ(call.value().entry, kCode + IA64_CONTROL_RELOCATE_NEW_KERNEL);
    for (unsigned i = 0; i < 8; ++i) m_.set_gr(32 + i, args_[i]);
    before_ = mem_.bytes();
    return m_.run(kKernelEntry, 50'000'000);
  }

  bool in_destination(uint64_t a) const { return dest_pages_.count(a / ps_) != 0; }

  struct Copy {
    uint64_t src, dest;
  };
  uint64_t ps_;
  std::vector<DestRun> runs_;
  Memory mem_;
  Machine m_;
  std::vector<Copy> copies_;
  std::set<uint64_t> dest_pages_;
  std::vector<uint64_t> ind_pages_;
  std::array<uint64_t, 8> args_{};
  std::vector<uint8_t> before_;
};

void expect_pages_copied(const Relocation& r) {
  for (const auto& c : r.copies_) {
    ASSERT_TRUE(std::equal(r.before_.begin() + c.src, r.before_.begin() + c.src + r.ps_,
                           r.mem_.bytes().begin() + c.dest))
        << "destination page 0x" << std::hex << c.dest << " does not hold source 0x" << c.src;
  }
}

void expect_nothing_else_changed(const Relocation& r) {
  const auto& after = r.mem_.bytes();
  for (uint64_t a = 0; a < after.size(); a += 8) {
    if (r.in_destination(a)) continue;
    ASSERT_TRUE(std::equal(after.begin() + a, after.begin() + a + 8, r.before_.begin() + a))
        << "byte 0x" << std::hex << a << " outside every destination changed";
  }
}

const std::vector<DestRun> kThreeDestinations = {{0x1200000, 3}, {0x1800000, 1}, {0x1400000, 2}};

TEST(Ia64Relocate, EveryDestinationPageHoldsItsSourceAcrossSeveralDestinations) {
  Relocation r(4096, kThreeDestinations);
  const RunResult res = r.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_EQ(r.ind_pages_.size(), 1u);
  expect_pages_copied(r);
}

TEST(Ia64Relocate, NothingOutsideTheDestinationsChanges) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  expect_nothing_else_changed(r);
}

TEST(Ia64Relocate, ChainedIndirectionPagesAreFollowedToIndDone) {
  // 1030 sources and one destination: 1031 entries, more than two pages
  // of 511 usable slots, so Linux chains three indirection pages.
  Relocation r(4096, {{0x1200000, 1030}});
  const RunResult res = r.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  ASSERT_EQ(r.ind_pages_.size(), 3u);
  expect_pages_copied(r);
  expect_nothing_else_changed(r);
}

TEST(Ia64Relocate, ControlReachesTheStartAddressWithR28BootParam) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  EXPECT_EQ(r.m_.ip(), kKernelEntry);
  EXPECT_EQ(r.m_.gr(28), kBootParam);
  ASSERT_FALSE(r.m_.events().empty());
  EXPECT_EQ(r.m_.events().back().kind, EventKind::Branch);
  EXPECT_EQ(r.m_.events().back().a, kKernelEntry);
}

TEST(Ia64Relocate, BootParamGivenAsARegion7AddressReachesTheKernelPhysical) {
  Relocation r(4096, {{0x1200000, 1}});
  ASSERT_TRUE(r.run(kRegion7 | kBootParam).stopped);
  EXPECT_EQ(r.m_.gr(28), kBootParam);
}

TEST(Ia64Relocate, InterruptsAndCollectionAreOffAndModeIsPhysicalBeforeTheWalk) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  const auto& ev = r.m_.events();
  // rsm psr.i|psr.ic is the first privileged operation.
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front().kind, EventKind::Rsm);
  EXPECT_EQ(ev.front().psr & (psr_bit(IA64_PSR_I_BIT) | psr_bit(IA64_PSR_IC_BIT)), 0u);
  // No load or store ran with interrupts, collection or data translation on.
  ASSERT_GT(r.m_.data_accesses(), 0u);
  const uint64_t forbidden =
      psr_bit(IA64_PSR_I_BIT) | psr_bit(IA64_PSR_IC_BIT) | psr_bit(IA64_PSR_DT_BIT);
  EXPECT_EQ(r.m_.data_access_psr_union() & forbidden, 0u);
  // The first data access comes after rfi to physical mode.
  const size_t first = r.m_.events_before_first_data_access();
  const auto rfi =
      std::find_if(ev.begin(), ev.end(), [](const Event& e) { return e.kind == EventKind::Rfi; });
  ASSERT_NE(rfi, ev.end());
  EXPECT_LT(static_cast<size_t>(rfi - ev.begin()), first);
  const uint64_t translation =
      psr_bit(IA64_PSR_DT_BIT) | psr_bit(IA64_PSR_IT_BIT) | psr_bit(IA64_PSR_RT_BIT);
  EXPECT_EQ(rfi->b & (translation | forbidden), 0u) << "ipsr given to rfi";
  EXPECT_EQ(r.m_.psr() & (translation | forbidden), 0u);
}

TEST(Ia64Relocate, RseIsFlushedThenLazyThenSwitchedToThePassedStacks) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  const auto& ev = r.m_.events();
  auto index_of = [&](auto pred) { return std::find_if(ev.begin(), ev.end(), pred) - ev.begin(); };
  const auto flush = index_of([](const Event& e) { return e.kind == EventKind::Flushrs; });
  const auto lazy = index_of([](const Event& e) {
    return e.kind == EventKind::WriteAr && e.a == ar::kRsc && (e.b & 3) == 0;
  });
  const auto bspstore =
      index_of([](const Event& e) { return e.kind == EventKind::WriteAr && e.a == ar::kBspstore; });
  ASSERT_LT(static_cast<size_t>(bspstore), ev.size());
  EXPECT_LT(flush, bspstore);
  EXPECT_LT(lazy, bspstore);
  EXPECT_EQ(ev[flush].a, 0x240u) << "the dirty caller frames were written back";
  // sp below the 16-byte scratch area at the top of the memory stack; the
  // backing store at the base of its own pages.
  EXPECT_EQ(r.m_.gr(12), kMemoryStack + kDefaultStackSize - IA64_STACK_SCRATCH);
  EXPECT_EQ(r.m_.ar(ar::kBspstore), kRegisterStack);
  EXPECT_EQ(r.m_.ar(ar::kBsp), kRegisterStack);
  EXPECT_EQ(r.m_.ar(ar::kRsc) & 3, 0u);
  EXPECT_EQ(r.m_.ar(ar::kRnat), 0x5a5a0000a5a5ull) << "ar.rnat carried across the switch";
}

TEST(Ia64Relocate, TlbPurgeLoopRunsWithThePassedParametersThenTheTrsArePurged) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  std::vector<uint64_t> want, got;
  // [ia64/vol3] ptc.e: the loop PAL_PTCE_INFO describes.
  uint64_t addr = kPtceBase;
  for (uint64_t i = 0; i < kPtceCount0; ++i) {
    for (uint64_t j = 0; j < kPtceCount1; ++j) {
      want.push_back(addr);
      addr += kPtceStride1;
    }
    addr += kPtceStride0;
  }
  struct Ptr {
    EventKind kind;
    uint64_t va, size;
    bool operator==(const Ptr&) const = default;
  };
  std::vector<Ptr> ptrs;
  for (const Event& e : r.m_.events()) {
    if (e.kind == EventKind::PtcE) got.push_back(e.a);
    if (e.kind == EventKind::PtrI || e.kind == EventKind::PtrD) ptrs.push_back({e.kind, e.a, e.b});
    if (e.kind == EventKind::PtcE || e.kind == EventKind::PtrI || e.kind == EventKind::PtrD) {
      EXPECT_EQ(e.psr & psr_bit(IA64_PSR_DT_BIT), 0u) << "purged in virtual mode";
    }
  }
  EXPECT_EQ(got, want);
  const std::vector<Ptr> want_ptrs = {{EventKind::PtrI, kKernelTrVa, kKernelTrLog2 << 2},
                                      {EventKind::PtrD, kKernelTrVa, kKernelTrLog2 << 2},
                                      {EventKind::PtrI, kPalBase, kGranuleLog2 << 2},
                                      {EventKind::PtrD, kStackTrVa, kGranuleLog2 << 2}};
  EXPECT_EQ(ptrs, want_ptrs);
}

TEST(Ia64Relocate, ICacheIsFlushedForEveryDestinationLineThenSyncedAndSerialized) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  // IA64_FC_STRIDE (32) is the smallest line fc.i may flush, so a flush
  // at every 32-byte line covers the real line size of any processor.
  std::set<uint64_t> want, got;
  for (const auto& c : r.copies_) {
    for (uint64_t a = c.dest; a < c.dest + r.ps_; a += IA64_FC_STRIDE) want.insert(a);
  }
  const auto& ev = r.m_.events();
  size_t last_fc = 0, sync = 0, srlz = 0, jump = ev.size() - 1;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].kind == EventKind::FcI) {
      got.insert(ev[i].a);
      last_fc = i;
    }
    if (ev[i].kind == EventKind::SyncI) sync = i;
    if (ev[i].kind == EventKind::SrlzI && sync != 0 && srlz == 0) srlz = i;
  }
  EXPECT_EQ(got, want);
  EXPECT_TRUE(r.m_.unflushed_lines().empty()) << "a line was stored after its fc.i";
  EXPECT_LT(last_fc, sync);
  EXPECT_EQ(ev[sync].a, 0u) << "sync.i ran with lines still unflushed";
  EXPECT_LT(sync, srlz);
  EXPECT_LT(srlz, jump);
}

class Ia64RelocateAtPageSize : public ::testing::TestWithParam<uint64_t> {};

TEST_P(Ia64RelocateAtPageSize, PagesAreCopiedAndNothingElseChanges) {
  const uint64_t ps = GetParam();
  Relocation r(ps, {{0x1200000, 2}, {0x1600000, 3}});
  const RunResult res = r.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_EQ(r.args_[7], ps);
  expect_pages_copied(r);
  expect_nothing_else_changed(r);
  EXPECT_EQ(r.m_.gr(28), kBootParam);
}

INSTANTIATE_TEST_SUITE_P(AllIa64PageSizes, Ia64RelocateAtPageSize,
                         ::testing::Values(4096, 8192, 16384, 65536), [](const auto& info) {
                           return std::to_string(info.param / 1024) + "KiB";
                         });

}  // namespace
}  // namespace charon::ia64
