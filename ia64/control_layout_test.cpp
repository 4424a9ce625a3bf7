// The control-block plan at every ia64 page size, and the errors for sizes
// it must refuse.
#include "control_layout.h"

#include <gtest/gtest.h>

#include "ia64/control_offsets.h"
#include "interp/bundle.h"
#include "interp/control_image.h"
#include "interp/insn.h"

namespace charon::ia64 {
namespace {

class Ia64LayoutAtPageSize : public ::testing::TestWithParam<uint64_t> {};

TEST_P(Ia64LayoutAtPageSize, CodeIsPageZeroAndStacksAreSeparatePageAlignedRuns) {
  const uint64_t ps = GetParam();
  const auto plan = plan_control_block({.page_size = ps});
  ASSERT_TRUE(plan.ok()) << plan.error();
  const ControlPlan& p = plan.value();
  EXPECT_EQ(p.code.first, 0u);
  EXPECT_EQ(p.code.count, 1u);
  // Default stacks are 8 KiB each, as in Linux's control page.
  const uint64_t stack_pages = ps >= 8192 ? 1 : 8192 / ps;
  EXPECT_EQ(p.memory_stack.count, stack_pages);
  EXPECT_EQ(p.register_stack.count, stack_pages);
  // Byte ranges: each starts on a page boundary, holds its content, and
  // shares no page with another.
  struct Range {
    uint64_t lo, hi, need;
  };
  const Range r[] = {
      {p.code.first * ps, (p.code.first + p.code.count) * ps, IA64_CONTROL_CODE_SIZE},
      {p.memory_stack.first * ps, (p.memory_stack.first + p.memory_stack.count) * ps,
       p.memory_stack_size},
      {p.register_stack.first * ps, (p.register_stack.first + p.register_stack.count) * ps,
       p.register_stack_size}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r[i].lo % ps, 0u);
    EXPECT_GE(r[i].hi - r[i].lo, r[i].need);
    for (int j = i + 1; j < 3; ++j) EXPECT_TRUE(r[i].hi <= r[j].lo || r[j].hi <= r[i].lo);
  }
  EXPECT_EQ(p.total_pages, 1 + 2 * stack_pages);
}

TEST_P(Ia64LayoutAtPageSize, EveryEntryPointLiesInPageZeroWithinTheFirst4096Bytes) {
  const uint64_t ps = GetParam();
  const auto plan = plan_control_block({.page_size = ps});
  ASSERT_TRUE(plan.ok()) << plan.error();
  for (const EntryPoint& e : plan.value().code_info.entries) {
    EXPECT_LT(e.offset, e.end) << e.name;
    EXPECT_LE(e.end, 4096u) << e.name;
    EXPECT_EQ(e.offset / ps, 0u) << e.name;
    EXPECT_EQ((e.end - 1) / ps, 0u) << e.name << " crosses a page boundary";
    EXPECT_EQ(e.offset % 32, 0u) << e.name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIa64PageSizes, Ia64LayoutAtPageSize,
                         ::testing::Values(4096, 8192, 16384, 65536), [](const auto& info) {
                           return std::to_string(info.param / 1024) + "KiB";
                         });

TEST(Ia64Layout, GeneratedOffsetsNameTheRoutinesInTheLinkedCode) {
  // Each generated offset starts a routine: relocate_new_kernel and
  // kexec_fake_sal_rendez open with alloc, ia64_dump_cpu_regs with its
  // first store. This ties the nm-generated header to the .text bytes.
  const auto code = control_code();
  const CodeInfo info = linked_code();
  const char* first[] = {"alloc r31=ar.pfs,8,8,0", "alloc r31=ar.pfs,5,5,0",
                         "alloc r33=ar.pfs,9,9,0"};
  for (int i = 0; i < 3; ++i) {
    const EntryPoint& e = info.entries[i];
    ASSERT_LT(e.offset + kBundleBytes, code.size() + 1);
    const Bundle b = split_bundle(code.data() + e.offset);
    const auto insn = decode_slot(Unit::M, b.slots[0]);
    ASSERT_TRUE(insn.ok()) << e.name << ": " << insn.error();
    EXPECT_EQ(disassemble(insn.value(), e.offset), first[i]) << e.name;
  }
  EXPECT_EQ(info.code_size, code.size());
  const Bundle b = split_bundle(code.data() + info.relocate_physical);
  const auto insn = decode_slot(Unit::M, b.slots[0]);
  ASSERT_TRUE(insn.ok()) << insn.error();
  EXPECT_EQ(disassemble(insn.value(), info.relocate_physical), "alloc r31=ar.pfs,8,8,0");
}

TEST(Ia64Layout, LargerStacksTakeMorePagesAndStayApart) {
  const auto plan = plan_control_block(
      {.page_size = 4096, .memory_stack_size = 16384, .register_stack_size = 4112});
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan.value().memory_stack.first, 1u);
  EXPECT_EQ(plan.value().memory_stack.count, 4u);
  EXPECT_EQ(plan.value().register_stack.first, 5u);
  EXPECT_EQ(plan.value().register_stack.count, 2u);
}

void expect_error(const ControlRequest& req, const std::string& words) {
  const auto plan = plan_control_block(req);
  ASSERT_FALSE(plan.ok()) << "page size " << req.page_size << " was accepted";
  EXPECT_NE(plan.error().find(words), std::string::npos) << plan.error();
}

TEST(Ia64Layout, PageSizesThatAreNotPowersOfTwoAreRefused) {
  expect_error({.page_size = 0}, "not a power of two");
  expect_error({.page_size = 12288}, "not a power of two");
  expect_error({.page_size = 4095}, "not a power of two");
}

TEST(Ia64Layout, PageSizesBelow4KiBAreRefusedAsTooSmall) {
  expect_error({.page_size = 2048}, "too small");
  expect_error({.page_size = 1}, "too small");
}

TEST(Ia64Layout, PowersOfTwoThatIa64LinuxDoesNotUseAreRefused) {
  expect_error({.page_size = 32768}, "not supported");
  expect_error({.page_size = 1 << 20}, "not supported");
}

TEST(Ia64Layout, TooSmallOrOddStackSizesAreRefused) {
  expect_error({.page_size = 4096, .memory_stack_size = 0}, "memory stack size 0 is too small");
  expect_error({.page_size = 4096, .register_stack_size = 512},
               "register stack size 512 is too small");
  expect_error({.page_size = 4096, .memory_stack_size = 8200}, "not a multiple of 16");
  expect_error({.page_size = 4096, .register_stack_size = 8193}, "not a multiple of 16");
}

TEST(Ia64Layout, CodeThatWouldLeavePageZeroIsRefused) {
  CodeInfo big = linked_code();
  big.code_size = 4112;
  big.entries[2].end = 4112;
  auto plan = plan_control_block({.page_size = 65536}, big);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find("must fit in 4096"), std::string::npos) << plan.error();

  CodeInfo misaligned = linked_code();
  misaligned.entries[1].offset += 16;
  plan = plan_control_block({.page_size = 4096}, misaligned);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find("kexec_fake_sal_rendez"), std::string::npos) << plan.error();
}

TEST(Ia64Layout, RelocateCallPassesStackTopBackingStoreAndPageSize) {
  const auto plan = plan_control_block({.page_size = 16384});
  ASSERT_TRUE(plan.ok());
  // Three runs far apart, as a hypervisor may hand them out.
  const Placement where{0x4000000, 0x1000000, 0x7ffc000};
  const Handoff h{0x1234002, 0x4400000, 0x5000000, 0xe000000006000000, 0x3000008};
  const auto call = relocate_call(plan.value(), where, h);
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call.value().entry, where.code + IA64_CONTROL_RELOCATE_NEW_KERNEL);
  const std::array<uint64_t, 8> want = {h.head,        h.start,   h.boot_param,
                                        h.pal_va,      0x1002000, where.register_stack,
                                        h.purge_block, 16384};
  EXPECT_EQ(call.value().args, want);
}

TEST(Ia64Layout, RelocateCallRefusesAPhysicalPalAddressForTheVirtualEntry) {
  const auto plan = plan_control_block({.page_size = 16384});
  ASSERT_TRUE(plan.ok());
  const Placement where{0x4000000, 0x1000000, 0x7ffc000};
  const auto call =
      relocate_call(plan.value(), where, {0x1234002, 0x4400000, 0x5000000, 0x6000000, 0x3000008});
  ASSERT_FALSE(call.ok());
  EXPECT_NE(call.error().find("PAL address 0x6000000 is not a region 7 virtual address"),
            std::string::npos)
      << call.error();
}

TEST(Ia64Layout, RelocateCallForThePhysicalEntryUsesItsOffsetAndTheSameArguments) {
  const auto plan = plan_control_block({.page_size = 16384});
  ASSERT_TRUE(plan.ok());
  const Placement where{0x4000000, 0x1000000, 0x7ffc000};
  const Handoff h{0x1234002, 0x4400000, 0x5000000, 0, 0};
  const auto call = relocate_call(plan.value(), where, h, RelocateEntry::kPhysical);
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call.value().entry, where.code + IA64_CONTROL_RELOCATE_NEW_KERNEL_PHYSICAL);
  EXPECT_EQ(call.value().args[4], 0x1002000u);
  EXPECT_EQ(call.value().args[5], where.register_stack);
}

TEST(Ia64Layout, RelocateCallRefusesMisalignedOrOverlappingPages) {
  const auto plan = plan_control_block({.page_size = 8192});
  ASSERT_TRUE(plan.ok());
  const Handoff h{2, 0x100000, 0x200000, 0x300000, 0x400000};
  auto call = relocate_call(plan.value(), {0x10000, 0x21000, 0x40000}, h);
  ASSERT_FALSE(call.ok());
  EXPECT_NE(call.error().find("memory stack pages at 0x21000 are not aligned"), std::string::npos)
      << call.error();
  call = relocate_call(plan.value(), {0x10000, 0x20000, 0x20000}, h);
  ASSERT_FALSE(call.ok());
  EXPECT_NE(call.error().find("overlap"), std::string::npos) << call.error();
}

}  // namespace
}  // namespace charon::ia64
