// Entries through the relocation trampoline (entry=reloc64, entry=reloc32):
// the harness plays a firmware that has the purgatory, the probe and the
// zero page scattered over shuffled source pages and calls the trampoline
// to put them in place.
#pragma once
#include <charon/params.h>

#include "world.h"

namespace harness {

// Before the digest is taken: adds the regions that prove the trampoline's
// work (a page it copied from its own original location, pages it zeroed).
void reloc_add_regions(charon_params* p);

// After: scatters the pages, builds and validates the indirection list and
// the identity tables, and fills entry_plan to call the trampoline. Returns
// null, or what went wrong with the value in *value.
const char* reloc_plan_entry(const World& w, uint64_t* value);

}  // namespace harness
