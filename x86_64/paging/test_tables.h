// Test-side page tables: a guarded host arena, and an MMU-like walker
// that shares nothing with the builder but the entry layout (paging.h).
// [intel/vol3]: 4.5.
#pragma once
#include <charon/x86/identity_map.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

namespace charon::x86::walker {

// A host buffer standing in for physical memory at `phys_base`, with guard
// pages filled with a pattern on both sides to catch stray writes.
class HostArena {
 public:
  static constexpr size_t kGuardPages = 2;
  static constexpr uint8_t kPattern = 0xA5;

  explicit HostArena(size_t pages, uint64_t phys_base = 0x1'2340'0000)
      : bytes_((pages + 2 * kGuardPages) * kPageSize),
        buf_(static_cast<uint8_t*>(std::aligned_alloc(kPageSize, bytes_)), &std::free) {
    // The pattern also covers the arena itself: alloc() must zero pages.
    std::fill_n(buf_.get(), bytes_, kPattern);
    arena = {phys_base, buf_.get() + kGuardPages * kPageSize, pages, 0};
  }

  bool guards_intact() const {
    const size_t guard = kGuardPages * kPageSize;
    for (size_t i = 0; i < guard; ++i)
      if (buf_.get()[i] != kPattern || buf_.get()[bytes_ - 1 - i] != kPattern) return false;
    return true;
  }

  std::vector<uint8_t> snapshot() const { return {buf_.get(), buf_.get() + bytes_}; }

  TableArena arena;

 private:
  size_t bytes_;
  std::unique_ptr<uint8_t, decltype(&std::free)> buf_;
};

// What the MMU would find for one linear address.
struct Walk {
  bool present = false;
  uint64_t phys = 0;
  unsigned leaf_shift = 0;  // 12, 21 or 30
};

// Walks from `root` through 5 or 4 levels. Every entry on the way must point
// into the arena, be writable and supervisor-only, have NX clear, and have
// PS only where the manual allows it (PDPTE, PDE).
inline Walk walk(const TableArena& arena, uint64_t root, bool la57, uint64_t va) {
  uint64_t table = root;
  for (unsigned shift = la57 ? kPml5Shift : kPml4Shift; shift >= kPtShift; shift -= 9) {
    const auto* entries = static_cast<const Pte*>(arena.to_virt(table));
    if (entries == nullptr) {
      ADD_FAILURE() << "table " << std::hex << table << " lies outside the arena";
      return {};
    }
    const Pte e = entries[table_index(va, shift)];
    if (!e.present()) return {};
    EXPECT_TRUE(e.writable());
    EXPECT_FALSE(e.user());
    EXPECT_FALSE(e.nx());
    if (e.ps()) {
      if (shift != kPdShift && shift != kPdptShift) {
        ADD_FAILURE() << "PS set at the level of shift " << shift;
        return {};
      }
      const auto size = static_cast<PageSize>(shift);
      return {true, e.leaf_address(size) | (va & ((uint64_t{1} << shift) - 1)), shift};
    }
    if (shift == kPtShift) return {true, e.table_address() | (va & (kPageSize - 1)), kPtShift};
    table = e.table_address();
  }
  return {};
}

// Calls `leaf(va, shift)` for every present leaf, in address order, and
// checks every entry on the way as walk() does.
inline void for_each_leaf(const TableArena& arena, uint64_t root, bool la57,
                          const std::function<void(uint64_t, unsigned)>& leaf) {
  std::function<void(uint64_t, unsigned, uint64_t)> visit = [&](uint64_t table, unsigned shift,
                                                                uint64_t base) {
    const auto* entries = static_cast<const Pte*>(arena.to_virt(table));
    if (entries == nullptr) return ADD_FAILURE() << "table " << std::hex << table << " outside";
    for (size_t i = 0; i < kEntriesPerTable; ++i) {
      const Pte e = entries[i];
      if (!e.present()) continue;
      const uint64_t va = base + (uint64_t{i} << shift);
      EXPECT_TRUE(e.writable());
      EXPECT_FALSE(e.user() || e.nx());
      if (shift == kPtShift) {
        EXPECT_EQ(e.table_address(), va) << "4 KiB page not 1:1";
        leaf(va, shift);
      } else if (e.ps()) {
        ASSERT_TRUE(shift == kPdShift || shift == kPdptShift) << "PS at shift " << shift;
        EXPECT_EQ(e.leaf_address(static_cast<PageSize>(shift)), va) << "leaf not 1:1";
        leaf(va, shift);
      } else {
        visit(e.table_address(), shift - 9, va);
      }
    }
  };
  visit(root, la57 ? kPml5Shift : kPml4Shift, 0);
}

}  // namespace charon::x86::walker
