// Test mode (config `probe = CASE`): instead of a bzImage, charon.efi
// boots the protocol probe (boot-tests/probe) and lays out the world the
// probe expects at its fixed addresses (boot-tests/probe/descriptor.h):
// the descriptor, the boot_params page and cmdline, the low-memory pattern
// the purgatory must back up, the backup and scratch areas. The descriptor
// is written by the QEMU harness's own code (boot-tests/harness/world.cpp),
// so the probe judges the EFI path by exactly the rules of the harness.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

#include "segments.h"

namespace charon::efi {

struct ProbeWorldInput {
  const char* case_name;
  uint32_t handoff;      // CHARON_HANDOFF_LINUX64 or _LINUX32
  const uint8_t* probe;  // the probe file
  uint64_t probe_size;
  uint64_t purgatory;             // planned address of purgatory.bin
  const charon_bin_header* purg;  // its header
  bool la57, gbpages;             // what the purgatory will find
  // Buffers from the caller: page-aligned, at least these many bytes.
  uint8_t* setup_buf;       // kSetupBytes
  uint8_t* descriptor_buf;  // kDescriptorBytes
  uint8_t* lowmem_buf;      // kLowMemBytes
};

inline constexpr uint64_t kSetupBytes = 0x2000;
inline constexpr uint64_t kDescriptorBytes = 0x2000;
inline constexpr uint64_t kLowMemBytes = 640 * 1024;

enum class ProbeStatus { kOk, kBadProbe };

// Fills the buffers, adds the segments (probe, boot_params + cmdline,
// descriptor, low memory) to `set`, and fills the parts of `p` the harness
// would (regions and digests, backup, registers, console, scratch, map
// ranges).
ProbeStatus build_probe_world(const ProbeWorldInput& in, SegmentSet& set, charon_params& p);

// Fixed ranges the probe world needs free besides the segments: the
// backup destination and the page-table scratch.
struct FixedRange {
  uint64_t start, len;
};
size_t probe_fixed_ranges(FixedRange* out, size_t cap);

}  // namespace charon::efi
