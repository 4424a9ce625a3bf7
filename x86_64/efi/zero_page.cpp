#include "zero_page.h"

#include "linux_efi.h"

namespace charon::efi {

using loader::boot_params;

namespace {

void copy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  for (size_t i = 0; i < n; ++i) d[i] = s[i];
}

void zero(void* dst, size_t n) {
  auto* d = static_cast<volatile uint8_t*>(dst);
  for (size_t i = 0; i < n; ++i) d[i] = 0;
}

// Position and width of a contiguous channel mask.
void mask_bits(uint32_t mask, uint8_t& pos, uint8_t& size) {
  pos = size = 0;
  if (!mask) return;
  while (!(mask & 1)) mask >>= 1, ++pos;
  while (mask & 1) mask >>= 1, ++size;
}

}  // namespace

ZeroPageStatus build_zero_page(const ZeroPageInput& in, uint8_t* setup) {
  // boot.rst, cmdline_size: "The maximum size of the command line without
  // the terminating zero."
  if (in.cmdline_len > in.hdr->cmdline_max) return ZeroPageStatus::kCmdlineTooLong;
  zero(setup, sizeof(boot_params));
  auto& bp = *reinterpret_cast<boot_params*>(setup);
  const uint64_t cmdline_addr = in.setup_addr + sizeof(boot_params);
  loader::fill_setup_header(
      bp, in.kernel_file, in.hdr->header_end,
      loader::SetupFields{cmdline_addr, in.initrd_addr, in.initrd_size, in.acpi_rsdp});
  if (in.fb) fill_screen_info(*in.fb, bp);
  copy(setup + sizeof(boot_params), in.cmdline, in.cmdline_len);
  setup[sizeof(boot_params) + in.cmdline_len] = 0;
  return ZeroPageStatus::kOk;
}

void fill_screen_info(const Framebuffer& fb, boot_params& bp) {
  screen_info si{};
  if (fb.format == PixelFormat::kBltOnly) return;  // no linear framebuffer to hand over
  si.orig_video_isVGA = VIDEO_TYPE_EFI;
  si.lfb_width = static_cast<uint16_t>(fb.width);
  si.lfb_height = static_cast<uint16_t>(fb.height);
  si.lfb_base = static_cast<uint32_t>(fb.base);
  si.ext_lfb_base = static_cast<uint32_t>(fb.base >> 32);
  si.capabilities =
      VIDEO_CAPABILITY_SKIP_QUIRKS | (si.ext_lfb_base ? VIDEO_CAPABILITY_64BIT_BASE : 0);
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
  copy(bp.screen_info, &si, sizeof si);
}

void fill_efi_info(const EfiInfoInput& in, boot_params& bp) {
  efi_info ei{};
  ei.efi_loader_signature = EFI64_LOADER_SIGNATURE;
  ei.efi_systab = static_cast<uint32_t>(in.systab);
  ei.efi_systab_hi = static_cast<uint32_t>(in.systab >> 32);
  ei.efi_memdesc_size = in.desc_size;
  ei.efi_memdesc_version = in.desc_version;
  ei.efi_memmap = static_cast<uint32_t>(in.memmap);
  ei.efi_memmap_hi = static_cast<uint32_t>(in.memmap >> 32);
  ei.efi_memmap_size = in.memmap_size;
  copy(bp.efi_info, &ei, sizeof ei);
}

const char* zero_page_status_message(ZeroPageStatus s) {
  switch (s) {
    case ZeroPageStatus::kOk:
      return "ok";
    case ZeroPageStatus::kCmdlineTooLong:
      return "the command line is longer than the kernel's cmdline_size";
  }
  return "?";
}

}  // namespace charon::efi
