// kexec_fake_sal_rendez and ia64_dump_cpu_regs, run from the real machine
// code in the interpreter, entered with the stale state an old kernel
// leaves (exec_support.h).
#include <gtest/gtest.h>

#include <string>

#include "ia64/control_abi.h"
#include "ia64/control_offsets.h"
#include "interp/bundle.h"
#include "interp/exec_support.h"
#include "relocation_scenario.h"

namespace charon::ia64 {
namespace {

constexpr uint64_t kApStart = 0x1100000;
constexpr uint64_t kGp = 0x12a0000;
constexpr uint8_t kWakeup = 0xf0;

struct Rendezvous {
  Memory mem{0, 32 << 20};
  Machine m{mem};
  explicit Rendezvous(uint64_t map_base = kRegion7) {
    const uint64_t purge[] = {kPtceBase,   kPtceCount0,   kPtceCount1,  kPtceStride0, kPtceStride1,
                              kKernelTrVa, kKernelTrLog2, kGranuleLog2, kStackTrVa};
    mem.write(kPurgeBlock, purge, sizeof purge);
    enter_control(mem, m, kCode, IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ, map_base);
    insert_kernel_trs(m);
    m.set_gr(32, kApStart);
    m.set_gr(33, kGp);
    m.set_gr(34, kWakeup);
    m.set_gr(35, kPalVa);
    m.set_gr(36, kPurgeBlock);
  }
};

TEST(Ia64Rendezvous, WakeupVectorSendsTheApToItsStartDespiteStaleTprAndAnInServiceVector) {
  // The old kernel left TPR masking every class and 0xfe in service, which
  // would hide the wakeup vector (class 15) from cr.ivr.
  Rendezvous r;
  for (int v : {0x20, 0xd1, int{kWakeup}}) r.m.interrupts().raise(static_cast<uint8_t>(v));
  const RunResult res = r.m.run(kApStart, 10'000);
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_EQ(r.m.gr(1), kGp);
  EXPECT_EQ(r.m.cr(cr::kTpr), 0u);
  EXPECT_FALSE(r.m.interrupts().any_in_service()) << "the wakeup vector was not ended";
  EXPECT_FALSE(r.m.interrupts().pending(kWakeup));
  // The AP starts the new kernel in the state SAL's wakeup gives it.
  EXPECT_EQ(r.m.psr(), psr_bit(IA64_PSR_AC_BIT) | psr_bit(IA64_PSR_BN_BIT));
}

TEST(Ia64Rendezvous, TheApPurgesItsTlbAndEveryPinnedTranslationBeforeWaiting) {
  Rendezvous r;
  r.m.interrupts().raise(kWakeup);
  const RunResult res = r.m.run(kApStart, 10'000);
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_TRUE(r.m.trs().empty()) << r.m.trs().size() << " translation registers left";
  unsigned ptce = 0;
  size_t first_ivr_read = 0;
  for (const Event& e : r.m.events()) {
    if (e.kind == EventKind::PtcE) ++ptce;
    if (e.kind == EventKind::WriteCr && e.a == cr::kTpr && first_ivr_read == 0) first_ivr_read = 1;
    if (e.kind == EventKind::PtcE || e.kind == EventKind::PtrI || e.kind == EventKind::PtrD) {
      EXPECT_EQ(first_ivr_read, 0u) << "purged after it started waiting";
    }
  }
  EXPECT_EQ(ptce, kPtceCount0 * kPtceCount1);
}

TEST(Ia64Rendezvous, FromXensDirectMapTheApStillReachesItsStart) {
  Rendezvous r(kXenDirectMap);
  r.m.interrupts().raise(kWakeup);
  const RunResult res = r.m.run(kApStart, 10'000);
  ASSERT_TRUE(res.stopped) << res.fault;
}

TEST(Ia64Rendezvous, OtherVectorsKeepTheApWaiting) {
  Rendezvous r;
  for (int v : {0x20, 0x30, 0x40}) r.m.interrupts().raise(static_cast<uint8_t>(v));
  const RunResult res = r.m.run(kApStart, 20'000);
  EXPECT_FALSE(res.stopped);
  EXPECT_NE(res.fault.find("did not reach"), std::string::npos) << res.fault;
  // One EOI per level that may be in service, then one per real vector;
  // spurious reads while waiting get none.
  EXPECT_EQ(r.m.eoi_writes(), IA64_RENDEZ_EOIS + 3u);
}

// ---- ia64_dump_cpu_regs ----------------------------------------------------

constexpr uint64_t kReturn = 0x3f0000;

struct Dump {
  Memory mem{0, 4 << 20};
  Machine m{mem};
  uint64_t buffer;
  explicit Dump(uint64_t buf) : buffer(buf) {
    enter_control(mem, m, kCode, IA64_CONTROL_IA64_DUMP_CPU_REGS);
    m.set_frame(1, 0);
    for (unsigned r = 1; r < 32; ++r) m.set_gr(r, 0x1111111100000000ull * (r % 15 + 1) + r);
    m.set_gr(32, kRegion7 | buffer);
    for (unsigned b = 1; b < 8; ++b) m.set_br(b, 0x4000000 + 0x100 * b);
    m.set_br(0, kRegion7 | kReturn);
    for (unsigned p = 1; p < 64; ++p) m.set_pr(p, p % 3 == 0);
    m.set_ar(ar::kUnat, 0x0123456789abcdefull);
    m.set_ar(ar::kFpsr, 0xa0000005);
    m.set_ar(ar::kCcv, 0xa0000006);
    m.set_ar(ar::kCsd, 0xa0000007);
    m.set_ar(ar::kSsd, 0xa0000008);
    m.set_ar(ar::kEc, 0x3f);
  }
  RunResult run() { return m.run(kRegion7 | kReturn, 1'000); }
  uint64_t word(unsigned i) const { return mem.read64(buffer + 8 * i); }
};

TEST(Ia64DumpRegs, EveryRegisterLandsInItsLinuxElfGregsetSlot) {
  Dump d(0x300000);
  const Machine before = d.m;
  const RunResult res = d.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_EQ(d.word(IA64_DUMP_GR), 0u);
  for (unsigned r = 1; r < 32; ++r) EXPECT_EQ(d.word(IA64_DUMP_GR + r), before.gr(r)) << "r" << r;
  EXPECT_EQ(d.word(IA64_DUMP_NAT), 0u);
  uint64_t pr = 0;
  for (unsigned p = 0; p < 64; ++p) pr |= uint64_t{before.pr(p)} << p;
  EXPECT_EQ(d.word(IA64_DUMP_PR), pr);
  for (unsigned b = 0; b < 8; ++b) EXPECT_EQ(d.word(IA64_DUMP_BR + b), before.br(b)) << "b" << b;
  EXPECT_EQ(d.word(IA64_DUMP_IP), before.br(0)) << "ip is the caller's return point";
  EXPECT_EQ(d.word(IA64_DUMP_CFM), before.ar(ar::kPfs) & ((uint64_t{1} << 38) - 1));
  EXPECT_EQ(d.word(IA64_DUMP_PSR), 0u);
  EXPECT_EQ(d.word(IA64_DUMP_RSC), 3u) << "the caller's (eager) ar.rsc";
  EXPECT_EQ(d.word(IA64_DUMP_BSP), before.ar(ar::kBsp));
  EXPECT_EQ(d.word(IA64_DUMP_BSPSTORE), before.ar(ar::kBsp))
      << "the dirty stacked registers were not flushed to the backing store";
  EXPECT_EQ(d.word(IA64_DUMP_RNAT), before.ar(ar::kRnat));
  const struct {
    unsigned slot, reg;
  } ars[] = {{IA64_DUMP_CCV, ar::kCcv}, {IA64_DUMP_UNAT, ar::kUnat}, {IA64_DUMP_FPSR, ar::kFpsr},
             {IA64_DUMP_PFS, ar::kPfs}, {IA64_DUMP_LC, ar::kLc},     {IA64_DUMP_EC, ar::kEc},
             {IA64_DUMP_CSD, ar::kCsd}, {IA64_DUMP_SSD, ar::kSsd}};
  for (const auto& a : ars) EXPECT_EQ(d.word(a.slot), before.ar(a.reg)) << "ar" << a.reg;
  // The caller gets its RSE mode, ar.unat and r1-r31 back.
  EXPECT_EQ(d.m.ar(ar::kRsc), 3u);
  EXPECT_EQ(d.m.ar(ar::kUnat), before.ar(ar::kUnat));
  for (unsigned r = 1; r < 32; ++r) EXPECT_EQ(d.m.gr(r), before.gr(r)) << "r" << r;
  EXPECT_EQ(d.m.gr(32), kRegion7 | (d.buffer + 8 * IA64_DUMP_WORDS))
      << "exactly the documented words";
}

TEST(Ia64DumpRegs, SlotsAreWhereCrashCReadsThem) {
  // arch/ia64/kernel/crash.c: cfm = dst[43], bsp = dst[46]; asm/elf.h:
  // ELF_CR_IIP_OFFSET 42, ELF_AR_END_OFFSET 57.
  static_assert(IA64_DUMP_CFM == 43 && IA64_DUMP_BSP == 46 && IA64_DUMP_IP == 42);
  static_assert(IA64_DUMP_NAT == 32 && IA64_DUMP_BR == 34 && IA64_DUMP_UNAT == 50);
  static_assert(IA64_DUMP_WORDS == 57);
  Dump d(0x300000);
  ASSERT_TRUE(d.run().stopped);
  const uint64_t cfm = d.word(43);
  EXPECT_EQ(cfm & 0x7f, 0xc03u & 0x7f) << "sof of the caller's frame";
  EXPECT_EQ((cfm >> 7) & 0x7f, (0xc03u >> 7) & 0x7f) << "sol of the caller's frame";
}

class Ia64DumpNat : public ::testing::TestWithParam<uint64_t> {};

TEST_P(Ia64DumpNat, NatRegistersDoNotFaultAndAreMarkedInTheNatWord) {
  // The buffer's position decides which ar.unat bits the spills use.
  Dump d(GetParam());
  d.m.set_nat(5, true);
  d.m.set_nat(20, true);
  d.m.set_nat(31, true);
  const RunResult res = d.run();
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_EQ(d.word(IA64_DUMP_NAT), (uint64_t{1} << 5) | (uint64_t{1} << 20) | (uint64_t{1} << 31));
  EXPECT_EQ(d.word(IA64_DUMP_UNAT), 0x0123456789abcdefull);
  EXPECT_TRUE(d.m.nat(5)) << "the caller's NaT bits are its own";
}

INSTANTIATE_TEST_SUITE_P(BufferAlignments, Ia64DumpNat,
                         ::testing::Values(0x300000, 0x300070, 0x3001f8), [](const auto& info) {
                           return "At0x" + [&] {
                             char b[16];
                             std::snprintf(b, sizeof b, "%llx",
                                           static_cast<unsigned long long>(info.param));
                             return std::string(b);
                           }();
                         });

}  // namespace
}  // namespace charon::ia64
