// The memory the purgatory's identity map covers: one rule for every
// loader, from the machine's memory map in e820 terms.
#include <charon/kimage/image.h>

namespace charon::kimage {

namespace {

// DRAM the firmware or the kernel uses as memory, write-back: RAM, and the
// ACPI data and NVS areas (Linux's own kexec maps those too, commit
// 6bbeb276b71f). Reserved, unusable, persistent and soft-reserved ranges
// and everything absent from the map (MMIO) are not memory here.
bool is_memory(boot::E820Type t) {
  return t == boot::E820Type::kRam || t == boot::E820Type::kAcpi || t == boot::E820Type::kNvs;
}

// Inserts [s, e) into the sorted, disjoint, non-touching out[0..n),
// merging it with whatever it touches or overlaps; n may grow by one.
void insert(charon_region* out, size_t& n, uint64_t s, uint64_t e) {
  size_t i = 0;
  while (i < n && out[i].start + out[i].len < s) ++i;  // ends before s, not touching
  size_t j = i;
  while (j < n && out[j].start <= e) {  // touches or overlaps [s, e)
    if (out[j].start < s) s = out[j].start;
    if (out[j].start + out[j].len > e) e = out[j].start + out[j].len;
    ++j;
  }
  // out[i..j) become one entry
  if (j == i) {
    for (size_t k = n; k > i; --k) out[k] = out[k - 1];
    ++n;
  } else {
    for (size_t k = j; k < n; ++k) out[i + 1 + k - j] = out[k];
    n -= j - i - 1;
  }
  out[i] = {s, e - s};
}

}  // namespace

size_t memory_ranges(const MemRange* map, size_t n, charon_region (&out)[CHARON_MAX_MEMORY_RANGES],
                     size_t& count) {
  constexpr size_t kCap = CHARON_MAX_MEMORY_RANGES;
  charon_region r[kCap + 1] = {};
  size_t nr = 0, closed = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!is_memory(map[i].type) || map[i].end <= map[i].start) continue;
    insert(r, nr, map[i].start, map[i].end);
    if (nr <= kCap) continue;
    // One too many: close the smallest gap. Mapping a small hole is the
    // least harm; dropping memory would break the contract.
    size_t best = 0;
    for (size_t k = 1; k + 1 < nr; ++k)
      if (r[k + 1].start - (r[k].start + r[k].len) <
          r[best + 1].start - (r[best].start + r[best].len))
        best = k;
    insert(r, nr, r[best].start, r[best + 1].start + r[best + 1].len);
    ++closed;
  }
  for (size_t i = 0; i < kCap; ++i) out[i] = i < nr ? r[i] : charon_region{0, 0};
  count = nr;
  return closed;
}

}  // namespace charon::kimage
