#include "gop.h"

#include <gtest/gtest.h>

namespace charon::efi {
namespace {

using namespace charon::boot;

screen_info screen_of(const Framebuffer& fb) {
  screen_info si;
  EXPECT_EQ(screen_info_from_gop(fb, si), fb.format != PixelFormat::kBltOnly);
  return si;
}

TEST(Gop, ScreenInfoFromGopBgrx) {
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

TEST(Gop, ScreenInfoFromGopRgbxAndBitMask) {
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

TEST(Gop, BltOnlyGopLeavesScreenInfoEmpty) {
  const Framebuffer fb{0, 0, 800, 600, 800, PixelFormat::kBltOnly, 0, 0, 0, 0};
  const screen_info si = screen_of(fb);
  EXPECT_EQ(+si.orig_video_isVGA, 0);
  EXPECT_EQ(+si.lfb_base, 0u);
}

}  // namespace
}  // namespace charon::efi
