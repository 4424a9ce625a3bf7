// What the harness puts in memory before the handoff: the low-memory
// pattern, the zero page and cmdline, the probe's descriptor, and the
// purgatory's parameter block.
#pragma once
#include <charon/params.h>

#include "descriptor.h"
#include "options.h"

namespace harness {

// big=MIB's digest region (options.h): at 256 MiB, above everything else
// the harness places below 1 GiB; the runner gives QEMU the RAM for it.
inline constexpr uint64_t kBigRegionAddr = 0x10000000;

struct World {
  const Options* opt;
  uint64_t seed;
  const probe::ProbeInfo* probe;
  const charon_bin_header* purg;  // null for Entry::Direct
  probe::Descriptor* desc;
  const probe::E820* firmware_map;  // QEMU's, from multiboot; e820=1 only
  uint32_t nfirmware_map;
};

// QEMU's memory map from the multiboot information (flags bit 6), read
// before low memory is overwritten; at most `max` entries.
uint32_t read_multiboot_map(uint32_t mbi, probe::E820* out, uint32_t max);

uint64_t seed_for(const char* case_name);
void write_low_memory(uint64_t seed);
// The zero page and cmdline, and with efi=1 the fake EFI tables it names;
// false if those cannot be written (no RAM above 4 GiB).
bool write_boot_params(const World& w);
// Expected registers, cmdline and the ranges every 64-bit handoff must map.
void write_descriptor(World& w, bool expect_la57, bool allow_1g);
// Real mode: the expected regs16, hooks and backup exclusion (descriptor).
void write_real_mode(World& w);
void add_range(probe::Descriptor& d, uint64_t start, uint64_t len, const char* name);
// The purgatory's block; returns it so the caller can corrupt a region.
charon_params* write_params(const World& w);

}  // namespace harness
