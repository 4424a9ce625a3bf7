// The two parts of boot_params that only an EFI loader fills, with Linux's
// field names (include/uapi/linux/screen_info.h, arch/x86/include/uapi/
// asm/bootparam.h). loader/include/charon/loader/boot_params.h keeps them
// as byte arrays of the right size; these give the bytes their meaning.
#pragma once
#include <charon/loader/boot_params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::efi {

inline constexpr uint8_t VIDEO_TYPE_EFI = 0x70;
inline constexpr uint32_t VIDEO_CAPABILITY_SKIP_QUIRKS = 1u << 0;
inline constexpr uint32_t VIDEO_CAPABILITY_64BIT_BASE = 1u << 1;

struct [[gnu::packed]] screen_info {
  uint8_t orig_x;
  uint8_t orig_y;
  uint16_t ext_mem_k;
  uint16_t orig_video_page;
  uint8_t orig_video_mode;
  uint8_t orig_video_cols;
  uint8_t flags;
  uint8_t unused2;
  uint16_t orig_video_ega_bx;
  uint16_t unused3;
  uint8_t orig_video_lines;
  uint8_t orig_video_isVGA;
  uint16_t orig_video_points;
  uint16_t lfb_width;
  uint16_t lfb_height;
  uint16_t lfb_depth;
  uint32_t lfb_base;
  uint32_t lfb_size;
  uint16_t cl_magic, cl_offset;
  uint16_t lfb_linelength;
  uint8_t red_size, red_pos, green_size, green_pos, blue_size, blue_pos, rsvd_size, rsvd_pos;
  uint16_t vesapm_seg;
  uint16_t vesapm_off;
  uint16_t pages;
  uint16_t vesa_attributes;
  uint32_t capabilities;
  uint32_t ext_lfb_base;
  uint8_t _reserved[2];
};
static_assert(sizeof(screen_info) == sizeof(loader::boot_params{}.screen_info));
static_assert(offsetof(screen_info, orig_video_isVGA) == 0x0f);
static_assert(offsetof(screen_info, lfb_base) == 0x18);
static_assert(offsetof(screen_info, lfb_linelength) == 0x24);
static_assert(offsetof(screen_info, red_size) == 0x26);
static_assert(offsetof(screen_info, capabilities) == 0x36);
static_assert(offsetof(screen_info, ext_lfb_base) == 0x3a);

// "EL64": a 64-bit firmware's loader (arch/x86/include/asm/efi.h).
inline constexpr uint32_t EFI64_LOADER_SIGNATURE = 0x34364c45;

struct [[gnu::packed]] efi_info {
  uint32_t efi_loader_signature;
  uint32_t efi_systab;
  uint32_t efi_memdesc_size;
  uint32_t efi_memdesc_version;
  uint32_t efi_memmap;
  uint32_t efi_memmap_size;
  uint32_t efi_systab_hi;
  uint32_t efi_memmap_hi;
};
static_assert(sizeof(efi_info) == sizeof(loader::boot_params{}.efi_info));
static_assert(offsetof(efi_info, efi_systab_hi) == 0x18);

}  // namespace charon::efi
