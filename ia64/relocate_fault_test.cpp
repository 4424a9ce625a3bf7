// The checks of the execution tests can fail: the real control code with
// one instruction removed is caught, each time by the rule that the
// missing instruction exists to satisfy.
#include <gtest/gtest.h>

#include <string>

#include "interp/bundle.h"
#include "interp/insn.h"
#include "relocation_scenario.h"

namespace charon::ia64 {
namespace {

// Replaces the first instruction of relocate_new_kernel that disassembles
// as `text` with a nop.
std::function<void(Memory&)> remove(std::string text) {
  return [text](Memory& mem) {
    for (uint64_t off = IA64_CONTROL_RELOCATE_NEW_KERNEL;
         off < IA64_CONTROL_RELOCATE_NEW_KERNEL_END; off += kBundleBytes) {
      uint8_t* bytes = mem.at(kCode + off);
      const Bundle b = split_bundle(bytes);
      const auto tmpl = template_for(b.template_code);
      ASSERT_TRUE(tmpl.has_value());
      for (unsigned s = 0; s < 3; ++s) {
        const auto insn = decode_slot(tmpl->units[s], b.slots[s]);
        if (insn.ok() && disassemble(insn.value(), off) == text) {
          set_slot(bytes, s, kNopMI);
          return;
        }
      }
    }
    FAIL() << "no `" << text << "` in relocate_new_kernel";
  };
}

void expect_fault(const char* removed, const char* words) {
  Relocation r(4096, {{0x1200000, 2}});
  r.patch = remove(removed);
  const RunResult res = r.run();
  EXPECT_FALSE(res.stopped) << "ran to the kernel without `" << removed << "`";
  EXPECT_NE(res.fault.find(words), std::string::npos) << res.fault;
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
