// charon's purgatory as the loader sees it: a RelocatableElf that exports
// `charon_params` (common/include/charon/params.h) and `purgatory_start`.
#pragma once
#include <charon/loader/elf_reloc.h>
#include <charon/params.h>
#include <charon/result.h>

#include <cstdint>

namespace charon::loader {

inline constexpr const char* kParamsSymbol = "charon_params";
inline constexpr const char* kEntrySymbol = "purgatory_start";

// The block's identity: magic, version and size must be this loader's, or
// the loader would write fields the purgatory reads as something else.
Status check_params_identity(const charon_params& p);

// Reads the block out of the (relocated) image and checks its identity.
Result<charon_params> read_params(const RelocatableElf& elf);
Status write_params(RelocatableElf& elf, const charon_params& p);

}  // namespace charon::loader
