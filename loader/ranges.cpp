#include <charon/align.h>
#include <charon/loader/ranges.h>

#include <algorithm>

namespace charon::loader {

std::vector<Range> subtract_ranges(std::vector<Range> from, const std::vector<Range>& holes) {
  for (const Range& h : holes) {
    std::vector<Range> next;
    for (const Range& r : from) {
      if (h.end <= r.start || h.start >= r.end) {
        next.push_back(r);
        continue;
      }
      if (r.start < h.start) next.push_back({r.start, h.start});
      if (h.end < r.end) next.push_back({h.end, r.end});
    }
    from = std::move(next);
  }
  return from;
}

namespace {

std::vector<Range> from_1m(const std::vector<MemRange>& map, bool ram_only,
                           uint64_t floor = k1MiB) {
  std::vector<Range> out;
  for (const MemRange& m : map) {
    if (ram_only && m.type != E820Type::kRam) continue;
    const uint64_t s = align_up(std::max(m.start, floor), kPageSize);
    const uint64_t e = align_down(m.end, kPageSize);
    if (e > s) out.push_back({s, e});
  }
  return out;
}

}  // namespace

std::vector<Range> usable_ram(const std::vector<MemRange>& map) {
  return from_1m(map, true);
}

std::vector<Range> usable_ram_with_low(const std::vector<MemRange>& map) {
  return from_1m(map, true, 0);
}

std::vector<Range> usable_crash(const std::vector<MemRange>& crash) {
  return from_1m(crash, false);
}

}  // namespace charon::loader
