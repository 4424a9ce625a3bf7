#include "adapter.h"

#include <charon/align.h>

namespace charon::efi {

namespace {

// The firmware's map in e820 terms, as the core reads it (one load at a
// time, like everything in charon.efi).
constinit kimage::MemRange g_memmap_runs[1024] = {};

kimage::Status gather_input(const Facts& f, kimage::FreeList& free, Built& out) {
  kimage::ImageInput& in = out.in;
  boot::screen_info& si = out.si;
  kimage::Range& extra = out.extra;
  kimage::SetupDataNode& seed = out.seed;
  in = kimage::ImageInput{};
  const Config& c = *f.cfg;
  size_t cmdline_len = 0;
  while (c.cmdline[cmdline_len]) ++cmdline_len;
  in.kernel = f.kernel;
  in.kernel_size = f.kernel_size;
  in.has_initrd = c.initrd[0] != 0;
  in.initrd_size = f.initrd_size;
  in.cmdline_max_len = cmdline_len;
  in.entry = c.protocol == Protocol::k32 ? kimage::Entry::k32 : kimage::Entry::k64;
  // Segments go into conventional memory from 1 MiB: everything else
  // is in use while boot services run.
  if (kimage::Status s = free_list(*f.map, k1MiB, free); s != kimage::Status::kOk) return s;
  in.free = &free;
  // The memory the purgatory maps: types do not change at
  // ExitBootServices (boot-services memory is RAM already), so this map
  // serves as well as the final one.
  size_t runs = 0;
  if (kimage::Status s = memmap_ranges(*f.map, g_memmap_runs,
                                       sizeof g_memmap_runs / sizeof g_memmap_runs[0], runs);
      s != kimage::Status::kOk)
    return s;
  in.memory_map = g_memmap_runs;
  in.nmemory_map = runs;
  in.la57 = f.la57;
  in.acpi_rsdp = f.rsdp;
  if (f.fb && screen_info_from_gop(*f.fb, si)) in.screen_info = &si;
  // The kernel reads the final memory map where it lies, before it has
  // page tables of its own: the purgatory maps it.
  extra = f.memmap_buffer;
  if (!extra.empty()) {
    in.extra_map = &extra;
    in.nextra_map = 1;
  }
  // purgatory.bin is position-independent: anywhere below 4 GiB.
  in.purgatory_size = f.purgatory_mem;
  in.purgatory_align = kPageSize;
  in.purgatory_max_end = k4GiB;
  // The console keeps the firmware's divisor (baud 0), as charon-kexec
  // keeps the old kernel's.
  in.console.serial = c.console_serial;
  in.console.debugcon = c.console_debugcon;
  in.e820_ext_room = f.e820_ext_room;
  in.secure_boot = f.secure_boot;
  // The kernel's own EFI stub seeds its RNG from EFI_RNG_PROTOCOL; a kernel
  // entered through the boot protocol gets the same bytes as SETUP_RNG_SEED.
  if (f.rng_seed && f.rng_seed_len) {
    seed = {boot::SETUP_RNG_SEED, f.rng_seed, f.rng_seed_len};
    in.setup_data = &seed;
    in.nsetup_data = 1;
  }
  return kimage::Status::kOk;
}

}  // namespace

kimage::Status build_image(const Facts& f, kimage::FreeList& free, uint8_t* setup,
                           size_t setup_size, charon_params& p, Built& out) {
  out = Built{};
  if (kimage::Status s = gather_input(f, free, out); s != kimage::Status::kOk) return s;
  if (kimage::Status s = kimage::plan_image(out.in, out.plan); s != kimage::Status::kOk) return s;
  if (kimage::Status s = kimage::build_setup(out.in, out.plan, f.cfg->cmdline,
                                             out.in.cmdline_max_len, nullptr, 0, setup, setup_size);
      s != kimage::Status::kOk)
    return s;
  return kimage::fill_params(out.in, out.plan, p);
}

size_t e820_ext_room_for(size_t descriptors) {
  return descriptors > boot::E820_MAX_ENTRIES_ZEROPAGE
             ? descriptors - boot::E820_MAX_ENTRIES_ZEROPAGE
             : 0;
}

kimage::Status finish_boot_params(const EfiMemMap& map, uint64_t systab, uint64_t map_addr,
                                  uint32_t desc_version, const kimage::ImagePlan& plan,
                                  kimage::MemRange* scratch, size_t cap, uint8_t* setup,
                                  size_t setup_size) {
  size_t n = 0;
  if (kimage::Status s = memmap_ranges(map, scratch, cap, n); s != kimage::Status::kOk) return s;
  if (kimage::Status s = kimage::fill_e820(plan, scratch, n, setup, setup_size);
      s != kimage::Status::kOk)
    return s;
  boot::efi_info& ei = reinterpret_cast<boot::boot_params*>(setup)->efi_info;
  ei.efi_loader_signature = boot::EFI64_LOADER_SIGNATURE;
  ei.efi_systab = static_cast<uint32_t>(systab);
  ei.efi_systab_hi = static_cast<uint32_t>(systab >> 32);
  ei.efi_memdesc_size = static_cast<uint32_t>(map.desc_size);
  ei.efi_memdesc_version = desc_version;
  ei.efi_memmap = static_cast<uint32_t>(map_addr);
  ei.efi_memmap_hi = static_cast<uint32_t>(map_addr >> 32);
  ei.efi_memmap_size = static_cast<uint32_t>(map.size);
  return kimage::Status::kOk;
}

}  // namespace charon::efi
