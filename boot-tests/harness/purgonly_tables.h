// Page tables for the lm64-purgonly entry: 4-level, 4 KiB pages, mapping
// only [base, base + size) and the one page that holds the CR3 switch stub.
// No stack, no harness data, no regions: the purgatory may rely on nothing
// but its own image (DESIGN.md, "Entry contract").
#pragma once
#include <stdint.h>

namespace harness {

// Returns the PML4's physical address, or 0 if the table pool ran out.
uint64_t build_purgonly_tables(uint64_t base, uint64_t size, uint64_t stub_page);

}  // namespace harness
