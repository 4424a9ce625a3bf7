// The bzImage header checks without the host library: no heap, no
// std::string, no libc, so charon.efi (freestanding, GNU-EFI) and the
// hosted loader can make the same checks. Each failure is a code with one
// static sentence; a hosted caller may add the values it found.
//
// boot.rst ("The real-mode kernel header", "Details of header fields") is
// the authority for every rule.
#pragma once
#include <charon/loader/boot_params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::loader {

enum class BzStatus : uint8_t {
  kOk,
  kTooShort,          // smaller than the setup header
  kNoHdrS,            // no "HdrS" at 0x202: not a bzImage
  kBadBootFlag,       // boot_flag at 0x1fe is not 0xaa55
  kProtocolTooOld,    // below 2.10 (no init_size, pref_address)
  kNotLoadedHigh,     // zImage
  kNotRelocatable,    // relocatable_kernel == 0
  kSetupPastEnd,      // setup_sects puts the payload past the end of the file
  kBadSyssize,        // syssize does not fit the file
  kBadAlignment,      // kernel_alignment not a power of two >= 4096
  kNoInitSize,        // init_size == 0
  kInitSizeTooSmall,  // init_size below the payload
  kNo64BitEntry,      // 64-bit entry asked for, protocol < 2.12 or no XLF_KERNEL_64
};

enum class BzEntry : uint8_t { k64, k32 };

struct BzHeaderInfo {
  size_t setup_size;      // (setup_sects + 1) * 512
  size_t payload_offset;  // == setup_size
  size_t payload_size;
  size_t header_end;  // 0x202 + the byte at 0x201, capped at 0x290: what to copy
  uint64_t init_size;
  uint64_t kernel_alignment;
  uint64_t pref_address;
  uint32_t cmdline_max;      // cmdline_size: longest command line without its NUL
  uint32_t initrd_addr_max;  // highest byte address of the initrd
  uint16_t version;
  uint16_t xloadflags;  // 0 below 2.12
};

// Checks `file` (the whole bzImage) for `entry`; fills `out` only on kOk.
BzStatus check_bzimage(const uint8_t* file, size_t size, BzEntry entry, BzHeaderInfo& out);

// One sentence, e.g. "not a bzImage: no \"HdrS\" magic at 0x202".
const char* bz_status_message(BzStatus s);

// What a loader tells the kernel in the setup header, beyond the image's own.
struct SetupFields {
  uint64_t cmdline_addr;
  uint64_t initrd_addr;  // 0 with initrd_size 0: no initrd
  uint64_t initrd_size;
  uint64_t acpi_rsdp;  // 0: the kernel finds it itself
};

// boot.rst ("64-bit boot protocol", "32-bit boot protocol"): copies the
// image's setup header, 0x1f1 up to `header_end` (BzHeaderInfo), into `bp`,
// which the caller has zeroed, and sets the fields a loader owns. Shared
// by charon-kexec and charon.efi.
void fill_setup_header(boot_params& bp, const uint8_t* kernel_file, size_t header_end,
                       const SetupFields& f);

}  // namespace charon::loader
