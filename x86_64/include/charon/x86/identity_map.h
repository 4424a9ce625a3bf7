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

// Builds tables whose entries are present|writable and supervisor-only,
// with no NX bit (so EFER.NXE need not be set) and write-back caching.
// Leaves are 2 MiB, or 1 GiB where policy.gbpages allows and a whole
// aligned GiB lies inside the range. Present leaves are never split.
class IdentityMap {
 public:
  IdentityMap(TableArena& arena, MapPolicy policy) : arena_(arena), policy_(policy) {}

  // Allocates the root table. Misaligned if the arena is not page-aligned
  // or phys_base is 0.
  MapStatus init();

  // Maps [start, end), rounded out to 2 MiB. Idempotent and overlap-safe:
  // whatever is already present is kept and costs nothing. BadRange if
  // end <= start or end > idmap_limit(policy). On OutOfTables the tables
  // stay valid, only incomplete. Calls init() first if it was not called.
  MapStatus map(uint64_t start, uint64_t end);

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
  void map_pd(Pte* pd, uint64_t addr, uint64_t end);
  Pte* next_table(Pte& entry);     // the table `entry` points to, allocated if absent
  bool maps(uint64_t addr) const;  // one address, walked level by level

  TableArena& arena_;
  MapPolicy policy_;
  uint64_t root_ = 0;
};

// Exact number of table pages (root included) that init() and then one
// map(start, start + len) per range, in the given order, would allocate.
// Zero-length ranges and ranges that map() would reject are ignored, as
// map() allocates nothing for them.
// With 1 GiB pages the count depends on order (a GiB mapped whole first
// never gets a page directory). With {gbpages=false, la57=true} it does not,
// and it bounds the count for every policy and order over the same ranges,
// so a loader that knows neither the CPU nor the call order sizes the
// scratch area with that policy.
size_t idmap_pages_needed(const charon_region* ranges, size_t count, MapPolicy policy);

// What a loader reserves as the purgatory's scratch area for `ranges`
// (params.scratch_size): idmap_pages_needed() in the policy that bounds
// every CPU and call order (2 MiB leaves, five levels), plus a margin for
// the ranges the purgatory derives itself, which a loader can only
// approximate: its own image bounds and the command line it finds through
// boot_params (7 pages), and the three EFI ranges efi_info names (system
// table, configuration tables, memory map; 6 more). Those lie in firmware
// memory that need not be inside [0, idmap_limit), so each may need a page
// directory and a PDPT of its own. A worse case (one straddling a GiB
// boundary, or lying beyond 256 TiB) only leaves that range unmapped: the
// purgatory maps them last and never halts over them. charon-kexec and
// charon.efi both size the area with it.
inline constexpr size_t kScratchSlackPages = 13;
size_t scratch_bytes_needed(const charon_region* ranges, size_t count);

const char* map_status_name(MapStatus status);

}  // namespace charon::x86
