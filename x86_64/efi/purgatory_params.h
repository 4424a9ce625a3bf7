// purgatory.bin as charon.efi uses it: the header checked, the parameter
// block filled for a Linux handoff, and the digests computed from the
// segments' source buffers over their destination addresses. Pure code
// (plus SHA-256), tested on the host against a real purgatory.bin.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::efi {

enum class PurgStatus {
  kOk,
  kTooShort,
  kBadMagic,
  kBadVersion,
  kBadOffsets,
  kBadParams,
  kTooManyRegions,
};

// Checks `bin` (the whole file) and returns its header and a pointer to
// the parameter block inside `bin`.
PurgStatus check_purgatory_bin(uint8_t* bin, size_t size, const charon_bin_header*& hdr,
                               charon_params*& params);

// One digested segment: `len` bytes at `src` now, at `dest` when the
// purgatory runs.
struct DigestRegion {
  const uint8_t* src;
  uint64_t dest;
  uint64_t len;
};

struct HandoffInput {
  uint32_t handoff;       // CHARON_HANDOFF_LINUX64 or _LINUX32
  uint64_t kernel_entry;  // load address (+ 0x200 for linux64)
  uint64_t boot_params;
  uint64_t idmap_limit;
  uint64_t scratch_base, scratch_size;
  const charon_region* map_ranges;
  size_t nmap_ranges;
  bool console_serial, console_debugcon;
  uint32_t extra_flags;  // CHARON_F_*
};

// Fills `p` for the handoff (every field a Linux handoff reads, the rest
// cleared to their defaults) and the digests: the combined one over
// `regions` in order, and one per region so that a mismatch names the
// region. Hashes in one pass.
PurgStatus fill_params(const HandoffInput& in, const DigestRegion* regions, size_t nregions,
                       charon_params& p);

const char* purg_status_message(PurgStatus s);

}  // namespace charon::efi
