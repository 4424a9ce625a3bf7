// charon's purgatory as the loader sees it: a RelocatableElf that exports
// `charon_params` (common/include/charon/params.h) and `purgatory_start`.
#pragma once
#include <charon/loader/elf_reloc.h>
#include <charon/loader/result.h>
#include <charon/params.h>

#include <array>
#include <cstdint>
#include <span>

namespace charon::loader {

inline constexpr const char* kParamsSymbol = "charon_params";
inline constexpr const char* kEntrySymbol = "purgatory_start";

// The block's identity: magic, version and size must be this loader's, or
// the loader would write fields the purgatory reads as something else.
Status check_params_identity(const charon_params& p);

// Reads the block out of the (relocated) image and checks its identity.
Result<charon_params> read_params(const RelocatableElf& elf);
Status write_params(RelocatableElf& elf, const charon_params& p);

// One piece of memory that the purgatory verifies: `bytes` will be at
// physical address `mem`.
struct DigestInput {
  uint64_t mem;
  std::span<const uint8_t> bytes;
};

// Fills p.regions in order and p.digest with SHA-256 over their bytes, as
// the purgatory will recompute it (kexec-tools' rule: regions in order,
// zero-length ones contribute nothing).
Status fill_digest(std::span<const DigestInput> inputs, charon_params& p);

}  // namespace charon::loader
