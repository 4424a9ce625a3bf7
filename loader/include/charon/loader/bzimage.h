// The kernel header as charon-kexec reports it: the core's checks
// (common/kimage/bzimage.cpp, boot.rst's rules), with the values found
// added to the one sentence the CLI prints.
#pragma once
#include <charon/kimage/bzimage.h>
#include <charon/result.h>

#include <cstdint>
#include <span>

namespace charon::loader {

using EntryMode = kimage::Entry;
using kimage::BzImage;

// Checks the header of `file` (the whole bzImage) for `mode`. Every failure
// names the field and the value found.
Result<BzImage> parse_bzimage(std::span<const uint8_t> file, EntryMode mode);

}  // namespace charon::loader
