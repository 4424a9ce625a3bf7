// charon.efi's adapter onto the image-building core: the facts a UEFI
// machine offers (the configuration file, the files read from the ESP,
// the memory map, the ACPI tables, GOP) gathered into the core's one
// ImageInput, and what only the final memory map can give (the e820
// table, efi_info) written into boot_params after ExitBootServices. Pure
// code: the host tests drive it with any map, and compare it with
// charon-kexec's adapter on the same machine.
#pragma once
#include <charon/boot/boot_params.h>
#include <charon/kimage/image.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "efi_memmap.h"
#include "gop.h"

namespace charon::efi {

struct Facts {
  const Config* cfg;
  const uint8_t* kernel;  // the whole bzImage
  uint64_t kernel_size;
  uint64_t initrd_size;  // 0 with no initrd line
  const EfiMemMap* map;  // taken after every buffer of ours was allocated
  uint64_t rsdp;
  const Framebuffer* fb;        // null: no GOP
  uint64_t purgatory_mem;       // purgatory.bin's mem_size
  kimage::Range memmap_buffer;  // where the final map will be: the kernel reads it
  size_t e820_ext_room;         // entries beyond 128 the final map may need
  uint8_t secure_boot;          // boot_params.secure_boot, from the SecureBoot variable
  const uint8_t* rng_seed;      // SETUP_RNG_SEED from EFI_RNG_PROTOCOL; null: none
  uint32_t rng_seed_len;
  bool la57;  // CR4.LA57: the firmware runs 5-level paging
};

// Memory-map entries beyond boot_params' 128 that a map of at most
// `descriptors` descriptors can need (each may become one e820 entry).
size_t e820_ext_room_for(size_t descriptors);

// What the core made of the facts; `in` points into the rest of it (and
// its memory map into the adapter's own buffer, of as many runs as the
// final map may have: handoff.cpp's).
struct Built {
  kimage::ImageInput in;
  kimage::ImagePlan plan;
  boot::screen_info si;
  kimage::Range extra;
  kimage::SetupDataNode seed;
};

// Gathers the facts into the core's input (free memory from `free`, which
// the planner carves), plans, writes the setup segment into `setup` (the
// e820 table and efi_info come later, from the final map) and fills the
// parameter block `p` (its digests come last too).
kimage::Status build_image(const Facts& f, kimage::FreeList& free, uint8_t* setup,
                           size_t setup_size, charon_params& p, Built& out);

// The final map into the setup segment `setup` (`setup_size` bytes, as
// `plan` placed it): the e820 table and SETUP_E820_EXT by the core's one
// builder (through `scratch`, room for `cap` ranges), and efi_info with
// "EL64" and the whole map, so that the kernel keeps EFI runtime services.
kimage::Status finish_boot_params(const EfiMemMap& map, uint64_t systab, uint64_t map_addr,
                                  uint32_t desc_version, const kimage::ImagePlan& plan,
                                  kimage::MemRange* scratch, size_t cap, uint8_t* setup,
                                  size_t setup_size);

}  // namespace charon::efi
