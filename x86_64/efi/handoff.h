// The last steps of charon.efi: the relocation trampoline's list and
// tables, ExitBootServices with its retry, and what only the final memory
// map can give (e820, efi_info, the digests) before the jump.
#pragma once
#include <charon/params.h>

#include "efi_glue.h"
#include "layout.h"
#include "segments.h"
#include "zero_page.h"

namespace charon::efi {

struct HandoffPlan {
  // firmware facts
  bool la57, gbpages;
  uint64_t rsdp, systab, idmap_limit;
  // the Linux handoff (unused in probe mode, where the probe world fills
  // the parameter block itself before we leave)
  uint32_t handoff;
  uint8_t* boot_params;  // our buffer; the e820 and efi_info go here last
  uint64_t boot_params_dest;
  uint64_t kernel_entry;
  charon_region kernel_range;  // [load, load + init_size): mapped by the purgatory
  Range scratch;
  bool params_ready;
  // the purgatory
  uint64_t purgatory, purg_entry64, purg_mem;
  charon_params* purg_params;  // inside our copy of purgatory.bin
  // the trampoline
  uint64_t head, control_page, cr3;
  uint64_t tables_start, tables_len;
  // console and tests
  bool console_serial, console_debugcon, corrupt_kernel, stale_map_key;
};

// GOP's current mode; false when there is no GOP.
bool find_framebuffer(Framebuffer& fb);

// A buffer for GetMemoryMap with room for the map to grow (allocations
// after this one, and the firmware's own before ExitBootServices).
EFI_STATUS alloc_map_buffer(MapBuffer& mb);

// Builds the indirection list that copies every segment to its
// destination, allocates the control page and the identity tables the
// trampoline runs on, and validates the list against them.
EFI_STATUS prepare_relocation(const SegmentSet& segs, HandoffPlan& plan, const MapBuffer& mb);

// ExitBootServices, retried with a fresh map and key on
// EFI_INVALID_PARAMETER; then the e820 table and efi_info from that final
// map, the digests, the parameter block, and the trampoline. Returns only
// if boot services could not be left.
EFI_STATUS exit_and_hand_off(EFI_HANDLE image, SegmentSet& segs, HandoffPlan& plan, MapBuffer& mb);

}  // namespace charon::efi
