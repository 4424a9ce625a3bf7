// 4-level and 5-level paging: level geometry and a typed page-table entry.
// Plain constexpr values, so the page-table builder and its host tests
// share one definition with the purgatory.
#pragma once
#include <charon/align.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::x86 {

// [intel/vol3]: 4.5, figures 4-8 to 4-11. Each level decodes 9 bits of the
// linear address; the shift is where that level's index begins.
inline constexpr unsigned kPtShift = 12;    // page table: 4 KiB pages
inline constexpr unsigned kPdShift = 21;    // page directory: 2 MiB per entry
inline constexpr unsigned kPdptShift = 30;  // PDPT: 1 GiB per entry
inline constexpr unsigned kPml4Shift = 39;  // PML4: 512 GiB per entry
inline constexpr unsigned kPml5Shift = 48;  // PML5: 256 TiB per entry

// The one page size is charon::kPageSize (align.h); it is what a PTE maps.
using charon::kPageSize;
static_assert(kPageSize == uint64_t{1} << kPtShift);
inline constexpr uint64_t kSize2M = uint64_t{1} << kPdShift;
inline constexpr uint64_t kSize1G = uint64_t{1} << kPdptShift;
inline constexpr uint64_t kSize512G = uint64_t{1} << kPml4Shift;
inline constexpr uint64_t kSize256T = uint64_t{1} << kPml5Shift;
static_assert(kSize2M == k2MiB && kSize1G == k1GiB);

inline constexpr size_t kEntriesPerTable = 512;  // 4 KiB of 8-byte entries

// Index of `addr` in a table whose entries each map 2^shift bytes.
constexpr size_t table_index(uint64_t addr, unsigned shift) {
  return static_cast<size_t>((addr >> shift) & (kEntriesPerTable - 1));
}

// A page is 4 KiB, 2 MiB (PS in a PDE) or 1 GiB (PS in a PDPTE).
enum class PageSize : uint8_t { k4K = kPtShift, k2M = kPdShift, k1G = kPdptShift };

// [intel/vol3]: 4.5.4, tables 4-14 to 4-20. Physical addresses in entries
// occupy bits M-1:12, where M = MAXPHYADDR <= 52; bits 51:M must be zero,
// so masking with bits 51:12 never hides a reserved bit the CPU checks.
inline constexpr uint64_t kPhysAddrMask = 0x000f'ffff'ffff'f000;

// Address field of an entry that maps a page of `size`: a 2 MiB leaf keeps
// bits 20:12 for PAT (bit 12) and reserved bits, a 1 GiB leaf bits 29:12.
constexpr uint64_t leaf_address_mask(PageSize size) {
  return kPhysAddrMask & ~((uint64_t{1} << static_cast<unsigned>(size)) - 1);
}

// One entry at any level. Bits 0-6 and 8 mean the same thing everywhere;
// bit 7 is PS in a PDPTE or PDE, PAT in a 4 KiB PTE, and reserved in a
// PML5E and PML4E. [intel/vol3]: tables 4-14 to 4-20.
class Pte {
 public:
  constexpr Pte() = default;
  constexpr explicit Pte(uint64_t raw) : raw_(raw) {}
  constexpr uint64_t raw() const { return raw_; }

  constexpr bool present() const { return bit(0); }   // P
  constexpr bool writable() const { return bit(1); }  // R/W
  constexpr bool user() const { return bit(2); }      // U/S
  constexpr bool pwt() const { return bit(3); }       // page-level write-through
  constexpr bool pcd() const { return bit(4); }       // page-level cache disable
  constexpr bool accessed() const { return bit(5); }  // A
  constexpr bool dirty() const { return bit(6); }     // D, leaves only
  constexpr bool ps() const { return bit(7); }        // page size, PDPTE and PDE
  constexpr bool global() const { return bit(8); }    // G, leaves only, with CR4.PGE
  constexpr bool nx() const { return bit(63); }       // XD, needs EFER.NXE

  constexpr Pte& set_present(bool v) { return set(0, v); }
  constexpr Pte& set_writable(bool v) { return set(1, v); }
  constexpr Pte& set_user(bool v) { return set(2, v); }
  constexpr Pte& set_pwt(bool v) { return set(3, v); }
  constexpr Pte& set_pcd(bool v) { return set(4, v); }
  constexpr Pte& set_accessed(bool v) { return set(5, v); }
  constexpr Pte& set_dirty(bool v) { return set(6, v); }
  constexpr Pte& set_ps(bool v) { return set(7, v); }
  constexpr Pte& set_global(bool v) { return set(8, v); }
  constexpr Pte& set_nx(bool v) { return set(63, v); }

  // The next-level table, or the 4 KiB page of a PTE.
  constexpr uint64_t table_address() const { return raw_ & kPhysAddrMask; }
  constexpr Pte& set_table_address(uint64_t pa) {
    raw_ = (raw_ & ~kPhysAddrMask) | (pa & kPhysAddrMask);
    return *this;
  }

  // The page a leaf maps. Bits below the page size are not address bits
  // (PAT, reserved), so they are left alone.
  constexpr uint64_t leaf_address(PageSize size) const { return raw_ & leaf_address_mask(size); }
  constexpr Pte& set_leaf_address(PageSize size, uint64_t pa) {
    const uint64_t mask = leaf_address_mask(size);
    raw_ = (raw_ & ~mask) | (pa & mask);
    return *this;
  }

  friend constexpr bool operator==(Pte, Pte) = default;

 private:
  constexpr bool bit(unsigned n) const { return (raw_ >> n) & 1; }
  constexpr Pte& set(unsigned n, bool v) {
    raw_ = (raw_ & ~(uint64_t{1} << n)) | (uint64_t{v} << n);
    return *this;
  }

  uint64_t raw_ = 0;
};

static_assert(sizeof(Pte) == 8, "a table is 512 raw 8-byte entries");

}  // namespace charon::x86
