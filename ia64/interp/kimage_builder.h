// Builds a kexec indirection list in simulated memory the way Linux does
// (kernel/kexec_core.c: kimage_add_entry, kimage_set_destination,
// kimage_add_page, kimage_terminate), so that the control block is run on
// exactly the structure it will meet.
#pragma once

#include <cstdint>
#include <vector>

#include "interp/memory.h"

namespace charon::ia64 {

// Hands out pages from [next, limit) of simulated memory.
class PageAllocator {
 public:
  PageAllocator(uint64_t first, uint64_t limit, uint64_t page_size)
      : next_(first), limit_(limit), page_size_(page_size) {}
  // Zero when the range is used up; callers treat that as a test bug.
  uint64_t take() {
    if (limit_ - next_ < page_size_) return 0;
    const uint64_t p = next_;
    next_ += page_size_;
    return p;
  }

 private:
  uint64_t next_, limit_, page_size_;
};

class KimageBuilder {
 public:
  KimageBuilder(Memory& memory, PageAllocator& pages, uint64_t page_size)
      : mem_(memory), pages_(pages), page_size_(page_size) {}

  bool set_destination(uint64_t destination);
  bool add_page(uint64_t source);
  bool terminate();

  // The value Linux passes as relocate_new_kernel's first argument.
  uint64_t head() const { return head_; }
  const std::vector<uint64_t>& indirection_pages() const { return ind_pages_; }

 private:
  bool add_entry(uint64_t entry);
  uint64_t load(uint64_t slot) const { return slot == 0 ? head_ : mem_.read64(slot); }
  void store(uint64_t slot, uint64_t v) {
    if (slot == 0) {
      head_ = v;
    } else {
      mem_.write64(slot, v);
    }
  }

  Memory& mem_;
  PageAllocator& pages_;
  uint64_t page_size_;
  uint64_t head_ = 0;
  // Addresses of entry slots in simulated memory; 0 stands for &head.
  uint64_t entry_ = 0, last_entry_ = 0;
  std::vector<uint64_t> ind_pages_;
};

}  // namespace charon::ia64
