// The setup segment: struct boot_params (the zero page) followed by the
// kernel command line, built as boot.rst's "32-bit/64-bit boot protocol"
// sections ask a boot loader to.
#pragma once
#include <charon/loader/boot_params.h>
#include <charon/loader/bzimage.h>
#include <charon/loader/memmap.h>
#include <charon/loader/result.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace charon::loader {

struct SetupInput {
  uint64_t setup_addr = 0;  // physical address of boot_params; the cmdline follows it
  uint64_t initrd_addr = 0;
  uint64_t initrd_size = 0;
  std::string cmdline;
  std::vector<MemRange> e820;
  uint64_t acpi_rsdp = 0;
  std::optional<std::array<uint8_t, 0x40>> screen_info;
};

// Bytes the setup segment needs for `cmdline_len` characters (plus NUL).
inline uint64_t setup_segment_size(size_t cmdline_len) {
  return sizeof(boot_params) + cmdline_len + 1;
}

// Checks the command line against the kernel's cmdline_size.
Status check_cmdline(const BzImage& k, const std::string& cmdline);

// boot_params followed by the command line and its NUL.
Result<std::vector<uint8_t>> build_setup_segment(const BzImage& k,
                                                 std::span<const uint8_t> kernel_file,
                                                 const SetupInput& in);

}  // namespace charon::loader
