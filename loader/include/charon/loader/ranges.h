// Range arithmetic for the hosted loader's inputs (memory maps, crash
// reservations, dump ranges). The range type is the core's own.
#pragma once
#include <charon/kimage/free_list.h>
#include <charon/loader/memmap.h>

#include <vector>

namespace charon::loader {

using kimage::Range;

// `from` without any byte of `holes`, in the order of `from`.
std::vector<Range> subtract_ranges(std::vector<Range> from, const std::vector<Range>& holes);

// The usable ranges: RAM at or above 1 MiB, page-rounded inward.
std::vector<Range> usable_ram(const std::vector<MemRange>& map);
// All of the map's RAM, whole pages, low memory included: for --real-mode,
// whose setup segment and purgatory the core places below 640 KiB.
std::vector<Range> usable_ram_with_low(const std::vector<MemRange>& map);
// The same, restricted to the crash kernel reservation.
std::vector<Range> usable_crash(const std::vector<MemRange>& crash);

}  // namespace charon::loader
