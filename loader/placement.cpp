// Placement. The allocator is first-fit over sorted free ranges; the
// planner calls it in order of how constrained each segment is.
#include <charon/loader/placement.h>

#include <algorithm>

namespace charon::loader {

RangeAllocator::RangeAllocator(std::vector<Range> free) : free_(std::move(free)) {
  std::sort(free_.begin(), free_.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
}

std::optional<uint64_t> RangeAllocator::take(uint64_t size, uint64_t align, uint64_t min,
                                             uint64_t max_end, Prefer prefer) {
  if (size == 0 || align == 0 || (align & (align - 1)) != 0) return std::nullopt;
  std::optional<uint64_t> best;
  for (const Range& r : free_) {
    const uint64_t lo = std::max(r.start, min);
    const uint64_t hi = std::min(r.end, max_end);
    if (hi <= lo || hi - lo < size) continue;
    // Lowest fit: round lo up. Highest fit: round (hi - size) down.
    if (prefer == Prefer::kLow) {
      if (lo > UINT64_MAX - (align - 1)) continue;
      const uint64_t a = align_up(lo, align);
      if (a < hi && hi - a >= size) {
        best = a;
        break;
      }
    } else {
      const uint64_t a = align_down(hi - size, align);
      if (a >= lo && (!best || a > *best)) best = a;
    }
  }
  if (best) carve(*best, size);
  return best;
}

bool RangeAllocator::take_at(uint64_t addr, uint64_t size) {
  if (size == 0 || addr > UINT64_MAX - size) return false;
  for (const Range& r : free_) {
    if (r.start <= addr && addr + size <= r.end) {
      carve(addr, size);
      return true;
    }
  }
  return false;
}

bool RangeAllocator::has_free_above(uint64_t addr, uint64_t size) const {
  for (const Range& r : free_) {
    const uint64_t lo = std::max(r.start, addr);
    if (r.end > lo && r.end - lo >= size) return true;
  }
  return false;
}

void RangeAllocator::carve(uint64_t addr, uint64_t size) {
  for (size_t i = 0; i < free_.size(); ++i) {
    Range r = free_[i];
    if (addr < r.start || addr + size > r.end) continue;
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
    if (addr + size < r.end)
      free_.insert(free_.begin() + static_cast<std::ptrdiff_t>(i), {addr + size, r.end});
    if (r.start < addr)
      free_.insert(free_.begin() + static_cast<std::ptrdiff_t>(i), {r.start, addr});
    return;
  }
}

std::vector<Range> subtract_ranges(std::vector<Range> from, const std::vector<Range>& holes) {
  for (const Range& h : holes) {
    std::vector<Range> next;
    for (const Range& r : from) {
      if (h.end <= r.start || h.start >= r.end) {
        next.push_back(r);
        continue;
      }
      if (r.start < h.start) next.push_back({r.start, h.start});
      if (h.end < r.end) next.push_back({h.end, r.end});
    }
    from = std::move(next);
  }
  return from;
}

std::vector<Range> usable_ram(const std::vector<MemRange>& map) {
  std::vector<Range> out;
  for (const MemRange& m : map) {
    if (m.type != E820Type::kRam) continue;
    const uint64_t s = align_up(std::max(m.start, k1M), kPage);
    const uint64_t e = align_down(m.end, kPage);
    if (e > s) out.push_back({s, e});
  }
  return out;
}

std::vector<Range> usable_crash(const std::vector<MemRange>& crash) {
  std::vector<Range> out;
  for (const MemRange& m : crash) {
    const uint64_t s = align_up(std::max(m.start, k1M), kPage);
    const uint64_t e = align_down(m.end, kPage);
    if (e > s) out.push_back({s, e});
  }
  return out;
}

namespace {

unsigned long long ull(uint64_t v) {
  return v;
}

Error no_fit(const char* what, uint64_t size, uint64_t limit) {
  if (limit == UINT64_MAX)
    return fail("no room for the %s: no free RAM block of 0x%llx bytes (segments do not fit)", what,
                ull(size));
  return fail(
      "no room for the %s: no free RAM block of 0x%llx bytes below 0x%llx (segments "
      "do not fit)",
      what, ull(size), ull(limit));
}

}  // namespace

Result<Plan> plan_layout(const PlanInput& in) {
  const BzImage& k = in.kernel;
  const bool is32 = in.mode == EntryMode::k32;
  // The whole init_size range is the kernel's from its load address on
  // (boot.rst, init_size), so that is what gets reserved.
  const uint64_t kernel_size = align_up(std::max<uint64_t>(k.init_size, k.payload_size), kPage);
  const uint64_t initrd_size = align_up(in.initrd_size, kPage);
  const uint64_t setup_size = align_up(in.setup_size, kPage);
  const uint64_t purg_size = align_up(in.purgatory_size, kPage);
  if (setup_size == 0 || purg_size == 0) return fail("placement: empty setup or purgatory");
  if (in.purgatory_align > kPage || (in.purgatory_align & (in.purgatory_align - 1)) != 0) {
    return fail("purgatory: section alignment 0x%llx is above the page size",
                ull(in.purgatory_align));
  }

  RangeAllocator alloc(in.usable);
  Plan plan{};
  const uint64_t align = k.kernel_alignment;

  // ---- kernel
  // 32-bit: the whole [load, load + init_size) below 4 GiB. 64-bit with
  // XLF_CAN_BE_LOADED_ABOVE_4G: above 4 GiB when there is RAM there, which
  // leaves low memory to firmware and devices and proves the kernel copes.
  const uint64_t kernel_limit = (is32 || !k.above_4g) ? k4G : UINT64_MAX;
  std::optional<uint64_t> kaddr;
  if (!is32 && k.above_4g && alloc.has_free_above(k4G, kernel_size))
    kaddr = alloc.take(kernel_size, align, k4G, UINT64_MAX, Prefer::kLow);
  if (!kaddr && k.pref_address % align == 0 && k.pref_address >= k1M &&
      k.pref_address <= kernel_limit - kernel_size && alloc.take_at(k.pref_address, kernel_size))
    kaddr = k.pref_address;
  if (!kaddr) kaddr = alloc.take(kernel_size, align, k1M, kernel_limit, Prefer::kLow);
  if (!kaddr) {
    if (is32)
      return fail(
          "no room for the kernel below 4 GiB: the 32-bit protocol needs its whole "
          "init_size (0x%llx bytes, aligned to 0x%llx) below 4 GiB (segments do not "
          "fit)",
          ull(kernel_size), ull(align));
    return fail(
        "no room for the kernel: no free RAM block of init_size 0x%llx bytes aligned "
        "to 0x%llx (segments do not fit)",
        ull(kernel_size), ull(align));
  }
  plan.kernel = {*kaddr, *kaddr + kernel_size};

  // ---- initrd: as high as allowed (boot.rst: "the initrd should be loaded
  // as high in memory as possible"), below initrd_addr_max unless the
  // kernel takes it above 4 GiB.
  if (initrd_size) {
    const uint64_t limit = (!is32 && k.above_4g)
                               ? UINT64_MAX
                               : std::min<uint64_t>(uint64_t{k.initrd_addr_max} + 1, k4G);
    auto a = alloc.take(initrd_size, kPage, k1M, limit, Prefer::kHigh);
    if (!a) {
      if (is32)
        return fail(
            "no room for the initrd (0x%llx bytes) below initrd_addr_max 0x%x: the "
            "32-bit protocol cannot take it above 4 GiB (segments do not fit)",
            ull(initrd_size), k.initrd_addr_max);
      return no_fit("initrd", initrd_size, limit);
    }
    plan.initrd = {*a, *a + initrd_size};
  }

  // ---- boot_params and the command line: cmd_line_ptr is 32 bits.
  auto s = alloc.take(setup_size, kPage, k1M, k4G, Prefer::kLow);
  if (!s) return no_fit("boot_params and command line", setup_size, k4G);
  plan.setup = {*s, *s + setup_size};

  // ---- purgatory: below 2 GiB if it can be (see purgatory_max_end).
  auto p = alloc.take(purg_size, kPage, k1M, k2G, Prefer::kHigh);
  const uint64_t purg_limit = std::min(std::max(in.purgatory_max_end, k2G), k4G);
  if (!p && purg_limit > k2G) p = alloc.take(purg_size, kPage, k2G, purg_limit, Prefer::kLow);
  if (!p) return no_fit("purgatory", purg_size, purg_limit);
  plan.purgatory = {*p, *p + purg_size};

  // ---- crash extras: the backup area and the elfcorehdr.
  const uint64_t high_limit = is32 ? k4G : UINT64_MAX;
  if (in.backup_size) {
    const uint64_t size = align_up(in.backup_size, kPage);
    auto b = alloc.take(size, kPage, k1M, high_limit, Prefer::kHigh);
    if (!b) return no_fit("backup of low memory", size, high_limit);
    plan.backup = {*b, *b + size};
  }
  if (in.elfcorehdr_size) {
    const uint64_t size = align_up(in.elfcorehdr_size, kPage);
    auto e = alloc.take(size, kPage, k1M, high_limit, Prefer::kHigh);
    if (!e) return no_fit("ELF core header", size, high_limit);
    plan.elfcorehdr = {*e, *e + size};
  }

  // ---- page-table scratch, below 4 GiB: sized for every range the
  // purgatory maps, the scratch itself included. A first guess is placed,
  // then checked once more with its own range added.
  // The purgatory also maps cmdline_size bytes of command line from
  // cmd_line_ptr, which may reach past the setup segment's last page.
  const uint64_t cmdline = plan.setup.start + sizeof(boot_params);
  std::vector<Range> mapped = {{0, in.idmap_limit},
                               plan.kernel,
                               plan.setup,
                               plan.purgatory,
                               {cmdline, cmdline + k.cmdline_max + 1}};
  if (initrd_size) mapped.push_back(plan.initrd);
  if (in.backup_size) {
    mapped.push_back(plan.backup);
    mapped.push_back({in.backup_src, in.backup_src + in.backup_size});
  }
  if (in.elfcorehdr_size) mapped.push_back(plan.elfcorehdr);
  uint64_t need = align_up(in.scratch_bytes ? in.scratch_bytes(mapped) : kPage, kPage);
  for (int attempt = 0; attempt < 4; ++attempt) {
    RangeAllocator trial = alloc;
    auto sc = trial.take(need, kPage, k1M, k4G, Prefer::kHigh);
    if (!sc) return no_fit("page-table scratch", need, k4G);
    std::vector<Range> with = mapped;
    with.push_back({*sc, *sc + need});
    const uint64_t again = align_up(in.scratch_bytes ? in.scratch_bytes(with) : kPage, kPage);
    if (again <= need) {
      alloc = trial;
      plan.scratch = {*sc, *sc + need};
      return plan;
    }
    need = again;
  }
  return fail("page-table scratch: size did not settle");
}

}  // namespace charon::loader
