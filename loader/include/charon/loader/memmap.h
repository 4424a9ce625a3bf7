// The running system's physical memory map, read the way kexec-tools
// reads it: /sys/firmware/memmap (the firmware's own e820 table, untouched
// by the kernel's command line) first, /proc/iomem's top level otherwise.
// The parsers take text and directory roots so that tests and fuzzers can
// feed them anything.
#pragma once
#include <charon/boot/boot_params.h>
#include <charon/kimage/image.h>
#include <charon/result.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace charon::loader {

using boot::E820Type;
// [start, end) with its e820 type: the core's own type, so that the map
// reaches boot_params without a conversion.
using kimage::MemRange;

struct MemoryMap {
  std::vector<MemRange> ranges;        // sorted, non-overlapping, merged
  std::vector<MemRange> crash_kernel;  // "Crash kernel" reservations (type kRam)
  // "System RAM" nested under a top-level resource of another name
  // (virtio-mem, dax kmem): not in the e820 the next kernel gets, but in a
  // crash dump (kexec-tools 7175859).
  std::vector<MemRange> nested_ram;
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

}  // namespace charon::loader
