// The handoff kinds as the purgatory and the loaders name them, and the
// real-mode reach rule for the generic16 tail.
#include <charon/handoff.h>
#include <charon/params.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

namespace charon {
namespace {

TEST(Handoff, EveryAbiNumberIsAKindWithItsOwnName) {
  EXPECT_EQ(CHARON_HANDOFF_COUNT, 5u);
  const char* names[CHARON_HANDOFF_COUNT] = {};
  for (uint32_t raw = 0; raw < CHARON_HANDOFF_COUNT; ++raw) {
    ASSERT_TRUE(is_valid_handoff(raw));
    EXPECT_EQ(handoff_abi(handoff_kind(raw)), raw);
    names[raw] = handoff_name(handoff_kind(raw));
    EXPECT_STRNE(names[raw], "?");
    for (uint32_t j = 0; j < raw; ++j) EXPECT_STRNE(names[raw], names[j]);
  }
  EXPECT_FALSE(is_valid_handoff(CHARON_HANDOFF_COUNT));
  EXPECT_STREQ(handoff_name(HandoffKind::kGeneric16), "generic16");
  EXPECT_EQ(CHARON_HANDOFF_GENERIC16, 4u);
}

TEST(Handoff, Generic16LeavesLongModeLikeThe32BitKindsButIsNoLinuxKind) {
  EXPECT_TRUE(is_32bit(HandoffKind::kGeneric16));
  EXPECT_FALSE(is_linux(HandoffKind::kGeneric16));
  EXPECT_TRUE(is_32bit(HandoffKind::kGeneric32));
  EXPECT_FALSE(is_32bit(HandoffKind::kGeneric64));
}

TEST(RealModeReach, TailBelowOneMiBWithinOneSegmentIsReachable) {
  EXPECT_TRUE(real_mode_reachable(0x3000, 0x3200));
  EXPECT_TRUE(real_mode_reachable(0x9f000, 0xa0000));
  // The last byte of the tail may be the last byte below 1 MiB.
  EXPECT_TRUE(real_mode_reachable(0xff000, 0x100000));
  // Unaligned start: the segment is start >> 4, its base start & ~0xf.
  EXPECT_TRUE(real_mode_reachable(0x1238, 0x1238 + 0xfff8));
}

TEST(RealModeReach, AnythingAtOrAboveOneMiBOrWiderThanASegmentIsRefused) {
  EXPECT_FALSE(real_mode_reachable(0xff000, 0x100001));         // crosses 1 MiB
  EXPECT_FALSE(real_mode_reachable(0x100000, 0x100200));        // at 1 MiB (A20 wrap region)
  EXPECT_FALSE(real_mode_reachable(0x800000, 0x800200));        // where charon's tests put it
  EXPECT_FALSE(real_mode_reachable(0x140003000, 0x140003200));  // above 4 GiB
  EXPECT_FALSE(real_mode_reachable(0x1238, 0x1238 + 0xfff9));   // one byte past 64 KiB
  EXPECT_FALSE(real_mode_reachable(0x2000, 0x1000));            // empty the wrong way round
}

// kexec-tools' struct entry16_regs (kexec/arch/i386/kexec-x86.h): eight
// u32, then ds, es, ss, fs, gs, ip, cs, pad as u16; ip then cs is the
// far pointer entry16 jumps through.
TEST(ParamsLayout, Regs16IsKexecToolsEntry16Regs) {
  EXPECT_EQ(sizeof(charon_regs16), 48u);
  EXPECT_EQ(offsetof(charon_regs16, eax), 0u);
  EXPECT_EQ(offsetof(charon_regs16, ebp), 28u);
  EXPECT_EQ(offsetof(charon_regs16, ds), 32u);
  EXPECT_EQ(offsetof(charon_regs16, es), 34u);
  EXPECT_EQ(offsetof(charon_regs16, ss), 36u);
  EXPECT_EQ(offsetof(charon_regs16, fs), 38u);
  EXPECT_EQ(offsetof(charon_regs16, gs), 40u);
  EXPECT_EQ(offsetof(charon_regs16, ip), 42u);
  EXPECT_EQ(offsetof(charon_regs16, cs), 44u);
  EXPECT_EQ(offsetof(charon_regs16, pad), 46u);
}

// Version 3 only appended: every version-2 field keeps its offset, and the
// real-mode fields follow the memory ranges.
TEST(ParamsLayout, Version3AppendsTheRealModeFieldsAtTheEnd) {
  EXPECT_EQ(CHARON_PARAMS_VERSION, 3u);
  constexpr size_t kVersion2Size = offsetof(charon_params, memory) + sizeof(charon_region) * 32;
  EXPECT_EQ(offsetof(charon_params, regs16), kVersion2Size);
  EXPECT_EQ(offsetof(charon_params, regs16_debug), kVersion2Size + 48);
  EXPECT_EQ(offsetof(charon_params, entry16_debug_old_first32), kVersion2Size + 96);
  EXPECT_EQ(sizeof(charon_params), kVersion2Size + 104);
  EXPECT_EQ(sizeof(charon_params) % 8, 0u);
  EXPECT_LT(sizeof(charon_params), 65536u);  // `size` is a uint16_t
  EXPECT_EQ(offsetof(charon_bin_header, entry16), 28u);
  EXPECT_EQ(offsetof(charon_bin_header, entry16_debug_first32), 40u);
}

}  // namespace
}  // namespace charon
