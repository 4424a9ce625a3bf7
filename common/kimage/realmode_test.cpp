// ImageInput::real_mode: the kernel entered through its own real-mode
// setup code (generic16), laid out as boot.rst's "Loading the rest of the
// kernel" asks: the setup code at X below 640 KiB, heap and stack up to
// X + 0xe000, the command line right above, SS = DS = X >> 4.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace charon::kimage {
namespace {

using charon::testing::BzSpec;
using charon::testing::make_bzimage;
constexpr uint64_t kM = k1MiB;

// A SeaBIOS machine under QEMU: RAM to the EBDA at 0x9fc00, then from
// 1 MiB; the adapter gives the core all of its RAM, low memory included.
struct RealCase {
  std::vector<uint8_t> kernel;
  std::unique_ptr<FreeList> free = std::make_unique<FreeList>();
  std::vector<MemRange> e820 = {{0, 0x9fc00, boot::E820Type::kRam},
                                {0x9fc00, 0xa0000, boot::E820Type::kReserved},
                                {0xf0000, 0x100000, boot::E820Type::kReserved},
                                {kM, 512 * kM, boot::E820Type::kRam}};
  std::string cmdline = "console=ttyS0 charon.token=0123abcd root=/dev/ram0";
  uint8_t seed[32] = {1, 2, 3};
  SetupDataNode node{boot::SETUP_RNG_SEED, seed, sizeof seed};
  ImageInput in;

  explicit RealCase(BzSpec spec = {}) {
    kernel = make_bzimage(spec);
    kernel[0x400] = 0xab;  // a byte of the setup code, past the header
    EXPECT_EQ(free->add(0, 0x9f000), Status::kOk);
    EXPECT_EQ(free->add(kM, 512 * kM), Status::kOk);
    in.kernel = kernel.data();
    in.kernel_size = kernel.size();
    in.has_initrd = true;
    in.initrd_size = 5 * kM + 123;
    in.cmdline_max_len = cmdline.size();
    in.entry = Entry::k64;  // real mode makes it the 32-bit entry's rules
    in.real_mode = true;
    in.free = free.get();
    in.memory_map = e820.data();
    in.nmemory_map = e820.size();
    in.setup_data = &node;
    in.nsetup_data = 1;
    in.e820_ext_room = 4;  // ignored: the setup code asks the BIOS
    in.acpi_rsdp = 0xf5a40;
    in.purgatory_size = 0x1d000;
    in.purgatory_align = kPageSize;
    in.purgatory_max_end = k2GiB;
  }
};

boot::setup_header header_of(const std::vector<uint8_t>& seg) {
  boot::setup_header h;
  std::memcpy(&h, seg.data() + boot::kSetupHeaderOffset, sizeof h);
  return h;
}

TEST(RealMode, SetupSegmentAndPurgatoryBelow640KAndKernelAsFor32Bit) {
  RealCase c;
  ImagePlan p;
  ASSERT_EQ(plan_image(c.in, p), Status::kOk);
  EXPECT_EQ(p.handoff, HandoffKind::kGeneric16);
  // The whole 64 KiB segment, page-aligned, in [64 KiB, 640 KiB), low.
  EXPECT_EQ(p.setup.start, kRealModeLow);
  EXPECT_EQ(p.setup.size(), kRealModeSegment);
  EXPECT_EQ(p.cmdline, p.setup.start + 0xe000);
  // The purgatory below 640 KiB (so its 16-bit tail below 1 MiB), apart
  // from the segment, inside the RAM below the EBDA.
  EXPECT_GE(p.purgatory.start, p.setup.end);
  EXPECT_LE(p.purgatory.end, 0x9f000u);
  EXPECT_LE(p.purgatory.end, kRealModeTop);
  // The protected-mode kernel and the initrd by the 32-bit rules.
  EXPECT_GE(p.kernel_seg.start, 0x1000000u);
  EXPECT_LE(p.initrd.end, k4GiB);
  EXPECT_EQ(p.kernel_entry, p.kernel_seg.start);
  EXPECT_GE(p.scratch.start, kM);
}

TEST(RealMode, HeaderAsBootRstAsksAndCommandLineAboveTheHeap) {
  RealCase c;
  ImagePlan p;
  ASSERT_EQ(plan_image(c.in, p), Status::kOk);
  const MemRange e820[] = {{0, 0x9fc00, boot::E820Type::kRam}};
  std::vector<uint8_t> seg(setup_bytes(c.in, c.cmdline.size()), 0xee);
  ASSERT_EQ(
      build_setup(c.in, p, c.cmdline.data(), c.cmdline.size(), e820, 1, seg.data(), seg.size()),
      Status::kOk);
  const boot::setup_header h = header_of(seg);
  EXPECT_EQ(unsigned{h.type_of_loader}, 0xffu);
  EXPECT_EQ(unsigned{h.loadflags}, unsigned{boot::LOADED_HIGH | boot::CAN_USE_HEAP});
  EXPECT_EQ(unsigned{h.heap_end_ptr}, 0xde00u);
  EXPECT_EQ(unsigned{h.cmd_line_ptr}, p.setup.start + 0xe000);
  EXPECT_EQ(unsigned{h.code32_start}, p.kernel_seg.start);
  EXPECT_EQ(unsigned{h.ramdisk_image}, p.initrd.start);
  EXPECT_EQ(unsigned{h.ramdisk_size}, c.in.initrd_size);
  EXPECT_EQ(unsigned{h.vid_mode}, 0xffffu);  // the kernel's own header, kept
  // The setup code itself is in the segment, from its first byte.
  EXPECT_EQ(seg[0x400], 0xab);
  // The command line, NUL-terminated, at heap_end, inside the segment.
  ASSERT_GT(seg.size(), 0xe000 + c.cmdline.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(seg.data() + 0xe000)), c.cmdline);
  EXPECT_LE(0xe000 + c.cmdline.size() + 1, kRealModeSegment);
  // Nothing of the zero page is written around the header: those bytes
  // are the setup code's boot sector (and the e820 table's place, 0x2d0,
  // is the setup code's own), so they are the file's.
  EXPECT_EQ(0, std::memcmp(seg.data(), c.kernel.data(), boot::kSetupHeaderOffset));
  EXPECT_EQ(0, std::memcmp(seg.data() + 0x2d0, c.kernel.data() + 0x2d0, 0x100));
  // setup_data still reaches the kernel: the header field the setup code
  // copies, a node after the command line.
  const uint64_t sd = h.setup_data;
  ASSERT_NE(sd, 0u);
  EXPECT_GT(sd, p.setup.start + 0xe000 + c.cmdline.size());
  boot::setup_data n;
  std::memcpy(&n, seg.data() + (sd - p.setup.start), sizeof n);
  EXPECT_EQ(n.type, boot::SETUP_RNG_SEED);
  EXPECT_EQ(n.next, 0u);  // no SETUP_E820_EXT: the BIOS gives the map
}

TEST(RealMode, Regs16EnterTheSetupCodeWithStackAtHeapEnd) {
  RealCase c;
  ImagePlan p;
  ASSERT_EQ(plan_image(c.in, p), Status::kOk);
  charon_params b{};
  b.magic = CHARON_PARAMS_MAGIC;
  b.version = CHARON_PARAMS_VERSION;
  b.size = sizeof b;
  b.regs16.eax = 0x1234;  // stale values from the image are cleared
  ASSERT_EQ(fill_params(c.in, p, b), Status::kOk);
  EXPECT_EQ(b.handoff, CHARON_HANDOFF_GENERIC16);
  const uint16_t seg = static_cast<uint16_t>(p.setup.start >> 4);
  EXPECT_EQ(b.regs16.ds, seg);
  EXPECT_EQ(b.regs16.es, seg);
  EXPECT_EQ(b.regs16.fs, seg);
  EXPECT_EQ(b.regs16.gs, seg);
  EXPECT_EQ(b.regs16.ss, seg);  // SS = DS: the setup code keeps our stack
  EXPECT_EQ(b.regs16.esp, 0xe000u);
  EXPECT_EQ(b.regs16.cs, seg + 0x20);
  EXPECT_EQ(b.regs16.ip, 0u);
  EXPECT_EQ(b.regs16.eax | b.regs16.ebx | b.regs16.ecx | b.regs16.edx | b.regs16.esi |
                b.regs16.edi | b.regs16.ebp,
            0u);
  EXPECT_EQ(b.boot_params, 0u);  // the setup code builds its own
  EXPECT_EQ(b.idmap_limit, 0u);
  EXPECT_EQ(b.scratch_base, p.scratch.start);
}

TEST(RealMode, RefusedWhereNoRealModeRunCanWork) {
  {
    RealCase c;
    c.in.crash = {true, 0, 640 * 1024, 0x200};
    ImagePlan p;
    EXPECT_EQ(plan_image(c.in, p), Status::kRealModeCrash);
  }
  {
    RealCase c;
    c.in.efi.present = true;
    ImagePlan p;
    EXPECT_EQ(plan_image(c.in, p), Status::kRealModeEfi);
  }
  {
    BzSpec s;
    s.setup_sects = 64;  // 65 sectors: beyond 32 KiB
    RealCase c(s);
    ImagePlan p;
    EXPECT_EQ(plan_image(c.in, p), Status::kRealModeSetupSize);
  }
  {
    BzSpec s;
    s.cmdline_size = 0x4000;
    RealCase c(s);
    c.in.cmdline_max_len = 0x2000;  // 0xe000 + 0x2000 + NUL passes 64 KiB
    ImagePlan p;
    EXPECT_EQ(plan_image(c.in, p), Status::kRealModeCmdline);
  }
  {
    BzSpec s;
    s.version = 0x0209;  // older than 2.10 (and 2.02 has no heap_end_ptr)
    RealCase c(s);
    ImagePlan p;
    EXPECT_EQ(plan_image(c.in, p), Status::kProtocolTooOld);
  }
}

// The plan with only [low_start, low_end) free below 1 MiB (and
// RAM from 1 MiB on): the real-mode parts never go high instead.
Status plan_with_low_ram(uint64_t low_start, uint64_t low_end) {
  RealCase c;
  c.free = std::make_unique<FreeList>();
  EXPECT_EQ(c.free->add(low_start, low_end), Status::kOk);
  EXPECT_EQ(c.free->add(kM, 512 * kM), Status::kOk);
  c.in.free = c.free.get();
  ImagePlan p;
  return plan_image(c.in, p);
}

TEST(RealMode, NoLowRamIsRefusedNotPlacedHigh) {
  // Only the first 64 KiB and a little more: no 64 KiB segment fits.
  EXPECT_EQ(plan_with_low_ram(0, 0x18000), Status::kNoRoomRealMode);
  // Room for the segment, none for the purgatory beside it.
  EXPECT_EQ(plan_with_low_ram(0x10000, 0x30000), Status::kNoRoomPurgatoryLow);
  // Room for both.
  EXPECT_EQ(plan_with_low_ram(0x10000, 0x60000), Status::kOk);
}

TEST(RealMode, WithoutItTheLinuxLayoutIsUnchanged) {
  RealCase c;
  c.in.real_mode = false;
  ImagePlan p;
  ASSERT_EQ(plan_image(c.in, p), Status::kOk);
  EXPECT_EQ(p.handoff, HandoffKind::kLinux64);
  EXPECT_GE(p.setup.start, kM);
  EXPECT_GE(p.purgatory.start, kM);
  EXPECT_EQ(p.cmdline, p.setup.start + sizeof(boot::boot_params));
}

}  // namespace
}  // namespace charon::kimage
