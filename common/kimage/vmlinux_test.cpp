// A Linux vmlinux in the core: recognized by its "Linux" ELF note, and
// booted by --args-linux through the bzImage path's own planner and
// boot_params builder (vmlinux.cpp, placement.cpp, setup.cpp).
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/kimage/payload.h>
#include <gtest/gtest.h>
#include <synthetic_elf.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace charon::kimage {
namespace {

using namespace test;

// ---- Linux vmlinux: its "Linux" ELF notes, and --args-linux through the
// bzImage path's own planner and boot_params builder.

// Appends a PT_NOTE holding one note named `name` to an image from
// make_elf (its program headers have room up to file offset 0x1000).
std::vector<uint8_t> with_note(std::vector<uint8_t> b, bool is64, const std::string& name) {
  const size_t phent = is64 ? 56 : 32;
  const uint16_t phnum = uint16_t(b[is64 ? 56 : 44] | b[is64 ? 57 : 45] << 8);
  const size_t ph = 64 + phnum * phent, at = b.size();
  std::vector<uint8_t> note;
  put32(note, 0, uint32_t(name.size() + 1));
  put32(note, 4, 4);
  put32(note, 8, 0x100);  // LINUX_ELFNOTE_BUILD_SALT
  note.resize(12 + align_up(name.size() + 1, 4) + 4, 0);
  std::memcpy(note.data() + 12, name.c_str(), name.size() + 1);
  b.insert(b.end(), note.begin(), note.end());
  put32(b, ph, 4);  // PT_NOTE
  if (is64) {
    put64(b, ph + 8, at);
    put64(b, ph + 32, note.size());
    put16(b, 56, uint16_t(phnum + 1));
  } else {
    put32(b, ph + 4, uint32_t(at));
    put32(b, ph + 16, uint32_t(note.size()));
    put16(b, 44, uint16_t(phnum + 1));
  }
  return b;
}

// A vmlinux's shape: text at 16 MiB, data, and bss in the last segment.
std::vector<uint8_t> make_vmlinux(bool is64 = true) {
  return with_note(make_elf(is64, 0x1000000,
                            {{0x1000000, 0x3000, 0x3000, 0x11},
                             {0x1200000, 0x1000, 0x1000, 0x22},
                             {0x1201000, 0x800, 0x5000, 0x33}}),
                   is64, "Linux");
}

TEST(Vmlinux, RecognizedByItsLinuxElfNote) {
  EXPECT_TRUE(is_linux_elf(make_vmlinux().data(), make_vmlinux().size()));
  EXPECT_TRUE(is_linux_elf(make_vmlinux(false).data(), make_vmlinux(false).size()));
  auto plain = make_elf(true, 0x1000000, {{0x1000000, 0x3000, 0x3000, 0x11}});
  EXPECT_FALSE(is_linux_elf(plain.data(), plain.size()));
  auto gnu = with_note(plain, true, "GNU");
  EXPECT_FALSE(is_linux_elf(gnu.data(), gnu.size()));
  auto linuxx = with_note(plain, true, "Linuxx");  // a longer name is another name
  EXPECT_FALSE(is_linux_elf(linuxx.data(), linuxx.size()));
  // The note cut off at the end of the file is not read past it.
  auto v = make_vmlinux();
  for (size_t cut : {v.size() - 1, v.size() - 9, size_t{70}})
    EXPECT_FALSE(is_linux_elf(v.data(), cut)) << cut;
}

// The machine of PayloadPlan tests, as the bzImage planner's input.
struct LinuxMachine {
  Machine m;
  PayloadImage im;
  std::vector<uint8_t> seed = std::vector<uint8_t>(32, 0x5a);
  SetupDataNode node{SETUP_RNG_SEED_TYPE, nullptr, 32};
  ImageInput in;
  explicit LinuxMachine(std::vector<uint8_t> f, bool is64 = true)
      : m(std::move(f), is64 ? PayloadType::kElf64 : PayloadType::kElf32) {
    EXPECT_EQ(parse_payload(m.file.data(), m.file.size(), m.in.type, im), Status::kOk);
    node.data = seed.data();
    in.vmlinux = &im;
    in.entry = is64 ? Entry::k64 : Entry::k32;
    in.has_initrd = true;
    in.initrd_size = 0x123456;
    in.cmdline_max_len = 30;
    in.free = m.free.get();
    in.memory_map = m.map.data();
    in.nmemory_map = m.map.size();
    in.setup_data = &node;
    in.nsetup_data = 1;
    in.purgatory_size = 0x1d000;
    in.purgatory_align = kPageSize;
    in.purgatory_max_end = k4GiB;
  }
  static constexpr uint32_t SETUP_RNG_SEED_TYPE = boot::SETUP_RNG_SEED;
};

TEST(Vmlinux, PlannedAtItsAddressesWithTheLinux64Handoff) {
  LinuxMachine lm(make_vmlinux());
  ImagePlan plan;
  ASSERT_EQ(plan_image(lm.in, plan), Status::kOk);
  EXPECT_EQ(plan.handoff, HandoffKind::kLinux64);
  EXPECT_EQ(plan.kernel_entry, 0x1000000u);  // e_entry, not load + 0x200
  // The whole footprint, gaps between segments included.
  EXPECT_EQ(plan.kernel_seg.start, 0x1000000u);
  EXPECT_EQ(plan.kernel_seg.end, 0x1206000u);
  EXPECT_EQ(plan.kernel.init_size, 0x206000u);
  // The initrd below Linux's initrd_addr_max, boot_params below 4 GiB,
  // nothing on the kernel.
  EXPECT_LE(plan.initrd.end, 0x80000000u);
  for (const Range& r : {plan.initrd, plan.setup, plan.purgatory, plan.scratch})
    EXPECT_TRUE(r.end <= plan.kernel_seg.start || r.start >= plan.kernel_seg.end);
  charon_params p = fresh_params();
  ASSERT_EQ(fill_params(lm.in, plan, p), Status::kOk);
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_LINUX64);
  EXPECT_EQ(p.kernel_entry, 0x1000000u);
  EXPECT_EQ(p.boot_params, plan.setup.start);
  EXPECT_EQ(p.map_ranges[0].start, 0x1000000u);
  EXPECT_EQ(p.map_ranges[0].len, 0x206000u);
  EXPECT_EQ(p.idmap_limit, 0u);
  // Typed: the reserved hole at 0x9fc00 is not memory.
  EXPECT_EQ(p.memory[0].start, 0u);
  EXPECT_EQ(p.memory[0].len, 0x9fc00u);
}

TEST(Vmlinux, BootParamsFromTheBzImageBuilder) {
  LinuxMachine lm(make_vmlinux());
  ImagePlan plan;
  ASSERT_EQ(plan_image(lm.in, plan), Status::kOk);
  const std::string cmdline = "console=ttyS0 root=/dev/ram0";
  std::vector<uint8_t> buf(setup_bytes(lm.in, cmdline.size()));
  ASSERT_EQ(build_setup(lm.in, plan, cmdline.data(), cmdline.size(), lm.m.map.data(),
                        lm.m.map.size(), buf.data(), buf.size()),
            Status::kOk);
  const auto& bp = *reinterpret_cast<const boot::boot_params*>(buf.data());
  EXPECT_EQ(uint64_t{bp.hdr.header}, boot::kHdrSMagic);
  EXPECT_EQ(uint64_t{bp.hdr.boot_flag}, boot::kBootFlag);
  EXPECT_EQ(uint64_t{bp.hdr.version}, 0x020cu);  // setup_data is read from 2.09 on
  EXPECT_EQ(uint64_t{bp.hdr.cmdline_size}, 2047u);
  EXPECT_EQ(uint64_t{bp.hdr.init_size}, 0u);  // no decompressor to make room for
  EXPECT_EQ(uint64_t{bp.hdr.type_of_loader}, 0xffu);
  EXPECT_EQ(uint64_t{bp.hdr.xloadflags}, boot::XLF_KERNEL_64);
  EXPECT_EQ(uint64_t{bp.hdr.cmd_line_ptr}, plan.setup.start + sizeof(boot::boot_params));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()) + sizeof(boot::boot_params)),
            cmdline);
  EXPECT_EQ(uint64_t{bp.hdr.ramdisk_image}, plan.initrd.start);
  EXPECT_EQ(uint64_t{bp.hdr.ramdisk_size}, 0x123456u);
  ASSERT_EQ(uint64_t{bp.e820_entries}, lm.m.map.size());
  EXPECT_EQ(uint64_t{bp.e820_table[3].addr}, 0x100000u);
  EXPECT_EQ(uint64_t{bp.e820_table[3].type}, 1u);
  // The RNG seed node, chained from the header.
  ASSERT_NE(uint64_t{bp.hdr.setup_data}, 0u);
  const uint8_t* node = buf.data() + (bp.hdr.setup_data - plan.setup.start);
  EXPECT_EQ(get32(node + 8), boot::SETUP_RNG_SEED);
  EXPECT_EQ(node[16], 0x5a);
}

TEST(Vmlinux, RefusalsEachWithTheirOwnStatus) {
  {  // its class's entry only
    LinuxMachine lm(make_vmlinux());
    lm.in.entry = Entry::k32;
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kVmlinuxEntry);
  }
  {  // no real-mode setup code to enter
    LinuxMachine lm(make_vmlinux());
    lm.in.real_mode = true;
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kRealModeVmlinux);
  }
  {  // no xloadflags says it takes 5-level paging
    LinuxMachine lm(make_vmlinux());
    lm.in.la57 = true;
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kNo5Level);
  }
  {  // its fixed place must be free RAM
    LinuxMachine lm(make_vmlinux());
    ASSERT_TRUE(lm.m.free->take_at(0x1204000, kPageSize));
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kSegmentNotFree);
  }
  {  // an ELF32 vmlinux: linux32 at e_entry, all below 4 GiB
    LinuxMachine lm(make_vmlinux(false), false);
    ImagePlan plan;
    ASSERT_EQ(plan_image(lm.in, plan), Status::kOk);
    EXPECT_EQ(plan.handoff, HandoffKind::kLinux32);
    EXPECT_EQ(plan.kernel_entry, 0x1000000u);
  }
  // And plan_payload leaves --args-linux to plan_image.
  Machine m(make_vmlinux(), PayloadType::kElf64);
  m.in.args = ElfArgs::kLinux;
  PayloadPlan p;
  EXPECT_EQ(plan_payload(m.in, p), Status::kElfArgsLinux);
}

}  // namespace
}  // namespace charon::kimage
