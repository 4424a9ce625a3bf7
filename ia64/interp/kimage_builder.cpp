#include "interp/kimage_builder.h"

#include "ia64/control_abi.h"

namespace charon::ia64 {

// Mirrors kimage_add_entry: the last slot of every indirection page is
// kept for the link to the next page, and the slot after the newest entry
// is always zeroed.
bool KimageBuilder::add_entry(uint64_t entry) {
  if (load(entry_) != 0) entry_ += 8;
  if (entry_ == last_entry_) {
    const uint64_t page = pages_.take();
    if (page == 0) return false;
    for (uint64_t off = 0; off < page_size_; off += 8) mem_.write64(page + off, 0);
    store(entry_, page | IA64_IND_INDIRECTION);
    ind_pages_.push_back(page);
    entry_ = page;
    last_entry_ = page + page_size_ - 8;
  }
  store(entry_, entry);
  entry_ += 8;
  store(entry_, 0);
  return true;
}

bool KimageBuilder::set_destination(uint64_t destination) {
  return add_entry((destination & ~(page_size_ - 1)) | IA64_IND_DESTINATION);
}

bool KimageBuilder::add_page(uint64_t source) {
  return add_entry((source & ~(page_size_ - 1)) | IA64_IND_SOURCE);
}

bool KimageBuilder::terminate() {
  if (load(entry_) != 0) entry_ += 8;
  store(entry_, IA64_IND_DONE);
  return true;
}

}  // namespace charon::ia64
