// Where charon.efi puts each segment: a first-fit planner over the free
// (conventional) ranges of the UEFI memory map. Pure code: the host tests
// drive it with any map; efi_main then reserves each range it chose with
// AllocatePages(AllocateAddress), so the firmware hands none of it out
// while the app still runs, and the kernel finds its image, initrd and
// boot_params in EfiLoaderData, as Linux's own EFI stub leaves them.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "efi_memmap.h"

namespace charon::efi {

inline constexpr uint64_t k2G = 1ull << 31;
inline constexpr uint64_t k4G = 1ull << 32;

struct Range {
  uint64_t start, end;  // [start, end), page-aligned
  uint64_t size() const { return end - start; }
};

struct LayoutInput {
  bool entry32;              // everything below 4 GiB (boot.rst, 32-bit protocol)
  uint64_t kernel_size;      // max(init_size, payload): the kernel runs in all of it
  uint64_t kernel_align;     // kernel_alignment
  uint64_t kernel_pref;      // pref_address: the lowest address tried
  bool kernel_above_4g;      // XLF_CAN_BE_LOADED_ABOVE_4G
  uint64_t initrd_size;      // 0: none
  uint64_t initrd_max;       // initrd_addr_max: highest byte address
  uint64_t setup_size;       // boot_params + cmdline + NUL
  uint64_t cmdline_map;      // bytes the purgatory maps from the cmdline (cmdline_size + 1)
  uint64_t purgatory_size;   // mem_size of purgatory.bin
  uint64_t idmap_limit;      // the purgatory maps [0, idmap_limit) too
  uint64_t extra_map_start;  // one more range the purgatory maps (the EFI
  uint64_t extra_map_len;    // memory map buffer); 0 if none
};

struct Layout {
  Range kernel, initrd, setup, purgatory, scratch;
};

enum class LayoutStatus { kOk, kNoKernel, kNoInitrd, kNoSetup, kNoPurgatory, kNoScratch };

// Carves every segment out of `free` (sorted, disjoint; modified; it must
// have room for nfree + 8 entries, since a carve may split a range). The
// kernel goes at the lowest kernel_align-aligned address at or above
// kernel_pref (boot.rst: a relocatable kernel below its pref_address, the
// kernel's LOAD_PHYSICAL_ADDR, moves itself there); the rest go as high
// as their limits allow, keeping low memory free: the initrd below
// initrd_max, boot_params with the command line below 4 GiB (cmd_line_ptr
// is 32 bits), the purgatory below 2 GiB (its contract), its page-table
// scratch below 4 GiB.
LayoutStatus plan_layout(const LayoutInput& in, FreeRange* free, size_t& nfree, Layout& out);

// One `align`-aligned block of `size` bytes inside [min, max_end), the
// lowest or the highest that fits, carved out of `free`; 0 if none.
uint64_t place(FreeRange* free, size_t& nfree, uint64_t size, uint64_t align, uint64_t min,
               uint64_t max_end, bool high);

// Page-table scratch for everything the purgatory maps in `l` (see
// README, "Handoff contract"), sized for the worst policy (no 1 GiB
// pages, five levels), plus the purgatory's own slack.
uint64_t scratch_bytes(const LayoutInput& in, const Layout& l);

const char* layout_status_message(LayoutStatus s);

}  // namespace charon::efi
