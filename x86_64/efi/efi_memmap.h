// The UEFI memory map as charon.efi's adapter reads it, and the facts the
// image-building core takes from it: the machine's memory map with e820
// types, and the free ranges segments may be placed in. Pure code over the
// bytes GetMemoryMap returns, so the host tests feed it any map.
#pragma once
#include <charon/boot/boot_params.h>
#include <charon/kimage/image.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::efi {

// [uefi/2.10]: 7.2, EFI_BOOT_SERVICES.GetMemoryMap(), EFI_MEMORY_TYPE.
enum class EfiMemType : uint32_t {
  kReserved = 0,
  kLoaderCode = 1,
  kLoaderData = 2,
  kBootServicesCode = 3,
  kBootServicesData = 4,
  kRuntimeServicesCode = 5,
  kRuntimeServicesData = 6,
  kConventional = 7,
  kUnusable = 8,
  kAcpiReclaim = 9,
  kAcpiNvs = 10,
  kMmio = 11,
  kMmioPortSpace = 12,
  kPalCode = 13,
  kPersistent = 14,
  kUnaccepted = 15,
};

// EFI_MEMORY_DESCRIPTOR, version 1. Entries are DescriptorSize apart,
// which may exceed sizeof(EfiMemDesc): always step by the size given.
struct EfiMemDesc {
  uint32_t type;
  uint32_t pad;
  uint64_t phys_start;
  uint64_t virt_start;
  uint64_t pages;
  uint64_t attribute;
};
static_assert(sizeof(EfiMemDesc) == 40);

inline constexpr uint64_t kEfiPage = 4096;
inline constexpr uint64_t kEfiMemorySp = 0x40000;  // EFI_MEMORY_SP: specific-purpose memory

struct EfiMemMap {
  const uint8_t* base;
  size_t size;       // bytes
  size_t desc_size;  // stride
  size_t count() const { return desc_size ? size / desc_size : 0; }
  const EfiMemDesc& at(size_t i) const {
    return *reinterpret_cast<const EfiMemDesc*>(base + i * desc_size);
  }
};

// The e820 type of an EFI memory type as the kernel must see it after
// ExitBootServices: loader and boot-services memory become RAM, runtime
// services memory stays reserved (the kernel maps it for runtime calls),
// ACPI reclaim and NVS keep their meaning. EFI_MEMORY_SP RAM is "soft
// reserved", as Linux's EFI stub reports it.
boot::E820Type e820_type_of(const EfiMemDesc& d);

// The map in e820 terms, sorted and merged by the core's one rule
// (kimage::normalize_memmap): what boot_params' table is filled from.
// kTooManyRanges when the map has more runs than `cap`, kBadMemoryMap for
// a descriptor size below the struct's.
kimage::Status memmap_ranges(const EfiMemMap& map, kimage::MemRange* out, size_t cap, size_t& n);

// Conventional memory at or above `min`: the only memory no one uses at
// the moment the map was taken, where the core may place segments.
kimage::Status free_list(const EfiMemMap& map, uint64_t min, kimage::FreeList& out);

}  // namespace charon::efi
