// Identity page tables for the 64-bit handoff: plain C++ over a bounded
// arena, with the CPU features passed in, so the host tests can build and
// walk the same tables the purgatory builds.
//
// Freestanding-safe: no libc, no heap, no static constructors.
#pragma once
#include <charon/params.h>
#include <charon/x86/paging.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::x86 {

// Page-table memory: a bounded bump allocator over a page-aligned area.
// `phys_base` is the physical address of the area; `virt_base` is where the
// caller can access it (equal in the purgatory, a host buffer in tests).
// phys_base must be non-zero, because alloc() reports exhaustion with 0.
struct TableArena {
  uint64_t phys_base;
  uint8_t* virt_base;
  size_t pages;
  size_t used;

  uint64_t alloc();  // physical address of a zeroed 4 KiB page, or 0 when exhausted
  void* to_virt(uint64_t phys) const;  // phys inside the arena -> pointer, else nullptr
};

// gbpages: 1 GiB leaves allowed (CPUID.80000001h:EDX[26]).
// la57: build 5-level tables (the handoff runs with CR4.LA57 set).
struct MapPolicy {
  bool gbpages;
  bool la57;
};

enum class MapStatus { Ok, OutOfTables, Misaligned, BadRange };

// Highest end address map() accepts. An identity-mapped address is both a
// linear and a physical address. As a linear address it must be canonical:
// with 4-level paging bits 63:47 equal bit 47, so only [0, 2^47) can map to
// itself. As a physical address it fits in bits 51:0 (MAXPHYADDR <= 52),
// which bounds 5-level paging at 2^52 rather than 2^56. [intel/vol3]: 4.1.4
// (MAXPHYADDR), 4.5.
constexpr uint64_t idmap_limit(MapPolicy policy) {
  return uint64_t{1} << (policy.la57 ? 52 : 47);
}

// What a typed map may cover (README, "Identity page tables"): the
// machine's memory, each range shrunk to whole 4 KiB pages (a page that
// is only partly memory is not memory), and the ranges the handoff
// requires, each grown to whole pages. Zero-length entries are ignored;
// memory is cut at idmap_limit(policy), and a required range that map()
// rejects (past the limit, or wrapping) is left out. Any order, overlaps
// allowed. The arrays must outlive the map: it reads them while mapping.
struct MapLayout {
  const charon_region* memory = nullptr;  // RAM, ACPI data, ACPI NVS
  size_t nmemory = 0;
  const charon_region* required = nullptr;
  size_t nrequired = 0;
};

// Builds tables whose entries are present|writable and supervisor-only,
// with no NX bit (so EFER.NXE need not be set) and write-back caching.
//
// Untyped (no layout): each range is rounded out to 2 MiB; leaves are
// 2 MiB, or 1 GiB where policy.gbpages allows and a whole aligned GiB lies
// inside the range. The bootstrap and the trampoline's tables are untyped.
//
// Typed (with a layout): ranges are rounded out to 4 KiB, and a leaf is as
// large as the whole of it lies in the layout (memory or required) or in
// the range being mapped: 1 GiB (policy.gbpages), then 2 MiB, else 4 KiB
// pages for just the range. So no leaf reaches into a reserved or MMIO
// range that nothing required, whatever the order of the calls: the SDM
// leaves a page spanning several memory types undefined ([intel/vol3]
// 11.11.9), and some machines halt on a speculative access to reserved
// memory (Linux commit 7143c5f4cf20).
//
// Either way present leaves are never split and present tables are kept.
class IdentityMap {
 public:
  IdentityMap(TableArena& arena, MapPolicy policy) : arena_(arena), policy_(policy) {}
  IdentityMap(TableArena& arena, MapPolicy policy, const MapLayout& layout)
      : arena_(arena), policy_(policy), layout_(layout), typed_(true) {}

  // Allocates the root table. Misaligned if the arena is not page-aligned
  // or phys_base is 0.
  MapStatus init();

  // Maps [start, end), rounded out to 2 MiB (untyped) or 4 KiB (typed).
  // Idempotent and overlap-safe: whatever is already present is kept and
  // costs nothing. BadRange if end <= start or end > idmap_limit(policy).
  // On OutOfTables the tables stay valid, only incomplete. Calls init()
  // first if it was not called.
  MapStatus map(uint64_t start, uint64_t end);

  // Typed: maps every memory range of the layout, shrunk to whole pages
  // and cut at idmap_limit(policy) (memory beyond it cannot map to
  // itself). Untyped: nothing to do.
  MapStatus map_memory();

  uint64_t root() const { return root_; }  // physical address for CR3, 0 before init()

  // True if every byte of [start, start + len) translates to itself in
  // these tables (len 0: false). Walks the tables; for short ranges.
  bool covers(uint64_t start, uint64_t len) const;

 private:
  // One function per level, each clamping to the part of [addr, end) that
  // its entry covers. The tables only ever grow: entries that are already
  // present are kept as they are.
  MapStatus map_pml5(Pte* pml5, uint64_t addr, uint64_t end);
  MapStatus map_pml4(Pte* pml4, uint64_t addr, uint64_t end);
  MapStatus map_pdpt(Pte* pdpt, uint64_t addr, uint64_t end);
  MapStatus map_pd(Pte* pd, uint64_t addr, uint64_t end);
  void map_pt(Pte* pt, uint64_t addr, uint64_t end);
  // May the aligned `size`-byte chunk holding `addr`, of which the range
  // being mapped covers [addr, next), be one leaf?
  bool whole_leaf(uint64_t addr, uint64_t next, uint64_t size);
  Pte* next_table(Pte& entry);              // the table `entry` points to, allocated if absent
  uint64_t leaf_size(uint64_t addr) const;  // of the leaf mapping `addr`, 0 if unmapped

  TableArena& arena_;
  MapPolicy policy_;
  MapLayout layout_{};
  bool typed_ = false;
  uint64_t root_ = 0;
  uint64_t range_start_ = 0, range_end_ = 0;  // typed: the range map() is mapping
  uint64_t reach_from_ = 0, reach_to_ = 0;    // typed: [from, to) lies in the layout
};

// Untyped: exact number of table pages (root included) that init() and
// then one map(start, start + len) per range, in the given order, would
// allocate. Zero-length ranges and ranges that map() would reject are
// ignored, as map() allocates nothing for them.
// With 1 GiB pages the count depends on order (a GiB mapped whole first
// never gets a page directory). With {gbpages=false, la57=true} it does not,
// and it bounds the count for every policy and order over the same ranges,
// so a loader that knows neither the CPU nor the call order sizes the
// trampoline's tables with that policy.
size_t idmap_pages_needed(const charon_region* ranges, size_t count, MapPolicy policy);

// Typed: exact number of table pages that init(), map_memory() and one
// map() per required range would allocate, in any order (a leaf depends
// only on the layout). {gbpages=false, la57=true} bounds every policy.
size_t idmap_pages_needed(const MapLayout& layout, MapPolicy policy);

// What a loader reserves as the purgatory's scratch area
// (params.scratch_size) for the memory it passes and the ranges the
// purgatory will require: idmap_pages_needed() in the policy that bounds
// every CPU (2 MiB leaves, five levels), plus a margin for the ranges the
// purgatory finds itself, which a loader can only approximate: the command
// line it finds through boot_params (a PDPT, a PD and a page table at each
// end: 4 pages), its own image bounds (a page table at each end: 2), and
// the three EFI ranges efi_info names (system table, configuration tables,
// memory map), which lie in firmware memory that need be neither memory
// nor inside anything else mapped (4 each: 12). A worse case (one
// straddling a GiB boundary, or lying beyond 256 TiB) only leaves that
// range unmapped: the purgatory maps them last and never halts over them.
// charon-kexec and charon.efi both size the area with it.
inline constexpr size_t kScratchSlackPages = 18;
size_t scratch_bytes_needed(const MapLayout& layout);

const char* map_status_name(MapStatus status);

}  // namespace charon::x86
