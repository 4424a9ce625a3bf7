// Indirection lists: builder, the trampoline's walk in C++, validator and
// identity-map planning. Freestanding: see the header.
#include <charon/loader/indirection.h>
#include <charon/mem.h>

namespace charon::loader {
namespace {

constexpr uint64_t kPageSize = kIndPageSize;

uint64_t load64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end) {
  return a < b_end && b < a_end;
}

uint8_t* identity_map(void*, uint64_t phys, uint64_t) {
  return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(phys));
}

}  // namespace

const char* ind_status_name(IndStatus s) {
  switch (s) {
    case IndStatus::Ok:
      return "ok";
    case IndStatus::OutOfListPages:
      return "the list needs more pages than it was given";
    case IndStatus::Misaligned:
      return "an address is not page-aligned";
    case IndStatus::BadRange:
      return "an empty or wrapping range";
    case IndStatus::BadFlags:
      return "an entry without exactly one IND_* flag";
    case IndStatus::NoDestination:
      return "a source or zero page before any IND_DESTINATION";
    case IndStatus::NoDone:
      return "no IND_DONE within the entry bound";
    case IndStatus::Loop:
      return "the IND_INDIRECTION chain loops";
    case IndStatus::RunsOffPage:
      return "a list page ends without IND_INDIRECTION or IND_DONE";
    case IndStatus::Unreadable:
      return "a list page is outside the memory given";
    case IndStatus::HitsControlPage:
      return "the control page is used by the list";
    case IndStatus::HitsKeptRange:
      return "a destination overwrites a range that must survive";
    case IndStatus::HitsListPage:
      return "a destination overwrites a list page";
    case IndStatus::SourceClobbered:
      return "a source page is overwritten before it is read";
    case IndStatus::TooManyRuns:
      return "more destination runs than the validator has room for";
    case IndStatus::MapFailed:
      return "the identity map ran out of table pages";
    case IndStatus::Finished:
      return "an entry after IND_DONE";
  }
  return "unknown";
}

PhysWindow identity_window() {
  return {nullptr, identity_map};
}

// ---- builder ---------------------------------------------------------------

IndStatus IndirectionBuilder::put(uint64_t entry) {
  if (done_) return IndStatus::Finished;
  if (arena_.pages == 0) return IndStatus::OutOfListPages;
  // The last slot links to the next page; only DONE may take it instead.
  if (slot_ == kIndEntriesPerPage - 1 && entry != kIndDone) {
    if (page_ + 1 >= arena_.pages) return IndStatus::OutOfListPages;
    arena_.virt[page_ * kIndEntriesPerPage + slot_] =
        (arena_.phys_base + (page_ + 1) * kPageSize) | kIndIndirection;
    ++page_, ++entries_;
    slot_ = 0;
  }
  arena_.virt[page_ * kIndEntriesPerPage + slot_++] = entry;
  ++entries_;
  return IndStatus::Ok;
}

IndStatus IndirectionBuilder::pages(uint64_t dst, uint64_t src, uint64_t bytes, uint64_t flag) {
  if (done_) return IndStatus::Finished;
  if ((dst | src) % kPageSize != 0 || arena_.phys_base % kPageSize != 0)
    return IndStatus::Misaligned;
  const uint64_t n = bytes / kPageSize + (bytes % kPageSize != 0);
  if (n == 0 || dst + n * kPageSize < dst || src + n * kPageSize < src) return IndStatus::BadRange;
  if (dst != next_dst_)
    if (IndStatus s = put(dst | kIndDestination); s != IndStatus::Ok) return s;
  for (uint64_t i = 0; i < n; ++i)
    if (IndStatus s = put(flag == kIndSource ? (src + i * kPageSize) | kIndSource : kIndZero);
        s != IndStatus::Ok)
      return s;
  next_dst_ = dst + n * kPageSize;
  return IndStatus::Ok;
}

IndStatus IndirectionBuilder::copy(uint64_t dst, uint64_t src, uint64_t bytes) {
  return pages(dst, src, bytes, kIndSource);
}

IndStatus IndirectionBuilder::zero(uint64_t dst, uint64_t bytes) {
  return pages(dst, 0, bytes, kIndZero);
}

IndStatus IndirectionBuilder::finish() {
  if (IndStatus s = put(kIndDone); s != IndStatus::Ok) return s;
  done_ = true;
  return IndStatus::Ok;
}

// ---- the walk --------------------------------------------------------------

IndStatus walk_list(uint64_t head, PhysWindow mem, size_t max_entries, const WalkVisitor& v) {
  uint64_t entry = head, ptr = 0, dst = 0;
  for (size_t index = 0;; ++index) {
    if (index >= max_entries) return IndStatus::NoDone;
    if (entry & kIndDestination) {
      dst = entry & kIndAddrMask;
    } else if (entry & kIndIndirection) {
      ptr = entry & kIndAddrMask;
      if (v.list_page) v.list_page(v.ctx, ptr, index);
    } else if (entry & kIndDone) {
      return IndStatus::Ok;
    } else if (entry & (kIndSource | kIndZero)) {
      const bool zero = !(entry & kIndSource);
      if (v.op) v.op(v.ctx, {dst, zero ? 0 : entry & kIndAddrMask, zero, index});
      dst += kPageSize;
    }
    const uint8_t* word = mem.map(mem.ctx, ptr, 8);
    if (!word) return IndStatus::Unreadable;
    entry = load64(word);
    ptr += 8;
  }
}

namespace {

struct ModelState {
  PhysWindow mem;
  bool unreachable;
};

void model_op(void* ctx, const PageOp& op) {
  auto& st = *static_cast<ModelState*>(ctx);
  uint8_t* dst = st.mem.map(st.mem.ctx, op.dst, kPageSize);
  const uint8_t* src = op.zero ? nullptr : st.mem.map(st.mem.ctx, op.src, kPageSize);
  if (!dst || (!op.zero && !src)) {
    st.unreachable = true;
  } else if (op.zero) {
    mem_fill(dst, 0, kPageSize);
  } else {
    mem_move(dst, src, kPageSize);  // whole pages: the same page or disjoint
  }
}

}  // namespace

IndStatus relocate_model(uint64_t head, PhysWindow mem, size_t max_entries) {
  ModelState st{mem, false};
  const IndStatus s = walk_list(head, mem, max_entries, {&st, model_op, nullptr});
  if (s != IndStatus::Ok) return s;
  return st.unreachable ? IndStatus::Unreadable : IndStatus::Ok;
}

// ---- validation ------------------------------------------------------------

namespace {

bool one_flag(uint64_t flags) {
  return flags != 0 && (flags & (flags - 1)) == 0;
}

// Pass 1: the list's shape, entry by entry, as the walk would read it.
ValidateResult check_shape(uint64_t head, PhysWindow mem, const ValidateLimits& l) {
  uint64_t entry = head, ptr = 0;
  bool have_dst = false, fresh = true;
  // Brent's cycle detection over the chain of list pages: the next page
  // depends only on the current one, so a repeat means a loop.
  uint64_t saved = ~uint64_t{0};
  size_t power = 1, lambda = 0;
  for (size_t index = 0;; ++index) {
    if (index >= l.max_entries) return {IndStatus::NoDone, index, ptr};
    const uint64_t flags = entry & kIndFlags, addr = entry & kIndAddrMask;
    if (entry & (kIndPageSize - 1) & ~kIndFlags) return {IndStatus::Misaligned, index, entry};
    if (!one_flag(flags) || (index == 0 && !(flags & (kIndIndirection | kIndDone))))
      return {IndStatus::BadFlags, index, entry};
    if (flags == kIndDone) return {IndStatus::Ok, index, 0};
    if (flags == kIndDestination) have_dst = true;
    if ((flags == kIndSource || flags == kIndZero) && !have_dst)
      return {IndStatus::NoDestination, index, addr};
    if (flags == kIndIndirection) {
      if (addr == l.control_page) return {IndStatus::HitsControlPage, index, addr};
      if (addr == saved) return {IndStatus::Loop, index, addr};
      if (++lambda == power) saved = addr, power *= 2, lambda = 0;
      ptr = addr;
      fresh = true;
    } else if (!fresh && ptr % kPageSize == 0) {
      return {IndStatus::RunsOffPage, index, ptr};
    }
    const uint8_t* word = mem.map(mem.ctx, ptr, 8);
    if (!word) return {IndStatus::Unreadable, index + 1, ptr};
    entry = load64(word);
    ptr += 8;
    fresh = false;
  }
}

struct Hazards {
  const ValidateLimits* l;
  ValidateResult first;
  size_t nruns;
};

void fail(Hazards& h, IndStatus s, size_t index, uint64_t addr) {
  if (h.first.status == IndStatus::Ok) h.first = {s, index, addr};
}

// Pass 2: every page operation against the control page, the kept ranges
// and the destinations written before it.
void check_op(void* ctx, const PageOp& op) {
  auto& h = *static_cast<Hazards*>(ctx);
  const ValidateLimits& l = *h.l;
  if (op.dst == l.control_page) return fail(h, IndStatus::HitsControlPage, op.index, op.dst);
  for (size_t i = 0; i < l.nkeep; ++i)
    if (overlaps(op.dst, op.dst + kPageSize, l.keep[i].start, l.keep[i].start + l.keep[i].len))
      return fail(h, IndStatus::HitsKeptRange, op.index, op.dst);
  if (!op.zero) {
    if (op.src == l.control_page) return fail(h, IndStatus::HitsControlPage, op.index, op.src);
    for (size_t i = 0; i < h.nruns; ++i)
      if (overlaps(op.src, op.src + kPageSize, l.runs[i].start, l.runs[i].end))
        return fail(h, IndStatus::SourceClobbered, op.index, op.src);
  }
  if (h.nruns > 0 && l.runs[h.nruns - 1].end == op.dst) {
    l.runs[h.nruns - 1].end += kPageSize;
  } else if (h.nruns < l.max_runs) {
    l.runs[h.nruns++] = {op.dst, op.dst + kPageSize};
  } else {
    fail(h, IndStatus::TooManyRuns, op.index, op.dst);
  }
}

void check_list_page(void* ctx, uint64_t page, size_t index) {
  auto& h = *static_cast<Hazards*>(ctx);
  for (size_t i = 0; i < h.nruns; ++i)
    if (overlaps(page, page + kPageSize, h.l->runs[i].start, h.l->runs[i].end))
      return fail(h, IndStatus::HitsListPage, index, page);
}

}  // namespace

ValidateResult validate_list(uint64_t head, PhysWindow mem, const ValidateLimits& l) {
  const ValidateResult shape = check_shape(head, mem, l);
  if (shape.status != IndStatus::Ok) return shape;
  Hazards h{&l, {IndStatus::Ok, 0, 0}, 0};
  walk_list(head, mem, l.max_entries, {&h, check_op, nullptr});
  if (h.first.status != IndStatus::Ok) return h.first;
  // Now that every destination is known, no list page may be one of them,
  // whether it is written before or after the walk has read it.
  walk_list(head, mem, l.max_entries, {&h, nullptr, check_list_page});
  return h.first;
}

// ---- identity map ----------------------------------------------------------

namespace {

struct MapState {
  x86::IdentityMap* map;
  DestRun dst, src;  // the runs being coalesced
  bool failed;
};

void map_run(MapState& st, DestRun& run, uint64_t page) {
  if (run.end == page && run.end != run.start) {
    run.end += kPageSize;
    return;
  }
  if (run.end != run.start && st.map->map(run.start, run.end) != x86::MapStatus::Ok)
    st.failed = true;
  run = {page, page + kPageSize};
}

void map_op(void* ctx, const PageOp& op) {
  auto& st = *static_cast<MapState*>(ctx);
  map_run(st, st.dst, op.dst);
  if (!op.zero) map_run(st, st.src, op.src);
}

void map_list_page(void* ctx, uint64_t page, size_t) {
  auto& st = *static_cast<MapState*>(ctx);
  if (st.map->map(page, page + kPageSize) != x86::MapStatus::Ok) st.failed = true;
}

}  // namespace

IndStatus map_relocation(x86::IdentityMap& map, uint64_t head, PhysWindow mem, size_t max_entries) {
  MapState st{&map, {0, 0}, {0, 0}, false};
  const IndStatus s = walk_list(head, mem, max_entries, {&st, map_op, map_list_page});
  if (s != IndStatus::Ok) return s;
  map_run(st, st.dst, 0);  // flush both runs
  map_run(st, st.src, 0);
  return st.failed ? IndStatus::MapFailed : IndStatus::Ok;
}

}  // namespace charon::loader
