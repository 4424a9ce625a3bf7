// What charon.efi hands to the relocation trampoline: segments (a source
// buffer now, a destination after ExitBootServices), the pages that must
// survive the copies, and the allocations to give back on an error.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::efi {

struct Segment {
  const char* what;
  uint8_t* src;      // page-aligned, page-rounded buffer of ours
  uint64_t len;      // bytes of data (the digest covers exactly these)
  uint64_t dest;     // page-aligned
  uint64_t reserve;  // bytes reserved at dest (>= len)
  bool digest;       // a region of the purgatory's digest
};

inline constexpr size_t kMaxSegments = 8;

struct SegmentSet {
  Segment seg[kMaxSegments];
  size_t n;
  Segment* add(const Segment& s) { return n < kMaxSegments ? &(seg[n++] = s) : nullptr; }
};

}  // namespace charon::efi
