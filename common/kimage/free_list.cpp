// The free list: sorted, disjoint, page-granular ranges in a fixed array.
#include <charon/align.h>
#include <charon/kimage/free_list.h>

namespace charon::kimage {

void FreeList::insert_at(size_t i, Range r) {
  for (size_t k = n_; k > i; --k) r_[k] = r_[k - 1];
  r_[i] = r;
  ++n_;
}

void FreeList::erase_at(size_t i) {
  for (size_t k = i; k + 1 < n_; ++k) r_[k] = r_[k + 1];
  --n_;
}

Status FreeList::add(uint64_t start, uint64_t end) {
  if (start > UINT64_MAX - (kPageSize - 1)) return Status::kOk;
  start = align_up(start, kPageSize);
  end = align_down(end, kPageSize);
  if (end <= start) return Status::kOk;
  // Merge with every range it overlaps or touches, then insert in order.
  size_t i = 0;
  while (i < n_ && r_[i].end < start) ++i;
  while (i < n_ && r_[i].start <= end) {
    if (r_[i].start < start) start = r_[i].start;
    if (r_[i].end > end) end = r_[i].end;
    erase_at(i);
  }
  if (n_ >= kCapacity) return Status::kTooManyRanges;
  insert_at(i, {start, end});
  return Status::kOk;
}

bool FreeList::take(uint64_t size, uint64_t align, uint64_t min, uint64_t max_end, bool high,
                    uint64_t& out) {
  if (size == 0 || !is_pow2(align)) return false;
  bool found = false;
  uint64_t best = 0;
  for (size_t i = 0; i < n_; ++i) {
    const uint64_t lo = r_[i].start > min ? r_[i].start : min;
    const uint64_t hi = r_[i].end < max_end ? r_[i].end : max_end;
    if (hi <= lo || hi - lo < size) continue;
    if (high) {
      const uint64_t a = align_down(hi - size, align);
      if (a >= lo && (!found || a > best)) best = a, found = true;
    } else {
      if (lo > UINT64_MAX - (align - 1)) continue;
      const uint64_t a = align_up(lo, align);
      if (a < hi && hi - a >= size) {
        best = a, found = true;
        break;  // sorted: the first fit is the lowest
      }
    }
  }
  if (!found) return false;
  carve(best, best + size);
  out = best;
  return true;
}

bool FreeList::take_at(uint64_t addr, uint64_t size) {
  if (size == 0 || addr > UINT64_MAX - size) return false;
  for (size_t i = 0; i < n_; ++i) {
    if (r_[i].start <= addr && addr + size <= r_[i].end) {
      carve(addr, addr + size);
      return true;
    }
  }
  return false;
}

void FreeList::carve(uint64_t s, uint64_t e) {
  for (size_t i = 0; i < n_; ++i) {
    const Range r = r_[i];
    if (s < r.start || e > r.end) continue;
    if (r.start == s && r.end == e) {
      erase_at(i);
    } else if (r.start == s) {
      r_[i].start = e;
    } else if (r.end == e) {
      r_[i].end = s;
    } else {
      // A split: kSplitRoom keeps space for it even in a full list.
      r_[i].end = s;
      insert_at(i + 1, {e, r.end});
    }
    return;
  }
}

void FreeList::give_back(uint64_t s, uint64_t e) {
  size_t j = 0;
  while (j < n_ && r_[j].start < s) ++j;
  if (j > 0 && r_[j - 1].end == s) {
    r_[j - 1].end = e;
    if (j < n_ && r_[j].start == e) {
      r_[j - 1].end = r_[j].end;
      erase_at(j);
    }
    return;
  }
  if (j < n_ && r_[j].start == e) {
    r_[j].start = s;
    return;
  }
  insert_at(j, {s, e});
}

bool FreeList::has_free_above(uint64_t addr, uint64_t size) const {
  for (size_t i = 0; i < n_; ++i) {
    const uint64_t lo = r_[i].start > addr ? r_[i].start : addr;
    if (r_[i].end > lo && r_[i].end - lo >= size) return true;
  }
  return false;
}

uint64_t FreeList::total() const {
  uint64_t t = 0;
  for (size_t i = 0; i < n_; ++i) t += r_[i].size();
  return t;
}

}  // namespace charon::kimage
