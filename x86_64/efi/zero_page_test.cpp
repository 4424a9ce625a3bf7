#include "zero_page.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "linux_efi.h"

namespace charon::efi {
namespace {

using loader::boot_params;

// A minimal bzImage header that check_bzimage accepts.
std::vector<uint8_t> fake_kernel() {
  std::vector<uint8_t> k(0x4000, 0);
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) k[off + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0x1f1, 1, 1);            // setup_sects: payload at 0x400
  put(0x1f4, 0x3c00 / 16, 4);  // syssize
  put(0x1fe, 0xaa55, 2);
  k[0x201] = 0x6a;  // header ends at 0x26c
  put(0x202, 0x53726448, 4);
  put(0x206, 0x020f, 2);
  put(0x211, 0x01, 1);  // LOADED_HIGH
  put(0x230, 0x200000, 4);
  put(0x234, 1, 1);
  put(0x236, 0x3, 2);  // XLF_KERNEL_64 | above 4G
  put(0x238, 255, 4);  // cmdline_size
  put(0x258, 0x1000000, 8);
  put(0x260, 0x100000, 4);  // init_size
  put(0x268, 0xabcdef, 4);  // kernel_info_offset: copied as part of the header
  return k;
}

struct Built {
  std::vector<uint8_t> setup;
  const boot_params& bp() const { return *reinterpret_cast<const boot_params*>(setup.data()); }
};

Built build(const std::vector<uint8_t>& k, const char* cmdline, ZeroPageStatus want,
            const Framebuffer* fb = nullptr) {
  loader::BzHeaderInfo h{};
  EXPECT_EQ(loader::check_bzimage(k.data(), k.size(), loader::BzEntry::k64, h),
            loader::BzStatus::kOk);
  Built b;
  b.setup.assign(4096 + strlen(cmdline) + 1, 0xee);
  const ZeroPageInput in{
      k.data(), &h, 0x1'2345'6000, cmdline, strlen(cmdline), 0x2'0000'0000, 0x1'0000'0123,
      0xe0000,  fb};
  EXPECT_EQ(build_zero_page(in, b.setup.data()), want);
  return b;
}

TEST(ZeroPage, HeaderCopiedAndLoaderFieldsSetPerBootRst) {
  const std::vector<uint8_t> k = fake_kernel();
  const Built b = build(k, "console=ttyS0", ZeroPageStatus::kOk);
  const boot_params& bp = b.bp();
  EXPECT_EQ(+bp.hdr.header, 0x53726448u);
  EXPECT_EQ(+bp.hdr.kernel_info_offset, 0xabcdefu);
  EXPECT_EQ(+bp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(+bp.hdr.loadflags, loader::LOADED_HIGH);
  // Everything outside the header starts zeroed.
  EXPECT_EQ(+bp.e820_entries, 0);
  EXPECT_EQ(+bp.sentinel, 0);
  // The command line follows boot_params; the 64-bit pointer is split.
  EXPECT_EQ(+bp.hdr.cmd_line_ptr, 0x23457000u);
  EXPECT_EQ(+bp.ext_cmd_line_ptr, 0x1u);
  EXPECT_STREQ(reinterpret_cast<const char*>(b.setup.data() + 4096), "console=ttyS0");
  EXPECT_EQ(+bp.hdr.ramdisk_image, 0u);
  EXPECT_EQ(+bp.ext_ramdisk_image, 2u);
  EXPECT_EQ(+bp.hdr.ramdisk_size, 0x123u);
  EXPECT_EQ(+bp.ext_ramdisk_size, 1u);
  EXPECT_EQ(+bp.acpi_rsdp_addr, 0xe0000u);
}

TEST(ZeroPage, RealKernelHeaderIsCopiedToItsEnd) {
  std::ifstream f(CHARON_KERNEL, std::ios::binary);
  if (!f) GTEST_SKIP() << CHARON_KERNEL << " not fetched (make deps)";
  const std::vector<uint8_t> k{std::istreambuf_iterator<char>(f), {}};
  const Built b = build(k, "x", ZeroPageStatus::kOk);
  const size_t end = 0x202 + k[0x201];
  // Every header byte but the loader's own fields equals the image's.
  for (size_t off = 0x1f1; off < end; ++off) {
    if (off == 0x210 || off == 0x211 || (off >= 0x218 && off < 0x220) ||
        (off >= 0x224 && off < 0x22c))
      continue;  // type_of_loader, loadflags, ramdisk, heap_end_ptr, cmd_line_ptr
    EXPECT_EQ(b.setup[off], k[off]) << std::hex << off;
  }
}

TEST(ZeroPage, CommandLineLongerThanCmdlineSizeIsRefused) {
  const std::vector<uint8_t> k = fake_kernel();
  const std::string line(256, 'x');  // cmdline_size is 255
  build(k, line.c_str(), ZeroPageStatus::kCmdlineTooLong);
  build(k, line.substr(1).c_str(), ZeroPageStatus::kOk);
}

screen_info screen_of(const Framebuffer& fb) {
  boot_params bp{};
  fill_screen_info(fb, bp);
  screen_info si;
  std::memcpy(&si, bp.screen_info, sizeof si);
  return si;
}

TEST(ZeroPage, ScreenInfoFromGopBgrx) {
  const Framebuffer fb{0x1'c000'0000, 0x3e8000, 1280, 800, 1280, PixelFormat::kBgrx8, 0, 0, 0, 0};
  const screen_info si = screen_of(fb);
  EXPECT_EQ(+si.orig_video_isVGA, VIDEO_TYPE_EFI);
  EXPECT_EQ(+si.lfb_width, 1280);
  EXPECT_EQ(+si.lfb_height, 800);
  EXPECT_EQ(+si.lfb_depth, 32);
  EXPECT_EQ(+si.lfb_linelength, 1280 * 4);
  EXPECT_EQ(+si.lfb_base, 0xc0000000u);
  EXPECT_EQ(+si.ext_lfb_base, 1u);
  EXPECT_EQ(+si.capabilities, VIDEO_CAPABILITY_SKIP_QUIRKS | VIDEO_CAPABILITY_64BIT_BASE);
  EXPECT_EQ(+si.lfb_size, 0x3e8000u);
  EXPECT_EQ(+si.blue_pos, 0);
  EXPECT_EQ(+si.green_pos, 8);
  EXPECT_EQ(+si.red_pos, 16);
  EXPECT_EQ(+si.rsvd_pos, 24);
  EXPECT_EQ(+si.red_size, 8);
}

TEST(ZeroPage, ScreenInfoFromGopRgbxAndBitMask) {
  Framebuffer fb{0xc0000000, 0x100000, 640, 480, 648, PixelFormat::kRgbx8, 0, 0, 0, 0};
  screen_info si = screen_of(fb);
  EXPECT_EQ(+si.red_pos, 0);
  EXPECT_EQ(+si.blue_pos, 16);
  EXPECT_EQ(+si.lfb_linelength, 648 * 4);  // the stride, not the width
  EXPECT_EQ(+si.capabilities, VIDEO_CAPABILITY_SKIP_QUIRKS);
  fb.format = PixelFormat::kBitMask;  // RGB565
  fb.red_mask = 0xf800, fb.green_mask = 0x07e0, fb.blue_mask = 0x001f, fb.rsvd_mask = 0;
  si = screen_of(fb);
  EXPECT_EQ(+si.red_pos, 11);
  EXPECT_EQ(+si.red_size, 5);
  EXPECT_EQ(+si.green_pos, 5);
  EXPECT_EQ(+si.green_size, 6);
  EXPECT_EQ(+si.blue_size, 5);
  EXPECT_EQ(+si.lfb_depth, 16);
  EXPECT_EQ(+si.lfb_linelength, 648 * 2);
}

TEST(ZeroPage, BltOnlyGopLeavesScreenInfoEmpty) {
  const Framebuffer fb{0, 0, 800, 600, 800, PixelFormat::kBltOnly, 0, 0, 0, 0};
  const screen_info si = screen_of(fb);
  EXPECT_EQ(+si.orig_video_isVGA, 0);
  EXPECT_EQ(+si.lfb_base, 0u);
}

TEST(ZeroPage, EfiInfoSaysEl64AndSplitsAddresses) {
  boot_params bp{};
  fill_efi_info({0x1'3f80'0018, 0x2'3e53'6000, 48 * 97, 48, 1}, bp);
  efi_info ei;
  std::memcpy(&ei, bp.efi_info, sizeof ei);
  EXPECT_EQ(std::memcmp(&ei.efi_loader_signature, "EL64", 4), 0);
  EXPECT_EQ(+ei.efi_systab, 0x3f800018u);
  EXPECT_EQ(+ei.efi_systab_hi, 1u);
  EXPECT_EQ(+ei.efi_memmap, 0x3e536000u);
  EXPECT_EQ(+ei.efi_memmap_hi, 2u);
  EXPECT_EQ(+ei.efi_memmap_size, 48u * 97);
  EXPECT_EQ(+ei.efi_memdesc_size, 48u);
  EXPECT_EQ(+ei.efi_memdesc_version, 1u);
}

}  // namespace
}  // namespace charon::efi
