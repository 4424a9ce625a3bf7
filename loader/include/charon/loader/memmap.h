// The running system's physical memory map, read the way kexec-tools
// reads it: /sys/firmware/memmap (the firmware's own e820 table, untouched
// by the kernel's command line) first, /proc/iomem's top level otherwise.
// The parsers take text and directory roots so that tests and fuzzers can
// feed them anything.
#pragma once
#include <charon/loader/boot_params.h>
#include <charon/loader/result.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace charon::loader {

struct MemRange {
  uint64_t start;  // first byte
  uint64_t end;    // one past the last byte
  E820Type type;
  friend bool operator==(const MemRange&, const MemRange&) = default;
};

struct MemoryMap {
  std::vector<MemRange> ranges;        // sorted, non-overlapping, merged
  std::vector<MemRange> crash_kernel;  // "Crash kernel" reservations (type kRam)
};

// The e820 type a memmap or iomem name stands for; nullopt for names that
// are not memory (PCI windows, ROMs, ...).
std::optional<E820Type> e820_type_from_name(std::string_view name);

// /proc/iomem text. Top-level lines give the memory map; "Crash kernel"
// lines at any depth give the crash reservation.
Result<MemoryMap> parse_iomem(std::string_view text);

// One /sys/firmware/memmap/N entry: the text of its start, end (inclusive)
// and type files. `where` names the entry in error messages.
Result<MemRange> parse_memmap_entry(std::string_view start, std::string_view end,
                                    std::string_view type, const std::string& where);

// Reads DIR/N/{start,end,type} for every N. An empty or missing DIR is an
// error: the caller then falls back to /proc/iomem.
Result<MemoryMap> read_firmware_memmap(const std::string& dir);

// Sorts, checks for overlaps, and merges touching ranges of one type.
Result<std::vector<MemRange>> normalize_ranges(std::vector<MemRange> ranges);

// The whole lookup: memmap under `root`/sys/firmware/memmap, falling back to
// `root`/proc/iomem. The crash reservation always comes from iomem.
Result<MemoryMap> read_system_memory_map(const std::string& root);

// boot_params' e820 table from a map: at most 128 entries (Linux's
// E820_MAX_ENTRIES_ZEROPAGE), else an error.
Status fill_e820(const std::vector<MemRange>& ranges, boot_params& bp);

}  // namespace charon::loader
