#include "layout.h"

#include <charon/x86/identity_map.h>

namespace charon::efi {

namespace {

constexpr uint64_t kPage = 4096;

uint64_t up(uint64_t v, uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}
uint64_t down(uint64_t v, uint64_t a) {
  return v & ~(a - 1);
}

void carve(FreeRange* f, size_t& n, uint64_t s, uint64_t e) {
  for (size_t i = 0; i < n; ++i) {
    if (s < f[i].start || e > f[i].end) continue;
    const FreeRange r = f[i];
    if (r.start == s && r.end == e) {
      for (size_t k = i; k + 1 < n; ++k) f[k] = f[k + 1];
      --n;
    } else if (r.start == s) {
      f[i].start = e;
    } else if (r.end == e) {
      f[i].end = s;
    } else {
      // Split: the caller's array has room for one more (see plan_layout).
      for (size_t k = n; k > i + 1; --k) f[k] = f[k - 1];
      f[i].end = s;
      f[i + 1] = {e, r.end};
      ++n;
    }
    return;
  }
}

// Returns [s, e) to the sorted list, merged with its neighbours.
void give_back(FreeRange* f, size_t& n, uint64_t s, uint64_t e) {
  size_t j = 0;
  while (j < n && f[j].start < s) ++j;
  for (size_t m = n; m > j; --m) f[m] = f[m - 1];
  f[j] = {s, e};
  ++n;
  if (j + 1 < n && f[j].end == f[j + 1].start) {
    f[j].end = f[j + 1].end;
    for (size_t m = j + 1; m + 1 < n; ++m) f[m] = f[m + 1];
    --n;
  }
  if (j > 0 && f[j - 1].end == f[j].start) {
    f[j - 1].end = f[j].end;
    for (size_t m = j; m + 1 < n; ++m) f[m] = f[m + 1];
    --n;
  }
}

// An `align`-aligned block of `size` bytes in [min, max_end), lowest or
// highest; 0 when none fits (address 0 is never handed out: min >= 1 MiB).
uint64_t take(FreeRange* f, size_t& n, uint64_t size, uint64_t align, uint64_t min,
              uint64_t max_end, bool high) {
  uint64_t best = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t lo = f[i].start > min ? f[i].start : min;
    const uint64_t hi = f[i].end < max_end ? f[i].end : max_end;
    if (hi <= lo || hi - lo < size) continue;
    if (high) {
      const uint64_t a = down(hi - size, align);
      if (a >= lo && a > best) best = a;
    } else {
      const uint64_t a = up(lo, align);
      if (a + size <= hi && (best == 0 || a < best)) best = a;
    }
  }
  if (best) carve(f, n, best, best + size);
  return best;
}

}  // namespace

uint64_t place(FreeRange* free, size_t& nfree, uint64_t size, uint64_t align, uint64_t min,
               uint64_t max_end, bool high) {
  return take(free, nfree, up(size, kPage), align < kPage ? kPage : align, min, max_end, high);
}

uint64_t scratch_bytes(const LayoutInput& in, const Layout& l) {
  const uint64_t bp = l.setup.start;
  const uint64_t cmdline = bp + 4096;
  const charon_region ranges[] = {
      {l.purgatory.start, l.purgatory.size()},
      {l.scratch.start, l.scratch.size()},
      {0, in.idmap_limit},
      {l.kernel.start, l.kernel.size()},
      {l.initrd.start, l.initrd.size()},
      {l.setup.start, l.setup.size()},
      {cmdline, in.cmdline_map},
      {in.extra_map_start, in.extra_map_len},
  };
  return x86::scratch_bytes_needed(ranges, sizeof ranges / sizeof ranges[0]);
}

LayoutStatus plan_layout(const LayoutInput& in, FreeRange* free, size_t& n, Layout& out) {
  out = {};
  const uint64_t limit32 = k4G;
  const uint64_t any = in.entry32 ? limit32 : ~uint64_t{0};
  const uint64_t align = in.kernel_align ? in.kernel_align : 2ull << 20;
  const uint64_t ksize = up(in.kernel_size, kPage);
  const uint64_t kmax = in.kernel_above_4g ? any : limit32;
  uint64_t min = in.kernel_pref > (1ull << 20) ? in.kernel_pref : (1ull << 20);
  uint64_t k = take(free, n, ksize, align, min, kmax, false);
  if (!k) k = take(free, n, ksize, align, 1ull << 20, kmax, false);
  if (!k) return LayoutStatus::kNoKernel;
  out.kernel = {k, k + ksize};

  if (in.initrd_size) {
    const uint64_t isize = up(in.initrd_size, kPage);
    const uint64_t imax = in.initrd_max + 1 < limit32 ? in.initrd_max + 1 : limit32;
    const uint64_t i = take(free, n, isize, kPage, 1ull << 20, imax, true);
    if (!i) return LayoutStatus::kNoInitrd;
    out.initrd = {i, i + isize};
  }
  const uint64_t ssize = up(in.setup_size, kPage);
  const uint64_t s = take(free, n, ssize, kPage, 1ull << 20, limit32, true);
  if (!s) return LayoutStatus::kNoSetup;
  out.setup = {s, s + ssize};

  const uint64_t psize = up(in.purgatory_size, kPage);
  const uint64_t p = take(free, n, psize, kPage, 1ull << 20, k2G, true);
  if (!p) return LayoutStatus::kNoPurgatory;
  out.purgatory = {p, p + psize};

  // The scratch maps itself too: size it with a first guess in place,
  // then once more with the real range (the count only grows by what
  // the scratch adds, which a second pass covers).
  out.scratch = {p, p};
  uint64_t need = up(scratch_bytes(in, out), kPage);
  for (int pass = 0; pass < 2; ++pass) {
    const uint64_t sc = take(free, n, need, kPage, 1ull << 20, limit32, true);
    if (!sc) return LayoutStatus::kNoScratch;
    out.scratch = {sc, sc + need};
    const uint64_t again = up(scratch_bytes(in, out), kPage);
    if (again <= need) return LayoutStatus::kOk;
    give_back(free, n, sc, sc + need);  // and try the larger size
    need = again;
  }
  return LayoutStatus::kNoScratch;
}

const char* layout_status_message(LayoutStatus s) {
  switch (s) {
    case LayoutStatus::kOk:
      return "ok";
    case LayoutStatus::kNoKernel:
      return "no free memory for the kernel's init_size";
    case LayoutStatus::kNoInitrd:
      return "no free memory below initrd_addr_max for the initrd";
    case LayoutStatus::kNoSetup:
      return "no free memory below 4 GiB for boot_params";
    case LayoutStatus::kNoPurgatory:
      return "no free memory below 2 GiB for the purgatory";
    case LayoutStatus::kNoScratch:
      return "no free memory below 4 GiB for the page tables";
  }
  return "?";
}

}  // namespace charon::efi
