// Identity page tables: 2 MiB and 1 GiB leaves under 4 or 5 levels.
// [intel/vol3]: 4.5 (4-level and 5-level paging).
#include <charon/align.h>
#include <charon/x86/identity_map.h>

namespace charon::x86 {
namespace {

constexpr uint64_t min(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}
constexpr uint64_t max(uint64_t a, uint64_t b) {
  return a > b ? a : b;
}

// End of the chunk of `size` bytes that holds `addr`, clamped to `end`.
constexpr uint64_t chunk_end(uint64_t addr, uint64_t size, uint64_t end) {
  return min(end, align_down(addr, size) + size);
}

// Present and writable, supervisor-only, NX clear so that EFER.NXE may be
// either value, PCD=PWT=0 so that memory is write-back under the default
// PAT. A/D are left for the CPU to set. [intel/vol3]: 4.5.4, 4.6, 11.12.3.
constexpr Pte table_entry(uint64_t table) {
  return Pte().set_present(true).set_writable(true).set_table_address(table);
}
constexpr Pte leaf_entry(PageSize size, uint64_t page) {
  return Pte().set_present(true).set_writable(true).set_ps(true).set_leaf_address(size, page);
}

}  // namespace

uint64_t TableArena::alloc() {
  if (used >= pages) return 0;
  // Zeroed before it is linked in, so a table is never visible with stale
  // entries, even when a later allocation fails.
  auto* entries = reinterpret_cast<uint64_t*>(virt_base + used * kPageSize);
  for (size_t i = 0; i < kEntriesPerTable; ++i) entries[i] = 0;
  return phys_base + used++ * kPageSize;
}

void* TableArena::to_virt(uint64_t phys) const {
  if (phys < phys_base || (phys - phys_base) / kPageSize >= pages) return nullptr;
  return virt_base + (phys - phys_base);
}

MapStatus IdentityMap::init() {
  if (root_ != 0) return MapStatus::Ok;
  // Entries and CR3 hold 4 KiB-aligned addresses. [intel/vol3]: 4.5.2.
  if (arena_.phys_base == 0 || !is_aligned(arena_.phys_base, kPageSize) ||
      !is_aligned(reinterpret_cast<uintptr_t>(arena_.virt_base), kPageSize))
    return MapStatus::Misaligned;
  root_ = arena_.alloc();
  return root_ != 0 ? MapStatus::Ok : MapStatus::OutOfTables;
}

MapStatus IdentityMap::map(uint64_t start, uint64_t end) {
  if (end <= start || end > idmap_limit(policy_)) return MapStatus::BadRange;
  if (const MapStatus s = init(); s != MapStatus::Ok) return s;
  // The limit is 2 MiB-aligned, so rounding `end` up cannot pass it.
  start = align_down(start, kSize2M);
  end = align_up(end, kSize2M);
  auto* root = static_cast<Pte*>(arena_.to_virt(root_));
  return policy_.la57 ? map_pml5(root, start, end) : map_pml4(root, start, end);
}

bool IdentityMap::maps(uint64_t addr) const {
  if (root_ == 0 || addr >= idmap_limit(policy_)) return false;
  const auto* table = static_cast<const Pte*>(arena_.to_virt(root_));
  for (unsigned shift = policy_.la57 ? kPml5Shift : kPml4Shift;; shift -= 9) {
    if (table == nullptr) return false;
    const Pte e = table[table_index(addr, shift)];
    if (!e.present()) return false;
    // Leaves are 1 GiB or 2 MiB and map their aligned block onto itself.
    if (shift == kPdShift || (shift == kPdptShift && e.ps()))
      return e.leaf_address(shift == kPdShift ? PageSize::k2M : PageSize::k1G) ==
             align_down(addr, uint64_t{1} << shift);
    table = static_cast<const Pte*>(arena_.to_virt(e.table_address()));
  }
}

bool IdentityMap::covers(uint64_t start, uint64_t len) const {
  if (len == 0 || start + len < start) return false;
  const uint64_t last = start + len - 1;
  for (uint64_t a = align_down(start, kSize2M);; a += kSize2M) {
    if (!maps(a)) return false;
    if (a >= align_down(last, kSize2M)) return true;
  }
}

Pte* IdentityMap::next_table(Pte& entry) {
  // Every present entry above the leaves points into the arena, because
  // only this class writes these tables; to_virt() still checks.
  if (entry.present()) return static_cast<Pte*>(arena_.to_virt(entry.table_address()));
  const uint64_t table = arena_.alloc();
  if (table == 0) return nullptr;
  entry = table_entry(table);
  return static_cast<Pte*>(arena_.to_virt(table));
}

MapStatus IdentityMap::map_pml5(Pte* pml5, uint64_t addr, uint64_t end) {
  for (uint64_t next; addr < end; addr = next) {
    next = chunk_end(addr, kSize256T, end);
    Pte* pml4 = next_table(pml5[table_index(addr, kPml5Shift)]);
    if (pml4 == nullptr) return MapStatus::OutOfTables;
    if (const MapStatus s = map_pml4(pml4, addr, next); s != MapStatus::Ok) return s;
  }
  return MapStatus::Ok;
}

MapStatus IdentityMap::map_pml4(Pte* pml4, uint64_t addr, uint64_t end) {
  for (uint64_t next; addr < end; addr = next) {
    next = chunk_end(addr, kSize512G, end);
    Pte* pdpt = next_table(pml4[table_index(addr, kPml4Shift)]);
    if (pdpt == nullptr) return MapStatus::OutOfTables;
    if (const MapStatus s = map_pdpt(pdpt, addr, next); s != MapStatus::Ok) return s;
  }
  return MapStatus::Ok;
}

MapStatus IdentityMap::map_pdpt(Pte* pdpt, uint64_t addr, uint64_t end) {
  for (uint64_t next; addr < end; addr = next) {
    next = chunk_end(addr, kSize1G, end);
    Pte& entry = pdpt[table_index(addr, kPdptShift)];
    if (entry.present() && entry.ps()) continue;  // a 1 GiB leaf already covers it
    // A whole GiB is a leaf; `next - addr` is the full size only when addr
    // is 1 GiB-aligned. [intel/vol3]: 4.5.4, table 4-16.
    if (!entry.present() && policy_.gbpages && next - addr == kSize1G) {
      entry = leaf_entry(PageSize::k1G, addr);
      continue;
    }
    Pte* pd = next_table(entry);
    if (pd == nullptr) return MapStatus::OutOfTables;
    map_pd(pd, addr, next);
  }
  return MapStatus::Ok;
}

void IdentityMap::map_pd(Pte* pd, uint64_t addr, uint64_t end) {
  // Both ends are 2 MiB-aligned here. A present PDE is always a 2 MiB leaf
  // (no 4 KiB tables are ever built), so it is kept. [intel/vol3]: table 4-18.
  for (; addr < end; addr += kSize2M) {
    Pte& entry = pd[table_index(addr, kPdShift)];
    if (!entry.present()) entry = leaf_entry(PageSize::k2M, addr);
  }
}

// ----------------------------------------------------------- sizing ahead
// The count follows map()'s rules without building anything:
//  - one table per 256 TiB (5-level only) and per 512 GiB chunk touched;
//  - a page directory for each GiB whose *first* toucher, in call order,
//    does not cover it whole with 1 GiB pages allowed. A later range never
//    adds one: the GiB is then either a 1 GiB leaf (skipped) or has a PD.
// Quadratic in the number of ranges, with no memory beyond the stack.
namespace {

// The range as map() would round it, or false where map() rejects it.
bool rounded_span(const charon_region& r, MapPolicy policy, uint64_t& start, uint64_t& end) {
  const uint64_t e = r.start + r.len;  // wraps exactly as the caller's start + len
  if (e <= r.start || e > idmap_limit(policy)) return false;
  start = align_down(r.start, kSize2M);
  end = align_up(e, kSize2M);
  return true;
}

// How many of the 2^shift-byte chunks with index in [lo, hi) no accepted
// range before ranges[i] touches.
uint64_t untouched_chunks(const charon_region* ranges, size_t i, MapPolicy policy, unsigned shift,
                          uint64_t lo, uint64_t hi) {
  uint64_t count = 0;
  for (uint64_t x = lo; x < hi;) {
    uint64_t covered_to = x, next_touched = hi;
    for (size_t j = 0; j < i; ++j) {
      uint64_t s, e;
      if (!rounded_span(ranges[j], policy, s, e)) continue;
      const uint64_t a = s >> shift, b = ((e - 1) >> shift) + 1;
      if (a <= x && x < b) covered_to = max(covered_to, b);
      if (a > x) next_touched = min(next_touched, a);
    }
    if (covered_to > x) {
      x = covered_to;
    } else {
      count += next_touched - x;
      x = next_touched;
    }
  }
  return count;
}

}  // namespace

size_t idmap_pages_needed(const charon_region* ranges, size_t count, MapPolicy policy) {
  size_t pages = 1;  // the root
  for (size_t i = 0; i < count; ++i) {
    uint64_t s, e;
    if (!rounded_span(ranges[i], policy, s, e)) continue;
    auto chunks = [&](unsigned shift, uint64_t lo, uint64_t hi) {
      return untouched_chunks(ranges, i, policy, shift, lo, hi);
    };
    if (policy.la57) pages += chunks(kPml5Shift, s >> kPml5Shift, ((e - 1) >> kPml5Shift) + 1);
    pages += chunks(kPml4Shift, s >> kPml4Shift, ((e - 1) >> kPml4Shift) + 1);

    const uint64_t first = s >> kPdptShift, last = (e - 1) >> kPdptShift;
    if (!policy.gbpages) {
      pages += chunks(kPdptShift, first, last + 1);
      continue;
    }
    // With 1 GiB pages only the GiB at either end can be partly covered.
    const bool first_partial = !is_aligned(s, kSize1G) || e < (first + 1) * kSize1G;
    const bool last_partial = !is_aligned(e, kSize1G);
    if (first_partial) pages += chunks(kPdptShift, first, first + 1);
    if (last_partial && last != first) pages += chunks(kPdptShift, last, last + 1);
  }
  return pages;
}

size_t scratch_bytes_needed(const charon_region* ranges, size_t count) {
  return (idmap_pages_needed(ranges, count, MapPolicy{false, true}) + kScratchSlackPages) *
         kPageSize;
}

const char* map_status_name(MapStatus status) {
  switch (status) {
    case MapStatus::Ok:
      return "ok";
    case MapStatus::OutOfTables:
      return "out of page-table pages";
    case MapStatus::Misaligned:
      return "page-table area not page-aligned";
    case MapStatus::BadRange:
      return "bad range";
  }
  return "unknown map status";
}

}  // namespace charon::x86
