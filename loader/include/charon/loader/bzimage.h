// bzImage parsing: the checks a loader makes on a kernel before it trusts
// a single field of it (boot.rst, "The real-mode kernel header").
#pragma once
#include <charon/loader/boot_params.h>
#include <charon/loader/result.h>

#include <cstdint>
#include <span>

namespace charon::loader {

// The protocol versions the loader relies on (boot.rst, "Details of
// header fields"):
//   2.10 adds init_size and pref_address, without which the loader cannot
//        know how much memory the kernel needs where it runs;
//        relocatable_kernel (2.05) and cmdline_size (2.06) come with it.
//   2.12 adds xloadflags, the only way a kernel says it has the 64-bit
//        entry point at load address + 0x200 (XLF_KERNEL_64).
inline constexpr uint16_t kMinProtocol = 0x020a;
inline constexpr uint16_t kMin64BitProtocol = 0x020c;

enum class EntryMode { k64, k32 };

struct BzImage {
  setup_header hdr;       // as found in the file
  uint8_t hdr_end_byte;   // the byte at 0x201: the header ends at 0x202 + this
  size_t setup_size;      // (setup_sects + 1) * 512: the real-mode part
  size_t payload_offset;  // == setup_size: the protected-mode kernel in the file
  size_t payload_size;    // bytes of the protected-mode kernel
  uint64_t init_size;     // bytes the kernel needs from its load address
  uint64_t kernel_alignment;
  uint64_t pref_address;
  uint32_t cmdline_max;      // longest command line, without its NUL
  uint32_t initrd_addr_max;  // highest byte address of a 32-bit initrd
  bool can_64;               // XLF_KERNEL_64
  bool above_4g;             // XLF_CAN_BE_LOADED_ABOVE_4G
  bool la57;                 // XLF_5LEVEL
};

// Checks the header of `file` (the whole bzImage) for `mode`. Every failure
// names the field and the value found.
Result<BzImage> parse_bzimage(std::span<const uint8_t> file, EntryMode mode);

}  // namespace charon::loader
