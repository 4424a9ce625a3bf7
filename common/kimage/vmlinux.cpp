// A Linux vmlinux booted by the Linux boot protocol (kexec-tools'
// --args-linux): the ELF kernel that a bzImage's decompressor would have
// unpacked, loaded where it was linked and entered at e_entry, which the
// kernel's linker script makes physical (arch/x86/kernel/vmlinux.lds.S:
// ENTRY(phys_startup_64), phys_startup_32 for i386). It carries no setup
// header, so the loader states the fields a bzImage's header would give;
// boot_params, the command line, the initrd, e820 and setup_data are
// then built by the same code as for a bzImage (setup.cpp).
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/kimage/payload.h>

namespace charon::kimage {

namespace {

// Linux's own x86 header (arch/x86/boot/header.S) says the same:
// COMMAND_LINE_SIZE 2048 with its NUL, and initrd_addr_max 0x7fffffff.
constexpr uint32_t kCmdlineMax = 2047;
constexpr uint32_t kInitrdAddrMax = 0x7fffffff;
// 2.12: the first protocol whose fields cover all charon fills
// (ext_ramdisk_*, ext_cmd_line_ptr, setup_data from 2.09, xloadflags);
// Linux parses setup_data only from 2.09 on (arch/x86/kernel/setup.c).
constexpr uint16_t kProtocol = 0x020c;

}  // namespace

Status vmlinux_kernel(const PayloadImage& im, BzImage& out) {
  out = {};
  if (im.nseg == 0) return Status::kElfNoLoad;
  const uint64_t start = align_down(im.seg[0].paddr, kPageSize);
  const uint64_t end = align_up(im.seg[im.nseg - 1].paddr + im.seg[im.nseg - 1].memsz, kPageSize);
  if (end <= start) return Status::kSegmentWraps;
  // boot_params' init_size is 32 bits; so is a kernel's footprint.
  if (end - start > UINT32_MAX) return Status::kSegmentWraps;
  out.payload_size = end - start;
  out.init_size = end - start;
  out.header_end = boot::kSetupHeaderOffset + sizeof(boot::setup_header);
  out.kernel_alignment = kPageSize;
  out.pref_address = start;
  out.cmdline_max = kCmdlineMax;
  out.initrd_addr_max = kInitrdAddrMax;
  out.version = kProtocol;
  out.xloadflags = im.type == PayloadType::kElf64 ? boot::XLF_KERNEL_64 : 0;
  return Status::kOk;
}

boot::setup_header vmlinux_setup_header(const BzImage& k) {
  boot::setup_header h{};
  h.boot_flag = boot::kBootFlag;
  h.header = boot::kHdrSMagic;
  h.version = k.version;
  h.loadflags = boot::LOADED_HIGH;
  h.initrd_addr_max = k.initrd_addr_max;
  h.kernel_alignment = static_cast<uint32_t>(k.kernel_alignment);
  h.xloadflags = k.xloadflags;
  h.cmdline_size = k.cmdline_max;
  h.pref_address = k.pref_address;
  h.init_size = 0;  // no decompressor: the purgatory maps the image by map_ranges
  return h;
}

}  // namespace charon::kimage
