// libFuzzer: what Xen's answers become. The input is Xen's machine memory
// map (20-byte e820 entries) after 16 bytes of Xen's own range; the fake
// hypervisor answers XENMEM_machine_memory_map with it. Whatever the map,
// a default image's usable memory lies page-aligned from 1 MiB to Xen's
// DMA boundary, off Xen's range, inside RAM.
#include <charon/align.h>
#include <charon/loader/xen.h>

#include <cstdlib>
#include <cstring>

#include "../testdata/fake_xen.h"

using namespace charon;
using namespace charon::loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 16) return 0;
  testing::FakeXen xen;
  std::memcpy(&xen.xen.start, data, 8);
  std::memcpy(&xen.xen.size, data + 8, 8);
  xen.xen.size %= 1ull << 32;
  xen.e820.clear();
  for (size_t at = 16; at + sizeof(xen_e820entry_t) <= size && xen.e820.size() < 2048;
       at += sizeof(xen_e820entry_t)) {
    xen_e820entry_t e;
    std::memcpy(&e, data + at, sizeof e);
    xen.e820.push_back(e);
  }
  auto f = read_xen_facts(xen);
  if (!f) {
    if (f.error().empty()) std::abort();
    return 0;
  }
  const uint64_t limit = xen_dma_limit(f->machine_map);
  if (limit > (1ull << 32) || (limit & (limit - 1))) std::abort();  // a power of two
  const uint64_t xs = align_down(f->xen.start, kPageSize);
  const uint64_t xe = align_up(f->xen.start + f->xen.size, kPageSize);
  for (const Range& r : xen_default_usable(f->machine_map, f->xen)) {
    if (r.start < k1MiB || r.end > limit || r.end <= r.start) std::abort();
    if (!is_aligned(r.start, kPageSize) || !is_aligned(r.end, kPageSize)) std::abort();
    if (f->xen.size && r.start < xe && xs < r.end) std::abort();
    bool in_ram = false;
    for (const MemRange& m : f->machine_map)
      in_ram |= m.type == E820Type::kRam && m.start <= r.start && r.end <= m.end;
    if (!in_ram) std::abort();
  }
  return 0;
}
