// charon_bootstrap64: the 64-bit entry's first tables. We run under the
// caller's CR3, of which we may assume only that it maps our own image
// 1:1, so this maps exactly what purgatory_main needs before it builds the
// real map: the image and the page-table scratch area. The tables live in
// .noinit (charon_boot_tables), inside the image.
#include <charon/cpuid.h>
#include <charon/x86/identity_map.h>

#include "purgatory.h"

// kBootTableBytes (8 pages): PML5, PML4, two PDPTs and four PDs cover the
// two ranges, each under 1 GiB, in 2 MiB pages wherever they lie.
using namespace charon;
using namespace charon::x86;

extern "C" uint64_t charon_bootstrap64(const charon_params* params) {
  const charon_params& p = *params;
  // entry.asm has installed the IDT: a fault is reported, an NMI returns.
  setup_console(p);
  const CpuFeatures cpu = CpuFeatures::detect();
  // The address goes through a register: as a constant, clang would
  // store it in .rodata with an absolute relocation.
  uint8_t* tables = charon_boot_tables;
  asm("" : "+r"(tables));
  TableArena arena{reinterpret_cast<uint64_t>(tables), tables, kBootTableBytes / kPageSize, 0};
  IdentityMap map(arena, MapPolicy{cpu.pdpe1gb, charon_entered_la57 != 0});
  map_image_and_scratch(map, arena, p);
  return map.root();
}
