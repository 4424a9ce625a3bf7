// Mutation tests for kexec_fake_sal_rendez and ia64_dump_cpu_regs: the
// real code with one instruction removed is caught, each time by the rule
// that the instruction exists to satisfy.
#include <gtest/gtest.h>

#include <string>

#include "ia64/control_offsets.h"
#include "interp/exec_support.h"
#include "mutation.h"
#include "relocation_scenario.h"

namespace charon::ia64 {
namespace {

constexpr Routine kRendez{IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ,
                          IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ_END};
constexpr Routine kDump{IA64_CONTROL_IA64_DUMP_CPU_REGS, IA64_CONTROL_IA64_DUMP_CPU_REGS_END};
constexpr uint64_t kApStart = 0x1100000;
constexpr uint8_t kWakeup = 0xf0;

// One AP entering the rendezvous as an old kernel leaves it (stale IFS,
// TPR and an in-service vector), with the wakeup vector pending, and the
// named instruction removed.
struct RendezRun {
  Memory mem{0, 32 << 20};
  Machine m{mem};
  RunResult res;
  RendezRun(std::string text, std::string after, unsigned nth) {
    const uint64_t purge[] = {kPtceBase,   kPtceCount0,   kPtceCount1,  kPtceStride0, kPtceStride1,
                              kKernelTrVa, kKernelTrLog2, kGranuleLog2, kStackTrVa};
    mem.write(kPurgeBlock, purge, sizeof purge);
    enter_control(mem, m, kCode, IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ);
    insert_kernel_trs(m);
    const uint64_t args[] = {kApStart, 0x12a0000, kWakeup, kPalVa, kPurgeBlock};
    for (unsigned i = 0; i < 5; ++i) m.set_gr(32 + i, args[i]);
    m.interrupts().raise(kWakeup);
    remove(kCode, kRendez, std::move(text), std::move(after), nth)(mem);
    res = m.run(kApStart, 20'000);
  }
};

void expect_rendez_fault(const char* text, const char* words, const char* after = "",
                         unsigned nth = 1) {
  const RendezRun r(text, after, nth);
  const RunResult& res = r.res;
  EXPECT_FALSE(res.stopped) << "reached the AP start without `" << text << "`";
  EXPECT_NE(res.fault.find(words), std::string::npos) << res.fault;
}

TEST(Ia64RendezvousFault, WithoutEnforcedLazyModeTheSwitchToPhysicalModeFaults) {
  expect_rendez_fault("mov.m ar.rsc=0", "ar.rsc=0 missing");
}

TEST(Ia64RendezvousFault, WithoutFlushrsTheSwitchToPhysicalModeFaults) {
  expect_rendez_fault("flushrs", "flushrs missing");
}

TEST(Ia64RendezvousFault, WithoutMovCrIfsZeroTheStaleFrameMakesRfiFault) {
  expect_rendez_fault("mov cr.ifs=r0", "cr.ifs.v=1");
}

TEST(Ia64RendezvousFault, WithoutPsrAcTheStaleR16ReachesIpsrAndRfiRefusesIt) {
  expect_rendez_fault("adds r16=8,r0", "not modelled");
}

TEST(Ia64RendezvousFault, WithoutSrlzIAfterThePtcELoopTheNextLoadFaults) {
  expect_rendez_fault("srlz.i", "srlz missing after ptc.e/ptr", "ptc.e r18");
}

TEST(Ia64RendezvousFault, WithoutSrlzIAfterTheTrPurgesTheNextLoadFaults) {
  expect_rendez_fault("srlz.i", "srlz missing after ptc.e/ptr", "ptr.d r16,r17", 1);
  expect_rendez_fault("srlz.i", "purge", "ptr.d r16,r17", 2);
}

TEST(Ia64RendezvousFault, WithoutTprZeroTheStaleTprHidesTheWakeupVector) {
  expect_rendez_fault("mov cr.tpr=r0", "did not reach");
}

TEST(Ia64RendezvousFault, WithoutTheEoisTheStaleInServiceVectorHidesTheWakeupVector) {
  expect_rendez_fault("mov cr.eoi=r0", "did not reach");
}

TEST(Ia64RendezvousFault, WithoutThePalTrPurgeThePalItrSurvives) {
  const RendezRun r("ptr.i r35,r17", "", 1);
  ASSERT_TRUE(r.res.stopped) << r.res.fault;
  EXPECT_EQ(r.m.trs().size(), 1u) << "the check TheApPurgesItsTlb... makes would see it";
}

// ---- ia64_dump_cpu_regs ----------------------------------------------------

constexpr uint64_t kBuffer = 0x300000, kReturn = 0x3f0000;

struct DumpRun {
  Memory mem{0, 4 << 20};
  Machine m{mem};
  RunResult res;
  explicit DumpRun(std::string text) {
    enter_control(mem, m, kCode, IA64_CONTROL_IA64_DUMP_CPU_REGS);
    m.set_frame(1, 0);
    m.set_gr(32, kRegion7 | kBuffer);
    m.set_br(0, kRegion7 | kReturn);
    remove(kCode, kDump, std::move(text))(mem);
    res = m.run(kRegion7 | kReturn, 1'000);
  }
};

TEST(Ia64DumpRegsFault, WithoutEnforcedLazyModeReadingArBspstoreFaults) {
  DumpRun d("mov.m ar.rsc=0");
  EXPECT_FALSE(d.res.stopped);
  EXPECT_NE(d.res.fault.find("ar.bspstore read with ar.rsc.mode 3"), std::string::npos)
      << d.res.fault;
}

TEST(Ia64DumpRegsFault, WithoutFlushrsTheDirtyRegistersAreNotInTheBackingStore) {
  DumpRun d("flushrs");
  ASSERT_TRUE(d.res.stopped) << d.res.fault;
  EXPECT_NE(d.mem.read64(kBuffer + 8 * IA64_DUMP_BSPSTORE),
            d.mem.read64(kBuffer + 8 * IA64_DUMP_BSP));
}

TEST(Ia64DumpRegsFault, WithoutRestoringArRscTheCallerIsLeftInEnforcedLazyMode) {
  DumpRun d("mov.m ar.rsc=r35");
  ASSERT_TRUE(d.res.stopped) << d.res.fault;
  EXPECT_EQ(d.m.ar(ar::kRsc), 0u);
}

}  // namespace
}  // namespace charon::ia64
