// The last steps of charon.efi: the relocation trampoline's list and
// tables, ExitBootServices with its retry, and what only the final memory
// map can give (e820, efi_info, the digests) before the jump.
#pragma once
#include <charon/kimage/image.h>
#include <charon/params.h>

#include "efi_glue.h"
#include "gop.h"
#include "segments.h"

namespace charon::efi {

struct HandoffPlan {
  // firmware facts
  bool la57, gbpages;
  uint64_t systab;
  // The Linux handoff: the core filled the parameter block before we
  // leave; the e820 table, efi_info and the digests come last. (The test
  // build's probe world fills everything itself: params_ready.)
  uint8_t* boot_params;  // our buffer: the setup segment
  uint64_t setup_size;
  const kimage::ImagePlan* image;
  bool params_ready;
  // the purgatory
  uint64_t purgatory, purg_entry64, purg_mem;
  charon_params* purg_params;  // inside our copy of purgatory.bin
  // the trampoline
  uint64_t head, control_page, cr3;
  uint64_t tables_start, tables_len;
  // our own console after ExitBootServices
  bool console_serial, console_debugcon;
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
