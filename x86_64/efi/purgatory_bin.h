// purgatory.bin as charon.efi carries it: the header checked before a
// single field of it is trusted. Pure code, tested on the host against
// the real purgatory.bin; the parameter block itself is the core's to fill.
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
};

// Checks `bin` (the whole file) and returns its header and a pointer to
// the parameter block inside `bin`.
PurgStatus check_purgatory_bin(uint8_t* bin, size_t size, const charon_bin_header*& hdr,
                               charon_params*& params);

const char* purg_status_message(PurgStatus s);

}  // namespace charon::efi
