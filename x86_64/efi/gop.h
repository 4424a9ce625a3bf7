// screen_info from the Graphics Output Protocol, as Linux's EFI stub fills
// it (drivers/firmware/efi/libstub/gop.c): the only fact of boot_params
// that exists in no other form on a UEFI machine. Pure code.
#pragma once
#include <charon/boot/boot_params.h>
#include <stdint.h>

namespace charon::efi {

// EFI_GRAPHICS_PIXEL_FORMAT ([uefi/2.10]: 12.9).
enum class PixelFormat : uint32_t { kRgbx8 = 0, kBgrx8 = 1, kBitMask = 2, kBltOnly = 3 };

struct Framebuffer {
  uint64_t base, size;
  uint32_t width, height, pixels_per_line;
  PixelFormat format;
  uint32_t red_mask, green_mask, blue_mask, rsvd_mask;  // kBitMask only
};

// false for a BLT-only mode: there is no linear framebuffer to hand over.
bool screen_info_from_gop(const Framebuffer& fb, boot::screen_info& si);

}  // namespace charon::efi
