#include "efi_memmap.h"

namespace charon::efi {

using loader::E820Type;

E820Type e820_type_of(const EfiMemDesc& d) {
  switch (static_cast<EfiMemType>(d.type)) {
    case EfiMemType::kLoaderCode:
    case EfiMemType::kLoaderData:
    case EfiMemType::kBootServicesCode:
    case EfiMemType::kBootServicesData:
    case EfiMemType::kConventional:
      return (d.attribute & kEfiMemorySp) ? E820Type::kSoftReserved : E820Type::kRam;
    case EfiMemType::kAcpiReclaim:
      return E820Type::kAcpi;
    case EfiMemType::kAcpiNvs:
      return E820Type::kNvs;
    case EfiMemType::kUnusable:
      return E820Type::kUnusable;
    case EfiMemType::kPersistent:
      return E820Type::kPmem;
    // Runtime services code and data, MMIO, PAL code, reserved memory and
    // anything newer (unaccepted memory needs the kernel's own support,
    // which a zero page cannot announce) stay out of the kernel's hands.
    default:
      return E820Type::kReserved;
  }
}

namespace {

// Insertion sort by address over the zero page's table: at most 128
// entries, and the firmware's map is nearly sorted already.
void sort_e820(loader::boot_e820_entry* t, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    const loader::boot_e820_entry e = t[i];
    size_t j = i;
    for (; j > 0 && t[j - 1].addr > e.addr; --j) t[j] = t[j - 1];
    t[j] = e;
  }
}

}  // namespace

E820Status fill_e820(const EfiMemMap& map, loader::boot_params& bp) {
  if (map.desc_size < sizeof(EfiMemDesc)) return E820Status::kBadDescSize;
  // Merge runs that are already in order while reading (the firmware's map
  // usually is), then sort and merge once more: a map may list entries out
  // of order, and reading alone would miss those neighbours.
  loader::boot_e820_entry* t = bp.e820_table;
  size_t n = 0;
  loader::boot_e820_entry pending{};
  bool have = false;
  for (size_t i = 0; i < map.count(); ++i) {
    const EfiMemDesc& d = map.at(i);
    if (d.pages == 0) continue;
    const loader::boot_e820_entry e{d.phys_start, d.pages * kEfiPage,
                                    static_cast<uint32_t>(e820_type_of(d))};
    if (have && pending.type == e.type && pending.addr + pending.size == e.addr) {
      pending.size += e.size;
      continue;
    }
    if (have) {
      if (n == loader::E820_MAX_ENTRIES_ZEROPAGE) return E820Status::kTooMany;
      t[n++] = pending;
    }
    pending = e;
    have = true;
  }
  if (have) {
    if (n == loader::E820_MAX_ENTRIES_ZEROPAGE) return E820Status::kTooMany;
    t[n++] = pending;
  }
  sort_e820(t, n);
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (m && t[m - 1].type == t[i].type && t[m - 1].addr + t[m - 1].size == t[i].addr) {
      t[m - 1].size += t[i].size;
    } else {
      t[m++] = t[i];
    }
  }
  for (size_t i = m; i < n; ++i) t[i] = {};
  bp.e820_entries = static_cast<uint8_t>(m);
  return E820Status::kOk;
}

size_t free_ranges(const EfiMemMap& map, uint64_t min, FreeRange* out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < map.count(); ++i) {
    const EfiMemDesc& d = map.at(i);
    if (d.type != static_cast<uint32_t>(EfiMemType::kConventional) || (d.attribute & kEfiMemorySp))
      continue;
    uint64_t s = d.phys_start, e = d.phys_start + d.pages * kEfiPage;
    if (e <= min) continue;
    if (s < min) s = min;
    // Insert sorted, merging with neighbours.
    size_t j = 0;
    while (j < n && out[j].start < s) ++j;
    if (j > 0 && out[j - 1].end == s) {
      out[j - 1].end = e;
      if (j < n && out[j].start == e) {
        out[j - 1].end = out[j].end;
        for (size_t k = j; k + 1 < n; ++k) out[k] = out[k + 1];
        --n;
      }
      continue;
    }
    if (j < n && out[j].start == e) {
      out[j].start = s;
      continue;
    }
    if (n == cap) {
      // Full: keep the larger ranges.
      size_t smallest = 0;
      for (size_t k = 1; k < n; ++k)
        if (out[k].end - out[k].start < out[smallest].end - out[smallest].start) smallest = k;
      if (out[smallest].end - out[smallest].start >= e - s) continue;
      for (size_t k = smallest; k + 1 < n; ++k) out[k] = out[k + 1];
      --n;
      if (smallest < j) --j;
    }
    for (size_t k = n; k > j; --k) out[k] = out[k - 1];
    out[j] = {s, e};
    ++n;
  }
  return n;
}

uint64_t top_of_ram(const EfiMemMap& map) {
  uint64_t top = 0;
  for (size_t i = 0; i < map.count(); ++i) {
    const EfiMemDesc& d = map.at(i);
    const uint64_t end = d.phys_start + d.pages * kEfiPage;
    if (e820_type_of(d) == E820Type::kRam && end > top) top = end;
  }
  return top;
}

}  // namespace charon::efi
