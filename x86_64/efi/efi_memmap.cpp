#include "efi_memmap.h"

namespace charon::efi {

using boot::E820Type;

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

kimage::Status memmap_ranges(const EfiMemMap& map, kimage::MemRange* out, size_t cap, size_t& n) {
  n = 0;
  if (map.desc_size < sizeof(EfiMemDesc)) return kimage::Status::kBadMemoryMap;
  for (size_t i = 0; i < map.count(); ++i) {
    const EfiMemDesc& d = map.at(i);
    if (d.pages == 0) continue;
    const kimage::MemRange r{d.phys_start, d.phys_start + d.pages * kEfiPage, e820_type_of(d)};
    // Runs in address order merge while reading (the firmware's map
    // usually is sorted), so `cap` bounds the map's runs, not its entries.
    if (n && out[n - 1].type == r.type && out[n - 1].end == r.start) {
      out[n - 1].end = r.end;
      continue;
    }
    if (n == cap) return kimage::Status::kTooManyRanges;
    out[n++] = r;
  }
  return kimage::normalize_memmap(out, n);
}

kimage::Status free_list(const EfiMemMap& map, uint64_t min, kimage::FreeList& out) {
  for (size_t i = 0; i < map.count(); ++i) {
    const EfiMemDesc& d = map.at(i);
    if (d.type != static_cast<uint32_t>(EfiMemType::kConventional) || (d.attribute & kEfiMemorySp))
      continue;
    const uint64_t end = d.phys_start + d.pages * kEfiPage;
    if (end <= min) continue;
    if (kimage::Status s = out.add(d.phys_start < min ? min : d.phys_start, end);
        s != kimage::Status::kOk)
      return s;
  }
  return kimage::Status::kOk;
}

}  // namespace charon::efi
