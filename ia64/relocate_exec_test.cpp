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
#include "relocation_scenario.h"

namespace charon::ia64 {
namespace {

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
  // rsm psr.i|psr.ic is the first privileged operation, and both bits are
  // off (ic after its srlz) before the first control register write.
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front().kind, EventKind::Rsm);
  EXPECT_EQ(ev.front().psr & psr_bit(IA64_PSR_I_BIT), 0u);
  const auto cr_write = std::find_if(ev.begin(), ev.end(),
                                     [](const Event& e) { return e.kind == EventKind::WriteCr; });
  ASSERT_NE(cr_write, ev.end());
  EXPECT_EQ(cr_write->psr & (psr_bit(IA64_PSR_I_BIT) | psr_bit(IA64_PSR_IC_BIT)), 0u);
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

struct PtceCounts {
  uint64_t count0, count1;
};

class Ia64RelocatePtce : public ::testing::TestWithParam<PtceCounts> {};

TEST_P(Ia64RelocatePtce, TlbPurgeLoopRunsWithThePassedCountsThenTheTrsArePurged) {
  const PtceCounts counts = GetParam();
  Relocation r(4096, kThreeDestinations,
               {.ptce_count0 = counts.count0, .ptce_count1 = counts.count1});
  const RunResult res = r.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  std::vector<uint64_t> want, got;
  // [ia64/vol3] ptc.e: the loop PAL_PTCE_INFO describes.
  uint64_t addr = kPtceBase;
  for (uint64_t i = 0; i < counts.count0; ++i) {
    for (uint64_t j = 0; j < counts.count1; ++j) {
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
                                      {EventKind::PtrI, kPalVa, kGranuleLog2 << 2},
                                      {EventKind::PtrD, kStackTrVa, kGranuleLog2 << 2}};
  EXPECT_EQ(ptrs, want_ptrs);
  expect_pages_copied(r);
}

// (0, x): nothing to purge, however many inner steps; (1, 1): one ptc.e.
INSTANTIATE_TEST_SUITE_P(Counts, Ia64RelocatePtce,
                         ::testing::Values(PtceCounts{0, 5}, PtceCounts{1, 1}, PtceCounts{3, 2}),
                         [](const auto& info) {
                           return "Count0_" + std::to_string(info.param.count0) + "_Count1_" +
                                  std::to_string(info.param.count1);
                         });

TEST(Ia64Relocate, EveryPinnedTranslationRegisterIsGoneAtTheHandoff) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  EXPECT_TRUE(r.m_.trs().empty()) << r.m_.trs().size() << " translation registers left";
}

TEST(Ia64Relocate, APhysicalPalAddressLeavesThePalItrInPlace) {
  // The contract says in3 is virtual; this proves the check above would
  // see a caller that passed the PAL's physical address instead.
  Relocation r(4096, kThreeDestinations);
  r.edit_args = [](std::array<uint64_t, 8>& args) { args[3] = kPalVa & ~kRegion7; };
  ASSERT_TRUE(r.run().stopped);
  ASSERT_EQ(r.m_.trs().size(), 1u);
  EXPECT_EQ(r.m_.trs()[0].va, kPalVa);
}

TEST(Ia64Relocate, TheKernelIsEnteredWithExactlyThePsrSalGivesAnOsEntry) {
  // ac and bn, as Linux asm/sal.h SAL_PSR_BITS_TO_SET; physical, i and
  // ic off, nothing stale.
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  EXPECT_EQ(r.m_.psr(), psr_bit(IA64_PSR_AC_BIT) | psr_bit(IA64_PSR_BN_BIT));
}

// sync.i, srlz.i and srlz.d each in a group of their own after the last
// store, then the jump: instruction fetch and data both see the copy.
void expect_serialized_handoff(const Machine& m) {
  const auto& ev = m.events();
  ASSERT_FALSE(ev.empty());
  const Event& jump = ev.back();
  ASSERT_EQ(jump.kind, EventKind::Branch);
  auto last = [&](EventKind k) {
    for (size_t i = ev.size(); i-- > 0;) {
      if (ev[i].kind == k) return i;
    }
    return ev.size();
  };
  const size_t sync = last(EventKind::SyncI), si = last(EventKind::SrlzI),
               sd = last(EventKind::SrlzD), fc = last(EventKind::FcI);
  ASSERT_LT(sync, ev.size());
  ASSERT_LT(si, ev.size()) << "no srlz.i";
  ASSERT_LT(sd, ev.size()) << "no srlz.d";
  EXPECT_LT(ev[fc].group, ev[sync].group);
  EXPECT_LT(ev[sync].group, ev[si].group) << "srlz.i must follow sync.i in a later group";
  EXPECT_LT(ev[si].group, ev[sd].group) << "srlz.d must follow srlz.i in a later group";
  EXPECT_LT(ev[sd].group, jump.group) << "the jump must follow srlz.d in a later group";
}

TEST(Ia64Relocate, HandoffSyncsTheICacheThenSerializesInstructionsThenData) {
  Relocation r(4096, kThreeDestinations);
  ASSERT_TRUE(r.run().stopped);
  expect_serialized_handoff(r.m_);
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

TEST(Ia64Relocate, FromXensDirectMapAt0xf000EveryPageIsCopiedAndTheKernelEntered) {
  // Xen-ia64 maps physical memory at 0xf000...; stripping only bits 61-63
  // would rfi to physical 0x1000... + address, which is unimplemented.
  Relocation r(4096, kThreeDestinations,
               {.map_base = kXenDirectMap, .pal_va = kXenDirectMap | 0x7000000});
  const RunResult res = r.run(kXenDirectMap | kBootParam);
  ASSERT_TRUE(res.stopped) << res.fault;
  expect_pages_copied(r);
  expect_nothing_else_changed(r);
  EXPECT_EQ(r.m_.gr(28), kBootParam);
  EXPECT_TRUE(r.m_.trs().empty());
}

TEST(Ia64Relocate, ThePhysicalEntryCopiesWithoutPurgingWhenTheCallerIsInPhysicalMode) {
  // Xen-ia64's flow: physical mode and the TLB purged by the caller.
  Relocation r(4096, kThreeDestinations, {.entry = RelocateEntry::kPhysical, .map_base = 0});
  const RunResult res = r.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  expect_pages_copied(r);
  expect_nothing_else_changed(r);
  EXPECT_EQ(r.m_.gr(28), kBootParam);
  EXPECT_EQ(r.m_.ip(), kKernelEntry);
  for (const Event& e : r.m_.events()) {
    EXPECT_TRUE(e.kind != EventKind::PtcE && e.kind != EventKind::PtrI && e.kind != EventKind::PtrD)
        << "purged at 0x" << std::hex << e.ip;
  }
  EXPECT_EQ(r.m_.psr(), psr_bit(IA64_PSR_AC_BIT) | psr_bit(IA64_PSR_BN_BIT));
  EXPECT_EQ(r.m_.ar(ar::kBspstore), kRegisterStack);
  EXPECT_EQ(r.m_.gr(12), kMemoryStack + kDefaultStackSize - IA64_STACK_SCRATCH);
  expect_serialized_handoff(r.m_);
}

INSTANTIATE_TEST_SUITE_P(AllIa64PageSizes, Ia64RelocateAtPageSize,
                         ::testing::Values(4096, 8192, 16384, 65536), [](const auto& info) {
                           return std::to_string(info.param / 1024) + "KiB";
                         });

}  // namespace
}  // namespace charon::ia64
