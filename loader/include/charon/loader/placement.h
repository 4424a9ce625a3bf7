// Segment placement: a first-fit allocator over the usable RAM of a memory
// map, and the planner that decides where the kernel, initrd, boot_params,
// purgatory and page-table scratch go (boot.rst, "Loading the rest of the
// kernel" and "64-bit boot protocol"). Pure computation, so the fuzzer and
// the unit tests drive it with any map.
#pragma once
#include <charon/loader/bzimage.h>
#include <charon/loader/memmap.h>
#include <charon/loader/result.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace charon::loader {

inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t k1M = 1ull << 20;
inline constexpr uint64_t k2G = 1ull << 31;
inline constexpr uint64_t k4G = 1ull << 32;

struct Range {
  uint64_t start, end;  // [start, end)
};

enum class Prefer { kLow, kHigh };

// Free physical memory, carved as blocks are taken.
class RangeAllocator {
 public:
  explicit RangeAllocator(std::vector<Range> free);
  // An `align`-aligned block of `size` bytes inside [min, max_end).
  std::optional<uint64_t> take(uint64_t size, uint64_t align, uint64_t min, uint64_t max_end,
                               Prefer prefer);
  // Exactly [addr, addr + size) if it is free.
  bool take_at(uint64_t addr, uint64_t size);
  bool has_free_above(uint64_t addr, uint64_t size) const;
  const std::vector<Range>& free() const { return free_; }

 private:
  void carve(uint64_t addr, uint64_t size);
  std::vector<Range> free_;
};

struct PlanInput {
  BzImage kernel;
  EntryMode mode = EntryMode::k64;
  uint64_t initrd_size = 0;     // 0: no initrd
  uint64_t setup_size = 0;      // boot_params + cmdline bytes
  uint64_t purgatory_size = 0;  // the relocatable image with its bss
  uint64_t purgatory_align = kPage;
  // Where the purgatory may end: 2 GiB (what its entry contract promises,
  // and all that R_X86_64_32S relocations reach), or 4 GiB for an image
  // with PC-relative relocations only. Below 2 GiB is still tried first;
  // the crash reservation on a machine with more than ~3 GiB lies above it.
  uint64_t purgatory_max_end = k2G;
  // Where segments may go: RAM of the memory map, or the crash reservation.
  std::vector<Range> usable;
  // Bytes of page-table scratch needed for a given set of mapped ranges.
  std::function<uint64_t(const std::vector<Range>&)> scratch_bytes;
  uint64_t idmap_limit = 0;  // mapped in full by the purgatory, counted for scratch
  // A crash load's extras, 0 otherwise: the zero-filled area the purgatory
  // copies [backup_src, backup_src + backup_size) to, and the elfcorehdr.
  uint64_t backup_src = 0;
  uint64_t backup_size = 0;
  uint64_t elfcorehdr_size = 0;
};

struct Plan {
  Range kernel;  // [load, load + max(init_size, payload)), page-rounded
  Range initrd;  // empty when there is none
  Range setup;   // boot_params page(s) followed by the command line
  Range purgatory;
  Range scratch;
  Range backup;      // empty unless asked for
  Range elfcorehdr;  // empty unless asked for
};

// Every segment page-aligned and page-sized, inside `usable`, and apart
// from each other. 32-bit mode keeps everything below 4 GiB (boot.rst:
// "the 32-bit boot protocol"); the purgatory stays below 2 GiB (its code
// uses 32-bit sign-extended addresses); the scratch stays below 4 GiB.
// The backup area and the elfcorehdr go as high as they can (below 4 GiB
// for the 32-bit protocol, which must not see anything above it).
Result<Plan> plan_layout(const PlanInput& in);

// `from` without any byte of `holes`, in the order of `from`.
std::vector<Range> subtract_ranges(std::vector<Range> from, const std::vector<Range>& holes);

// The usable ranges: RAM at or above 1 MiB, page-rounded inward.
std::vector<Range> usable_ram(const std::vector<MemRange>& map);
// The same, restricted to the crash kernel reservation.
std::vector<Range> usable_crash(const std::vector<MemRange>& crash);

inline uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}
inline uint64_t align_down(uint64_t v, uint64_t a) {
  return v & ~(a - 1);
}

}  // namespace charon::loader
