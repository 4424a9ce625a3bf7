// The checks of the execution tests can fail: the real control code with
// one instruction removed is caught, each time by the rule that the
// missing instruction exists to satisfy.
#include <gtest/gtest.h>

#include <string>

#include "interp/bundle.h"
#include "interp/insn.h"
#include "mutation.h"
#include "relocation_scenario.h"

namespace charon::ia64 {
namespace {

constexpr Routine kRelocate{IA64_CONTROL_RELOCATE_NEW_KERNEL, IA64_CONTROL_RELOCATE_NEW_KERNEL_END};

std::function<void(Memory&)> remove(std::string text, std::string after = "", unsigned nth = 1) {
  return charon::ia64::remove(kCode, kRelocate, std::move(text), std::move(after), nth);
}

void expect_fault(std::function<void(Memory&)> patch, const char* words) {
  Relocation r(4096, {{0x1200000, 2}});
  r.patch = std::move(patch);
  const RunResult res = r.run();
  EXPECT_FALSE(res.stopped) << "ran to the kernel with the instruction removed";
  EXPECT_NE(res.fault.find(words), std::string::npos) << res.fault;
}

void expect_fault(const char* removed, const char* words) {
  expect_fault(remove(removed), words);
}

TEST(Ia64RelocateFault, WithoutEnforcedLazyModeTheBackingStoreSwitchFaults) {
  expect_fault("mov.m ar.rsc=0", "not enforced lazy");
}

TEST(Ia64RelocateFault, WithoutFlushrsTheBackingStoreSwitchFaults) {
  expect_fault("flushrs", "flushrs missing");
}

TEST(Ia64RelocateFault, WithoutRsmTheInterruptionRegistersCannotBeWritten) {
  expect_fault("rsm 0x6000", "psr.ic=1");
}

TEST(Ia64RelocateFault, WithoutPsrBnTheRfiIsRefused) {
  expect_fault("dep r16=-1,r16,44,1", "psr.bn=0");
}

TEST(Ia64RelocateFault, WithoutMovCrIfsZeroTheStaleFrameMakesRfiFault) {
  expect_fault("mov cr.ifs=r0", "cr.ifs.v=1");
}

TEST(Ia64RelocateFault, WithoutTheSrlzAfterRsmPsrIcIsStillOnAtTheCrWrite) {
  expect_fault(remove("srlz.i", "flushrs"), "psr.ic=1");
}

TEST(Ia64RelocateFault, WithoutSrlzIAfterThePtcELoopTheNextLoadFaults) {
  expect_fault(remove("srlz.i", "ptc.e r18"), "srlz missing after ptc.e/ptr");
}

TEST(Ia64RelocateFault, WithoutSrlzIAfterTheKernelTrPurgeTheNextLoadFaults) {
  expect_fault(remove("srlz.i", "ptr.d r16,r17", 1), "srlz missing after ptc.e/ptr");
}

TEST(Ia64RelocateFault, WithoutSrlzIAfterThePalAndStackTrPurgesTheNextLoadFaults) {
  expect_fault(remove("srlz.i", "ptr.d r16,r17", 2), "srlz missing after ptc.e/ptr");
}

TEST(Ia64RelocateFault, WithoutPsrAcTheStaleR16ReachesIpsrAndRfiRefusesIt) {
  expect_fault("adds r16=8,r0", "not modelled");
}

TEST(Ia64RelocateFault, WithoutPsrAcAndAZeroR16TheHandoffPsrCheckFails) {
  Relocation r(4096, {{0x1200000, 2}});
  r.patch = remove("adds r16=8,r0");
  r.edit_args = [&](std::array<uint64_t, 8>&) { r.m_.set_gr(16, 0); };
  ASSERT_TRUE(r.run().stopped);
  EXPECT_NE(r.m_.psr(), psr_bit(IA64_PSR_AC_BIT) | psr_bit(IA64_PSR_BN_BIT));
}

TEST(Ia64RelocateFault, WithoutTheFinalSrlzDTheHandoffIsNotDataSerialized) {
  Relocation r(4096, {{0x1200000, 2}});
  r.patch = remove("srlz.d", "sync.i");
  ASSERT_TRUE(r.run().stopped);
  const auto& ev = r.m_.events();
  size_t sync = 0;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].kind == EventKind::SyncI) sync = i;
  }
  EXPECT_EQ(std::count_if(ev.begin() + sync, ev.end(),
                          [](const Event& e) { return e.kind == EventKind::SrlzD; }),
            0)
      << "the check the hand-off test makes (expect_serialized_handoff) sees no srlz.d";
}

TEST(Ia64RelocateFault, StrippingOnlyRegionBits61To63FromXensMapRfisToAnUnimplementedAddress) {
  // The old `dep r3=0,r3,61,3`: patched in place of bits 60-63.
  Relocation r(4096, {{0x1200000, 2}},
               {.map_base = kXenDirectMap, .pal_va = kXenDirectMap | 0x7000000});
  r.patch = [](Memory& mem) {
    for (uint64_t off = kRelocate.begin; off < kRelocate.end; off += kBundleBytes) {
      uint8_t* bytes = mem.at(kCode + off);
      const Bundle b = split_bundle(bytes);
      const auto tmpl = template_for(b.template_code);
      for (unsigned s = 0; s < 3; ++s) {
        const auto insn = decode_slot(tmpl->units[s], b.slots[s]);
        if (insn.ok() && disassemble(insn.value(), off) == "dep r3=0,r3,60,4") {
          // I14: pos6 (bits 14-19) = 63 - pos, len6 (27-32) = len - 1.
          uint64_t v = b.slots[s];
          v = (v & ~(uint64_t{63} << 14)) | (uint64_t{63 - 61} << 14);
          v = (v & ~(uint64_t{63} << 27)) | (uint64_t{3 - 1} << 27);
          set_slot(bytes, s, v);
          return;
        }
      }
    }
    FAIL() << "no dep r3=0,r3,60,4";
  };
  const RunResult res = r.run(kXenDirectMap | kBootParam);
  EXPECT_FALSE(res.stopped);
  EXPECT_NE(res.fault.find("unimplemented physical address"), std::string::npos) << res.fault;
}

TEST(Ia64RelocateFault, WithoutFcITheICacheCheckSeesUnflushedLines) {
  Relocation r(4096, {{0x1200000, 2}});
  r.patch = remove("fc.i r11");
  ASSERT_TRUE(r.run().stopped);
  EXPECT_EQ(r.m_.unflushed_lines().size(), 2 * 4096 / IA64_FC_STRIDE);
}

TEST(Ia64RelocateFault, WithoutTheIndirectionHopTheWalkNeverCopies) {
  // Dropping `mov r29=r31` leaves the list pointer unset: the walk reads
  // wild memory instead of the indirection page and never finishes the
  // copy the list asks for.
  Relocation r(4096, {{0x1200000, 2}});
  r.patch = remove("(p06) mov r29=r31");
  const RunResult res = r.run();
  if (res.stopped) {
    EXPECT_FALSE(std::equal(r.before_.begin() + r.copies_[0].src,
                            r.before_.begin() + r.copies_[0].src + 4096,
                            r.mem_.bytes().begin() + r.copies_[0].dest));
  } else {
    EXPECT_FALSE(res.fault.empty());
  }
}

TEST(Ia64Interpreter, ExecutingAnUnsupportedInstructionFaultsNamingIt) {
  Memory mem(0, 1 << 20);
  Machine m(mem);
  const auto code = unsupported_code();
  mem.write(0x10000, code.data(), code.size());
  m.set_ip(0x10000);
  m.set_psr(psr_bit(IA64_PSR_BN_BIT));
  const RunResult res = m.run(0, 100);
  EXPECT_FALSE(res.stopped);
  EXPECT_NE(res.fault.find("bundle at 0x10000 [MFI] slot 1"), std::string::npos) << res.fault;
  EXPECT_NE(res.fault.find("unsupported F-unit instruction"), std::string::npos) << res.fault;
}

TEST(Ia64Interpreter, ReservedTemplateFaults) {
  Memory mem(0, 1 << 20);
  Machine m(mem);
  const auto code = control_code();
  mem.write(0x10000, code.data(), kBundleBytes);
  mem.at(0x10000)[0] = static_cast<uint8_t>((mem.at(0x10000)[0] & ~0x1f) | 0x06);
  m.set_ip(0x10000);
  m.set_psr(psr_bit(IA64_PSR_BN_BIT));
  const RunResult res = m.run(0, 100);
  EXPECT_FALSE(res.stopped);
  EXPECT_NE(res.fault.find("reserved template 0x6"), std::string::npos) << res.fault;
}

}  // namespace
}  // namespace charon::ia64
