// kexec_fake_sal_rendez and ia64_dump_cpu_regs, run from the real machine
// code in the interpreter.
#include <gtest/gtest.h>

#include <string>

#include "ia64/control_abi.h"
#include "ia64/control_offsets.h"
#include "interp/bundle.h"
#include "interp/exec_support.h"

namespace charon::ia64 {
namespace {

constexpr uint64_t kCode = 0x100000;
constexpr uint64_t kRendezEntry = 0x200000;
constexpr uint64_t kGp = 0x2a0000;
constexpr uint8_t kWakeup = 0xf0;

struct Rendezvous {
  Memory mem{0, 4 << 20};
  Machine m{mem};
  Rendezvous() {
    enter_control(mem, m, kCode, IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ);
    m.set_gr(32, kRendezEntry);
    m.set_gr(33, kGp);
    m.set_gr(34, kWakeup);
  }
};

TEST(Ia64Rendezvous, WakeupVectorSendsTheCpuToTheRendezvousEntryWithGp) {
  Rendezvous r;
  for (int v : {0x20, 0xd1, 15, int{kWakeup}}) r.m.queue_interrupt(static_cast<uint8_t>(v));
  const RunResult res = r.m.run(kRendezEntry, 10'000);
  ASSERT_TRUE(res.stopped) << res.fault;
  EXPECT_EQ(r.m.gr(1), kGp);
  // Interrupts masked, no collection, physical mode while it waited.
  const uint64_t off = psr_bit(IA64_PSR_I_BIT) | psr_bit(IA64_PSR_IC_BIT) |
                       psr_bit(IA64_PSR_DT_BIT) | psr_bit(IA64_PSR_IT_BIT);
  EXPECT_EQ(r.m.psr() & off, 0u);
  // 0x20, 0xd1 and the wakeup vector are ended; the spurious read is not.
  EXPECT_EQ(r.m.eoi_writes(), 3u);
}

TEST(Ia64Rendezvous, OtherVectorsKeepTheCpuWaiting) {
  Rendezvous r;
  for (int v : {0x20, 0x30, 0x40}) r.m.queue_interrupt(static_cast<uint8_t>(v));
  const RunResult res = r.m.run(kRendezEntry, 20'000);
  EXPECT_FALSE(res.stopped);
  EXPECT_NE(res.fault.find("did not reach"), std::string::npos) << res.fault;
  EXPECT_EQ(r.m.eoi_writes(), 3u) << "spurious reads while waiting get no EOI";
}

TEST(Ia64DumpRegs, EveryRegisterLandsInItsSlotOfTheBuffer) {
  Memory mem(0, 4 << 20);
  Machine m(mem);
  constexpr uint64_t kBuffer = 0x300000, kReturn = 0x3f0000;
  enter_control(mem, m, kCode, IA64_CONTROL_IA64_DUMP_CPU_REGS);
  m.set_frame(1, 0);
  for (unsigned r = 1; r < 32; ++r) m.set_gr(r, 0x1111111100000000ull * (r % 15 + 1) + r);
  m.set_gr(32, kRegion7 | kBuffer);
  for (unsigned b = 1; b < 8; ++b) m.set_br(b, 0x4000000 + 0x100 * b);
  m.set_br(0, kRegion7 | kReturn);
  for (unsigned p = 1; p < 64; ++p) m.set_pr(p, p % 3 == 0);
  const uint64_t ars[] = {ar::kRsc,  ar::kBsp, ar::kBspstore, ar::kRnat, ar::kUnat,
                          ar::kFpsr, ar::kPfs, ar::kLc,       ar::kEc};
  for (unsigned i = 0; i < 9; ++i) m.set_ar(ars[i], 0xa0000000 + i);
  const Machine before = m;

  const RunResult res = m.run(kRegion7 | kReturn, 1'000);
  ASSERT_TRUE(res.stopped) << res.fault;
  auto word = [&](unsigned i) { return mem.read64(kBuffer + 8 * i); };
  EXPECT_EQ(word(IA64_DUMP_GR), 0u);
  for (unsigned r = 1; r < 32; ++r) EXPECT_EQ(word(IA64_DUMP_GR + r), before.gr(r)) << "r" << r;
  for (unsigned b = 0; b < 8; ++b) EXPECT_EQ(word(IA64_DUMP_BR + b), before.br(b)) << "b" << b;
  uint64_t pr = 0;
  for (unsigned p = 0; p < 64; ++p) pr |= uint64_t{before.pr(p)} << p;
  EXPECT_EQ(word(IA64_DUMP_PR), pr);
  const uint64_t ip = word(IA64_DUMP_IP);
  EXPECT_GE(ip, kRegion7 | (kCode + IA64_CONTROL_IA64_DUMP_CPU_REGS));
  EXPECT_LT(ip, kRegion7 | (kCode + IA64_CONTROL_IA64_DUMP_CPU_REGS_END));
  const unsigned slots[] = {IA64_DUMP_RSC,  IA64_DUMP_BSP,  IA64_DUMP_BSPSTORE,
                            IA64_DUMP_RNAT, IA64_DUMP_UNAT, IA64_DUMP_FPSR,
                            IA64_DUMP_PFS,  IA64_DUMP_LC,   IA64_DUMP_EC};
  for (unsigned i = 0; i < 9; ++i) EXPECT_EQ(word(slots[i]), before.ar(ars[i])) << "ar" << ars[i];
  EXPECT_EQ(m.gr(32), kRegion7 | (kBuffer + 8 * IA64_DUMP_WORDS)) << "exactly the documented words";
}

}  // namespace
}  // namespace charon::ia64
