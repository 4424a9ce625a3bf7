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
constexpr Pte page_entry(uint64_t page) {
  return Pte().set_present(true).set_writable(true).set_table_address(page);
}

// ------------------------------------------------------- the typed layout
// A memory range shrunk to whole pages and cut at `limit`; false if no
// whole page is left (or it wraps).
bool memory_span(const charon_region& r, uint64_t limit, uint64_t& s, uint64_t& e) {
  if (r.len == 0 || r.start > limit) return false;
  s = align_up(r.start, kPageSize);
  e = align_down(r.len > limit - r.start ? limit : r.start + r.len, kPageSize);
  return e > s;
}

// A required range grown to whole pages; false if empty or wrapping.
// Nothing above 2^63 can be mapped, so the rounding cannot wrap.
bool required_span(const charon_region& r, uint64_t& s, uint64_t& e) {
  constexpr uint64_t kTop = uint64_t{1} << 63;
  if (r.len == 0 || r.start >= kTop || r.len > kTop - r.start) return false;
  s = align_down(r.start, kPageSize);
  e = align_up(r.start + r.len, kPageSize);
  return true;
}

// The end of the stretch of the layout (and of [also_s, also_e)) that
// starts at `addr`: every byte of [addr, result) lies in one of them, and
// `result` itself in none (result == addr when addr lies in none). Ranges
// may come in any order and overlap; quadratic in their number at worst.
uint64_t layout_reach(const MapLayout& l, uint64_t addr, uint64_t also_s, uint64_t also_e) {
  constexpr uint64_t kNoLimit = ~uint64_t{0};
  for (bool moved = true; moved;) {
    moved = false;
    uint64_t s, e;
    auto step = [&](uint64_t rs, uint64_t re) {
      if (rs <= addr && addr < re) addr = re, moved = true;
    };
    step(also_s, also_e);
    for (size_t i = 0; i < l.nmemory; ++i)
      if (memory_span(l.memory[i], kNoLimit, s, e)) step(s, e);
    for (size_t i = 0; i < l.nrequired; ++i)
      if (required_span(l.required[i], s, e)) step(s, e);
  }
  return addr;
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
  const uint64_t grain = typed_ ? kPageSize : kSize2M;
  start = align_down(start, grain);
  end = align_up(end, grain);
  range_start_ = start;
  range_end_ = end;
  reach_from_ = reach_to_ = 0;  // the stretch remembered included the last range
  auto* root = static_cast<Pte*>(arena_.to_virt(root_));
  return policy_.la57 ? map_pml5(root, start, end) : map_pml4(root, start, end);
}

MapStatus IdentityMap::map_memory() {
  if (!typed_) return MapStatus::Ok;
  for (size_t i = 0; i < layout_.nmemory; ++i) {
    uint64_t s, e;
    if (!memory_span(layout_.memory[i], idmap_limit(policy_), s, e)) continue;
    if (const MapStatus st = map(s, e); st != MapStatus::Ok) return st;
  }
  return init();  // no memory at all still makes a valid root
}

uint64_t IdentityMap::leaf_size(uint64_t addr) const {
  if (root_ == 0 || addr >= idmap_limit(policy_)) return 0;
  const auto* table = static_cast<const Pte*>(arena_.to_virt(root_));
  for (unsigned shift = policy_.la57 ? kPml5Shift : kPml4Shift;; shift -= 9) {
    if (table == nullptr) return 0;
    const Pte e = table[table_index(addr, shift)];
    if (!e.present()) return 0;
    // A leaf maps its aligned block onto itself: 4 KiB in a page table,
    // PS in a PD (2 MiB) or PDPT (1 GiB).
    if (shift == kPtShift || ((shift == kPdShift || shift == kPdptShift) && e.ps())) {
      const uint64_t size = uint64_t{1} << shift;
      const uint64_t page =
          shift == kPtShift ? e.table_address() : e.leaf_address(static_cast<PageSize>(shift));
      return page == align_down(addr, size) ? size : 0;
    }
    table = static_cast<const Pte*>(arena_.to_virt(e.table_address()));
  }
}

bool IdentityMap::covers(uint64_t start, uint64_t len) const {
  if (len == 0 || start + len < start) return false;
  const uint64_t last = start + len - 1;
  for (uint64_t a = start;;) {
    const uint64_t size = leaf_size(a);
    if (size == 0) return false;
    const uint64_t next = align_down(a, size) + size;
    if (next == 0 || next > last) return true;
    a = next;
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

bool IdentityMap::whole_leaf(uint64_t addr, uint64_t next, uint64_t size) {
  // Untyped: the (2 MiB-rounded) range covers the whole chunk.
  if (!typed_) return next - addr == size;
  // Typed: the whole chunk lies in the layout or the range being mapped.
  // Consecutive chunks mostly lie in one stretch: remember it.
  const uint64_t chunk = align_down(addr, size);
  if (chunk < reach_from_ || chunk >= reach_to_) {
    reach_from_ = chunk;
    reach_to_ = layout_reach(layout_, chunk, range_start_, range_end_);
  }
  return reach_to_ - chunk >= size;
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
    // [intel/vol3]: 4.5.4, table 4-16.
    if (!entry.present() && policy_.gbpages && whole_leaf(addr, next, kSize1G)) {
      entry = leaf_entry(PageSize::k1G, align_down(addr, kSize1G));
      continue;
    }
    Pte* pd = next_table(entry);
    if (pd == nullptr) return MapStatus::OutOfTables;
    if (const MapStatus s = map_pd(pd, addr, next); s != MapStatus::Ok) return s;
  }
  return MapStatus::Ok;
}

MapStatus IdentityMap::map_pd(Pte* pd, uint64_t addr, uint64_t end) {
  // Untyped, both ends are 2 MiB-aligned and every PDE is a 2 MiB leaf.
  // Typed, a PDE is a 2 MiB leaf or points to a page table, which is
  // filled, never replaced. [intel/vol3]: tables 4-18, 4-19.
  for (uint64_t next; addr < end; addr = next) {
    next = chunk_end(addr, kSize2M, end);
    Pte& entry = pd[table_index(addr, kPdShift)];
    if (entry.present() && entry.ps()) continue;
    if (!entry.present() && whole_leaf(addr, next, kSize2M)) {
      entry = leaf_entry(PageSize::k2M, align_down(addr, kSize2M));
      continue;
    }
    Pte* pt = next_table(entry);
    if (pt == nullptr) return MapStatus::OutOfTables;
    map_pt(pt, addr, next);
  }
  return MapStatus::Ok;
}

void IdentityMap::map_pt(Pte* pt, uint64_t addr, uint64_t end) {
  // 4 KiB pages for just the range: bit 7 is PAT here, left 0 (write-back
  // under the default PAT). [intel/vol3]: table 4-20.
  for (; addr < end; addr += kPageSize) {
    Pte& entry = pt[table_index(addr, kPtShift)];
    if (!entry.present()) entry = page_entry(addr);
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

// Typed: the spans map_memory() and map() lay down for the layout, in one
// index space: memory first, then the required ranges.
namespace {

struct TypedSpans {
  const MapLayout& layout;
  MapPolicy policy;

  size_t count() const { return layout.nmemory + layout.nrequired; }
  bool get(size_t i, uint64_t& s, uint64_t& e) const {
    const uint64_t limit = idmap_limit(policy);
    if (i < layout.nmemory) return memory_span(layout.memory[i], limit, s, e);
    const charon_region& r = layout.required[i - layout.nmemory];
    const uint64_t end = r.start + r.len;  // map() rejects what it would
    if (end <= r.start || end > limit) return false;
    return required_span(r, s, e);
  }
};

// How many 2^shift-byte chunks with index in [lo, hi) span i touches and
// no span before it does; with `typed`, only those not wholly inside the
// layout (the ones that cannot be one leaf). Chunks inside are skipped a
// stretch at a time, so the loop runs about once per counted chunk.
uint64_t new_chunks(const TypedSpans& sp, size_t i, unsigned shift, uint64_t lo, uint64_t hi,
                    bool typed) {
  uint64_t count = 0;
  for (uint64_t x = lo; x < hi;) {
    uint64_t covered_to = x, next_touched = hi;
    for (size_t j = 0; j < i; ++j) {
      uint64_t s, e;
      if (!sp.get(j, s, e)) continue;
      const uint64_t a = s >> shift, b = ((e - 1) >> shift) + 1;
      if (a <= x && x < b) covered_to = max(covered_to, b);
      if (a > x) next_touched = min(next_touched, a);
    }
    if (covered_to > x) {
      x = covered_to;
    } else if (!typed) {
      count += next_touched - x;
      x = next_touched;
    } else {
      const uint64_t base = x << shift;
      const uint64_t reach = layout_reach(sp.layout, base, 0, 0);
      if (reach - base >= (uint64_t{1} << shift)) {
        x = min(next_touched, reach >> shift);  // the chunk holding `reach` is not inside
      } else {
        ++count;
        ++x;
      }
    }
  }
  return count;
}

}  // namespace

size_t idmap_pages_needed(const MapLayout& layout, MapPolicy policy) {
  const TypedSpans sp{layout, policy};
  size_t pages = 1;  // the root
  for (size_t i = 0; i < sp.count(); ++i) {
    uint64_t s, e;
    if (!sp.get(i, s, e)) continue;
    auto chunks = [&](unsigned shift, bool typed) {
      return new_chunks(sp, i, shift, s >> shift, ((e - 1) >> shift) + 1, typed);
    };
    if (policy.la57) pages += chunks(kPml5Shift, false);
    pages += chunks(kPml4Shift, false);
    // A page directory for every GiB touched, but a GiB wholly inside the
    // layout is one leaf with 1 GiB pages; a page table for every 2 MiB
    // touched that is not wholly inside.
    pages += chunks(kPdptShift, policy.gbpages);
    pages += chunks(kPdShift, true);
  }
  return pages;
}

size_t scratch_bytes_needed(const MapLayout& layout) {
  return (idmap_pages_needed(layout, MapPolicy{false, true}) + kScratchSlackPages) * kPageSize;
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
