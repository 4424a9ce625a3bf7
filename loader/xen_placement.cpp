// Where a KEXEC_TYPE_DEFAULT image may go under Xen 4.17, and why.
//
// Xen copies a default image into pages of its own heap at load time and
// moves them to their destinations only at kexec (kexec_reloc's
// relocate_pages walks the indirection list). xen/common/kimage.c,
// kimage_alloc_page(), takes each source page from alloc_domheap_page().
// When the page it gets is some segment's destination D, and an earlier
// page's source for D already exists (kimage_dst_used), it copies that
// source into D, returns the old source page, and rewrites the old entry:
//
//     *old = (addr & ~PAGE_MASK) | IND_SOURCE;
//
// `addr & ~PAGE_MASK` is D's offset in its page, 0, not D's frame: the
// entry now says "copy machine page 0 to D", and relocate_pages does.
// The image is corrupt (charon's purgatory then refuses it with a digest
// mismatch; kexec-tools' at top of RAM fails so 6 times in 6).
//
// So a destination page is at risk exactly when Xen's heap allocator can
// hand it out during the load after its own source was allocated: when it
// is a free heap page. Pages owned by a domain or by Xen are never handed
// out. Which free pages come first is the allocator's rule:
// alloc_domheap_pages() (xen/common/page_alloc.c) serves a request
// without MEMF_bits from the zones above dma_bitsize, and takes pages
// below it only once everything above is gone. dma_bitsize is
// arch_get_dma_bitsize() (xen/arch/x86/numa.c): a quarter of the first
// node's span, rounded up to a power of two, at most 4 GiB; 256 MiB on a
// 1 GiB machine, which is where kexec-tools with --mem-max=0x10000000
// passes. A default image kept below that boundary is therefore never
// struck while the memory above has room for the image's copies (a few
// tens of MiB). Xen's own image is left out as well: the copy must not
// run over the hypervisor it still runs on.
//
// A crash image is not at risk: kimage_load_crash_segment() copies
// straight to the reserved area, with no allocation at all.
#include <charon/align.h>
#include <charon/loader/xen.h>

#include <algorithm>

namespace charon::loader {

uint64_t xen_dma_limit(const std::vector<MemRange>& map) {
  uint64_t end = 0;
  for (const MemRange& m : map)
    if (m.type == E820Type::kRam) end = std::max(end, m.end);
  const uint64_t max_page = end >> 12;
  if (max_page < 4) return k1MiB;  // no RAM to speak of: nothing fits anyway
  // flsl(max_page / 4 - 1): the 1-based index of the top set bit.
  const uint64_t v = max_page / 4 - 1;
  const unsigned fls = v ? 64 - static_cast<unsigned>(__builtin_clzll(v)) : 0;
  const unsigned bits = std::min(fls + 12, 32u);
  return uint64_t{1} << bits;
}

std::vector<Range> xen_default_usable(const std::vector<MemRange>& map, XenRange xen) {
  const uint64_t limit = xen_dma_limit(map);
  std::vector<Range> below;
  for (const Range& r : usable_ram(map))
    if (r.start < limit) below.push_back({r.start, std::min(r.end, limit)});
  if (xen.size)
    below = subtract_ranges(std::move(below), {{align_down(xen.start, kPageSize),
                                                align_up(xen.start + xen.size, kPageSize)}});
  return below;
}

}  // namespace charon::loader
