#include "purgonly_tables.h"

#include <charon/align.h>
#include <charon/mem.h>

namespace harness {
namespace {

constexpr uint64_t kPresentWritable = 0x3;  // supervisor: SMEP/SMAP-safe
constexpr uint64_t kPresentReadOnly = 0x1;  // with CR0.WP, even CPL 0 cannot write
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;
constexpr int kPoolPages = 16;

alignas(charon::kPageSize) uint64_t g_pool[kPoolPages][512];
int g_used = 0;

uint64_t* alloc_table() {
  if (g_used == kPoolPages) return nullptr;
  uint64_t* t = g_pool[g_used++];
  charon::mem_fill(t, 0, charon::kPageSize);
  return t;
}

bool map_4k(uint64_t* pml4, uint64_t va, uint64_t leaf_flags) {
  uint64_t* table = pml4;
  for (int level = 4; level > 1; --level) {
    uint64_t& e = table[(va >> (12 + 9 * (level - 1))) & 511];
    if (!(e & 1)) {
      uint64_t* next = alloc_table();
      if (!next) return false;
      e = reinterpret_cast<uint64_t>(next) | kPresentWritable;
    }
    table = reinterpret_cast<uint64_t*>(e & kAddrMask);
  }
  table[(va >> 12) & 511] = va | leaf_flags;
  return true;
}

}  // namespace

uint64_t build_purgonly_tables(uint64_t base, uint64_t size, uint64_t stub_page) {
  g_used = 0;
  uint64_t* pml4 = alloc_table();
  if (!pml4) return 0;
  // The purgatory's pages read-only: it must clear CR0.WP before its
  // first store, and store nothing before (README, "Entry contract").
  for (uint64_t va = charon::align_down(base, charon::kPageSize); va < base + size;
       va += charon::kPageSize)
    if (!map_4k(pml4, va, kPresentReadOnly)) return 0;
  if (!map_4k(pml4, stub_page, kPresentWritable)) return 0;
  return reinterpret_cast<uint64_t>(pml4);
}

}  // namespace harness
