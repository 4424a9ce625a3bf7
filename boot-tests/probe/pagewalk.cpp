#include "pagewalk.h"

namespace probe {
namespace {

// The probe's own page-table bits ([intel/vol3] 4.5, tables 4-14 to
// 4-20), not charon/x86/paging.h's: an independent walker is the check on
// the purgatory's tables.
constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWrite = 1ull << 1;
constexpr uint64_t kPageSize = 1ull << 7;
constexpr uint64_t kXd = 1ull << 63;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;  // bits 51:12
constexpr uint64_t kReadable = 1ull << 32;             // the probe maps [0, 4 GiB)

const volatile uint64_t* table_at(uint64_t entry_or_cr3) {
  return reinterpret_cast<const volatile uint64_t*>(entry_or_cr3 & kAddrMask);
}

}  // namespace

Translation translate(const Tables& t, uint64_t va) {
  Translation r;
  uint64_t table = t.cr3 & kAddrMask;
  bool writable = true;
  for (int level = t.la57 ? 5 : 4; level >= 1; --level) {
    r.level = level;
    if (table >= kReadable) {
      r.error = "table above 4 GiB";
      return r;
    }
    const int shift = 12 + 9 * (level - 1);
    const uint64_t e = table_at(table)[(va >> shift) & 511];
    if (!(e & kPresent)) {
      r.error = "not present";
      return r;
    }
    if ((e & kXd) && !t.nxe) {
      r.error = "XD set with EFER.NXE=0 (reserved bit)";
      return r;
    }
    writable = writable && (e & kWrite);
    const bool ps = e & kPageSize;
    // PS is a leaf at the PDPT (1 GiB) and PD (2 MiB) levels only, and
    // reserved above them ([intel/vol3] table 4-15 onwards).
    if (ps && level >= 4) {
      r.error = "PS set in a PML4E/PML5E (reserved)";
      return r;
    }
    if (level == 1 || ps) {
      r.leaf_size = 1ull << shift;
      r.phys = (e & kAddrMask & ~(r.leaf_size - 1)) | (va & (r.leaf_size - 1));
      r.writable = writable;
      r.ok = true;
      return r;
    }
    table = e & kAddrMask;
  }
  return r;
}

uint64_t count_1g_leaves(const Tables& t) {
  uint64_t count = 0;
  const int top_entries = t.la57 ? 512 : 1;
  for (int i5 = 0; i5 < top_entries; ++i5) {
    uint64_t pml4 = t.cr3 & kAddrMask;
    if (t.la57) {
      const uint64_t e5 = table_at(t.cr3)[i5];
      if (!(e5 & kPresent) || (e5 & kAddrMask) >= kReadable) continue;
      pml4 = e5 & kAddrMask;
    }
    for (int i4 = 0; i4 < 512; ++i4) {
      const uint64_t e4 = table_at(pml4)[i4];
      if (!(e4 & kPresent) || (e4 & kPageSize) || (e4 & kAddrMask) >= kReadable) continue;
      for (int i3 = 0; i3 < 512; ++i3) {
        const uint64_t e3 = table_at(e4)[i3];
        if ((e3 & kPresent) && (e3 & kPageSize)) ++count;
      }
    }
  }
  return count;
}

namespace {

bool visit_table(uint64_t table, int level, uint64_t base, LeafVisitor visit, void* ctx) {
  if (table >= kReadable) return true;
  const int shift = 12 + 9 * (level - 1);
  for (uint64_t i = 0; i < 512; ++i) {
    const uint64_t e = table_at(table)[i];
    if (!(e & kPresent)) continue;
    const uint64_t va = base + (i << shift);
    if (level == 1 || ((e & kPageSize) && level <= 3)) {
      if (!visit(ctx, va, 1ull << shift)) return false;
    } else if (!visit_table(e & kAddrMask, level - 1, va, visit, ctx)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool for_each_leaf(const Tables& t, LeafVisitor visit, void* ctx) {
  return visit_table(t.cr3 & kAddrMask, t.la57 ? 5 : 4, 0, visit, ctx);
}

}  // namespace probe
