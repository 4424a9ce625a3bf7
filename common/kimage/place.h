// Placement steps shared by plan_image() (bzImages) and plan_payload()
// (ELF and multiboot kernels): one rule each for the purgatory and its
// page tables, whatever kernel they carry. Internal to common/kimage.
#pragma once
#include <charon/handoff.h>
#include <charon/kimage/free_list.h>
#include <charon/kimage/image.h>
#include <charon/kimage/status.h>
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::kimage {

// The lowest (or highest) `align`-aligned `size` bytes in [min, max_end).
bool place(FreeList& f, uint64_t size, uint64_t align, uint64_t min, uint64_t max_end, bool high,
           Range& out);

// The purgatory: below 2 GiB, high, if it can be; a position-independent
// one (max_end above 2 GiB) may go to [2 GiB, min(max_end, 4 GiB)) when
// the memory lies there (a crash reservation).
Status place_purgatory(FreeList& f, uint64_t size, uint64_t max_end, Range& out);

// The purgatory's page tables, below 4 GiB, sized for the typed map over
// the `nmemory` ranges of `memory` with the `n` required ranges in `r`
// plus their own range. `r` must have room for n + 1 entries. The size
// only grows by what the scratch's own range adds, so a few rounds settle.
Status place_scratch(FreeList& f, const charon_region* memory, size_t nmemory, charon_region* r,
                     size_t n, Range& out);

// The parameter block's fields every handoff fills alike: every field
// back to its default (reset_params), then the flags, the handoff kind,
// the typed identity map (`memory`, params.memory; idmap_limit 0), the
// page-table scratch and the console. The caller adds the registers.
Status fill_common_params(uint32_t flags, HandoffKind handoff,
                          const charon_region (&memory)[CHARON_MAX_MEMORY_RANGES],
                          const Range& scratch, const ConsoleSpec& console, charon_params& p);

}  // namespace charon::kimage
