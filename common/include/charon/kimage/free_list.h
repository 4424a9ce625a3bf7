// Free physical memory as a sorted list of disjoint ranges with a fixed
// capacity, carved as segments are placed. No heap: charon.efi and the
// hosted loader share it, and so do the fuzzers.
#pragma once
#include <charon/kimage/status.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::kimage {

struct Range {
  uint64_t start, end;  // [start, end)
  uint64_t size() const { return end - start; }
  bool empty() const { return end <= start; }
};

class FreeList {
 public:
  // A carve may split one range in two, so the list keeps room for the
  // splits that placing every segment can cause.
  static constexpr size_t kCapacity = 1024;
  static constexpr size_t kSplitRoom = 16;

  // Adds [start, end) rounded inward to pages; overlapping or touching
  // ranges merge. kTooManyRanges when the list is full.
  Status add(uint64_t start, uint64_t end);
  // The lowest or highest `align`-aligned block of `size` bytes inside
  // [min, max_end), carved out; false when none fits.
  bool take(uint64_t size, uint64_t align, uint64_t min, uint64_t max_end, bool high,
            uint64_t& out);
  // Exactly [addr, addr + size), if all of it is free.
  bool take_at(uint64_t addr, uint64_t size);
  // Returns a block that take() gave out.
  void give_back(uint64_t start, uint64_t end);
  bool has_free_above(uint64_t addr, uint64_t size) const;
  uint64_t total() const;

  size_t count() const { return n_; }
  const Range& operator[](size_t i) const { return r_[i]; }

 private:
  void carve(uint64_t start, uint64_t end);
  void insert_at(size_t i, Range r);
  void erase_at(size_t i);
  Range r_[kCapacity + kSplitRoom];
  size_t n_ = 0;
};

}  // namespace charon::kimage
