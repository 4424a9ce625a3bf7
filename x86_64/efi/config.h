// charon.efi's configuration file, \charon\charon.cfg on the ESP it was
// started from: one `key = value` per line, `#` starts a comment.
//
//   kernel   = \charon\vmlinuz     (required) bzImage, or the probe payload
//   initrd   = \charon\initrd.img  (optional)
//   cmdline  = console=ttyS0       (optional) the rest of the line, verbatim
//   protocol = 64 | 32             (default 64) boot.rst 64- or 32-bit entry
//   console  = serial | debugcon | both | none   (default serial) the
//              purgatory's console after ExitBootServices
//
// The test build (charon-test.efi, CHARON_EFI_TEST=1) also takes:
//   probe    = <case name>   the kernel file is the protocol probe
//              (boot-tests/probe): lay out the probe's fixed world
//   test-corrupt-kernel-after-plan = 1   flip one kernel byte after the
//              digests are computed, so the purgatory must refuse it
//   test-stale-map-key = 1   make the first ExitBootServices call with a
//              map key that an allocation has made stale
// The installed charon.efi refuses them as unknown keys.
//
// Pure code over a byte buffer, so the host tests parse every error.
#pragma once
#include <charon/kimage/status.h>
#include <stddef.h>
#include <stdint.h>

#ifndef CHARON_EFI_TEST
#define CHARON_EFI_TEST 0
#endif

namespace charon::efi {

inline constexpr size_t kPathMax = 256;
inline constexpr size_t kCmdlineMax = 4096;
inline constexpr size_t kCaseMax = 48;

enum class Protocol : uint8_t { k64, k32 };

struct Config {
  char kernel[kPathMax];
  char initrd[kPathMax];  // empty: no initrd
  char cmdline[kCmdlineMax];
  Protocol protocol;
  bool console_serial;
  bool console_debugcon;
#if CHARON_EFI_TEST
  char probe_case[kCaseMax];  // empty: a real kernel
  bool corrupt_kernel_after_plan;
  bool stale_map_key;
#endif
};

enum class ConfigStatus {
  kOk,
  kNoEquals,  // a line without '='
  kUnknownKey,
  kDuplicateKey,
  kEmptyValue,
  kValueTooLong,
  kBadProtocol,
  kBadConsole,
  kBadBool,
  kNulByte,
  kNoKernel,  // the file has no kernel line
};

struct ConfigResult {
  ConfigStatus status;
  uint32_t line;  // 1-based line of the error; 0 for kNoKernel and kOk
  char key[32];   // the key on that line (truncated), for the message
};

// Parses `text` (not NUL-terminated) into `out`. On error `out` is left
// zeroed, never half-filled.
ConfigResult parse_config(const char* text, size_t len, Config& out);

// One sentence per status, e.g. "protocol must be 64 or 32".
const char* config_status_message(ConfigStatus s);

// What to append to the core's message for a kernel that cannot take the
// 64-bit entry here (no XLF_KERNEL_64, or no XLF_5LEVEL under 5-level
// paging): the charon.cfg line that asks for the 32-bit one. "" otherwise.
const char* protocol_hint(kimage::Status s);

}  // namespace charon::efi
