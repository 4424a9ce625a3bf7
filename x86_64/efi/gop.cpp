#include "gop.h"

#include <charon/mem.h>

namespace charon::efi {

namespace {

// Position and width of a contiguous channel mask.
void mask_bits(uint32_t mask, uint8_t& pos, uint8_t& size) {
  pos = size = 0;
  if (!mask) return;
  while (!(mask & 1)) mask >>= 1, ++pos;
  while (mask & 1) mask >>= 1, ++size;
}

}  // namespace

bool screen_info_from_gop(const Framebuffer& fb, boot::screen_info& si) {
  mem_fill(&si, 0, sizeof si);
  if (fb.format == PixelFormat::kBltOnly) return false;
  si.orig_video_isVGA = boot::VIDEO_TYPE_EFI;
  si.lfb_width = static_cast<uint16_t>(fb.width);
  si.lfb_height = static_cast<uint16_t>(fb.height);
  si.lfb_base = static_cast<uint32_t>(fb.base);
  si.ext_lfb_base = static_cast<uint32_t>(fb.base >> 32);
  si.capabilities = boot::VIDEO_CAPABILITY_SKIP_QUIRKS |
                    (si.ext_lfb_base ? boot::VIDEO_CAPABILITY_64BIT_BASE : 0);
  si.lfb_size = static_cast<uint32_t>(fb.size);
  si.pages = 1;
  switch (fb.format) {
    case PixelFormat::kRgbx8:
      si.red_size = si.green_size = si.blue_size = si.rsvd_size = 8;
      si.red_pos = 0, si.green_pos = 8, si.blue_pos = 16, si.rsvd_pos = 24;
      break;
    case PixelFormat::kBgrx8:
      si.red_size = si.green_size = si.blue_size = si.rsvd_size = 8;
      si.blue_pos = 0, si.green_pos = 8, si.red_pos = 16, si.rsvd_pos = 24;
      break;
    default:
      mask_bits(fb.red_mask, si.red_pos, si.red_size);
      mask_bits(fb.green_mask, si.green_pos, si.green_size);
      mask_bits(fb.blue_mask, si.blue_pos, si.blue_size);
      mask_bits(fb.rsvd_mask, si.rsvd_pos, si.rsvd_size);
      break;
  }
  // Depth counts every bit of a pixel, the reserved ones included, as the
  // stride in bytes does.
  si.lfb_depth = static_cast<uint16_t>(si.red_size + si.green_size + si.blue_size + si.rsvd_size);
  si.lfb_linelength = static_cast<uint16_t>(fb.pixels_per_line * (si.lfb_depth / 8));
  return true;
}

}  // namespace charon::efi
