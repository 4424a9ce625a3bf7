// boot_params for a kernel started from UEFI: the setup header copied from
// the bzImage, the command line after it, the initrd, the ACPI RSDP, the
// GOP framebuffer, and, once the final memory map is known, the e820 table
// and efi_info. Pure code over a buffer; efi_main supplies the firmware's
// values.
#pragma once
#include <charon/loader/boot_params.h>
#include <charon/loader/bzimage_core.h>
#include <stddef.h>
#include <stdint.h>

#include "efi_memmap.h"

namespace charon::efi {

// EFI_GRAPHICS_PIXEL_FORMAT ([uefi/2.10]: 12.9).
enum class PixelFormat : uint32_t { kRgbx8 = 0, kBgrx8 = 1, kBitMask = 2, kBltOnly = 3 };

struct Framebuffer {
  uint64_t base, size;
  uint32_t width, height, pixels_per_line;
  PixelFormat format;
  uint32_t red_mask, green_mask, blue_mask, rsvd_mask;  // kBitMask only
};

struct ZeroPageInput {
  const uint8_t* kernel_file;  // the whole bzImage
  const loader::BzHeaderInfo* hdr;
  uint64_t setup_addr;  // where boot_params will lie; the command line follows at +4096
  const char* cmdline;
  size_t cmdline_len;
  uint64_t initrd_addr, initrd_size;
  uint64_t acpi_rsdp;     // 0: the kernel searches itself
  const Framebuffer* fb;  // null: no GOP
};

enum class ZeroPageStatus { kOk, kCmdlineTooLong };

// Writes boot_params and the command line (with its NUL) to `setup`,
// which holds 4096 + cmdline_len + 1 bytes.
ZeroPageStatus build_zero_page(const ZeroPageInput& in, uint8_t* setup);

// screen_info as Linux's EFI stub fills it from GOP.
void fill_screen_info(const Framebuffer& fb, loader::boot_params& bp);

struct EfiInfoInput {
  uint64_t systab;
  uint64_t memmap;
  uint32_t memmap_size, desc_size, desc_version;
};
// efi_info with the "EL64" signature: the kernel then keeps EFI runtime
// services and reads the memory map it describes.
void fill_efi_info(const EfiInfoInput& in, loader::boot_params& bp);

const char* zero_page_status_message(ZeroPageStatus s);

}  // namespace charon::efi
