// The bzImage setup-header checks, once for every loader. boot.rst ("The
// real-mode kernel header", "Details of header fields") is the authority
// for every rule; kexec-tools' kexec-bzImage64.c and Linux's EFI stub make
// the same checks.
#pragma once
#include <charon/boot/boot_params.h>
#include <charon/kimage/status.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::kimage {

// The protocol versions the loaders rely on:
//   2.10 adds init_size and pref_address, without which a loader cannot
//        know how much memory the kernel needs where it runs;
//        relocatable_kernel (2.05) and cmdline_size (2.06) come with it.
//   2.12 adds xloadflags, the only way a kernel says it has the 64-bit
//        entry point at load address + 0x200 (XLF_KERNEL_64).
inline constexpr uint16_t kMinProtocol = 0x020a;
inline constexpr uint16_t kMin64BitProtocol = 0x020c;

// boot.rst's two entry points: 64-bit at load + 0x200, 32-bit at load.
enum class Entry : uint8_t { k64, k32 };

struct BzImage {
  size_t setup_size;      // (setup_sects + 1) * 512: the real-mode part
  size_t payload_offset;  // == setup_size: the protected-mode kernel in the file
  size_t payload_size;    // bytes of the protected-mode kernel
  size_t header_end;      // 0x202 + the byte at 0x201, capped at 0x290: what to copy
  uint64_t init_size;     // bytes the kernel needs from its load address
  uint64_t kernel_alignment;
  uint64_t pref_address;
  uint32_t cmdline_max;      // cmdline_size: longest command line without its NUL
  uint32_t initrd_addr_max;  // highest byte address of a 32-bit initrd
  uint16_t version;
  uint16_t xloadflags;  // 0 below 2.12

  bool can_64() const { return xloadflags & boot::XLF_KERNEL_64; }
  bool above_4g() const { return xloadflags & boot::XLF_CAN_BE_LOADED_ABOVE_4G; }
  bool la57() const { return xloadflags & boot::XLF_5LEVEL; }
  // What the kernel occupies from its load address (boot.rst, init_size).
  uint64_t footprint() const { return init_size > payload_size ? init_size : payload_size; }
};

// Checks `file` (the whole bzImage) for `entry`; fills `out` only on kOk.
Status parse_bzimage(const uint8_t* file, size_t size, Entry entry, BzImage& out);

// The setup header as found in the file (0x1f1 on), for a caller that
// names values in its messages; `file` must hold at least the header.
boot::setup_header read_setup_header(const uint8_t* file);

// boot.rst, cmdline_size: "The maximum size of the command line without
// the terminating zero." A NUL inside would cut it short.
Status check_cmdline(const BzImage& k, const char* cmdline, size_t len);

}  // namespace charon::kimage
