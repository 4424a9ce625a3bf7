// A reader for x86-64 page tables that someone else built: 4-level or
// 5-level ([intel/vol3] 4.5). The probe runs on its own identity map of
// [0, 4 GiB), so it reads the handed-over tables by physical address.
#pragma once
#include <stdint.h>

namespace probe {

struct Translation {
  bool ok = false;
  bool writable = false;
  uint64_t phys = 0;
  uint64_t leaf_size = 0;       // 4 KiB, 2 MiB or 1 GiB
  const char* error = nullptr;  // why not ok
  int level = 0;                // where it stopped (5..1)
};

struct Tables {
  uint64_t cr3;
  bool la57;  // CR4.LA57: five levels
  bool nxe;   // EFER.NXE: without it bit 63 is reserved ([intel/vol3] 4.5.4)
};

Translation translate(const Tables& t, uint64_t va);

// Number of present PDPT entries with PS=1, i.e. 1 GiB leaves.
uint64_t count_1g_leaves(const Tables& t);

// Calls visit(ctx, va, size) for every present leaf (4 KiB, 2 MiB or
// 1 GiB), in address order, until it returns false; false then. Tables
// the probe cannot read (above 4 GiB) are skipped.
using LeafVisitor = bool (*)(void* ctx, uint64_t va, uint64_t size);
bool for_each_leaf(const Tables& t, LeafVisitor visit, void* ctx);

}  // namespace probe
