// libFuzzer: the image-building core's planner and boot_params builder
// over arbitrary memory maps, kernel headers, initrd and command-line
// sizes, crash extras and setup_data. Whatever it plans must be
// page-aligned, inside the free memory it was given, disjoint, and within
// the protocol's address limits; whatever it builds must say where the
// plan put things.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <synthetic_bzimage.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace charon;
using namespace charon::kimage;

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  uint64_t u64() {
    uint64_t v = 0;
    const size_t k = n < 8 ? n : 8;
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
};

bool inside(const Range& r, const std::vector<Range>& usable) {
  for (const Range& u : usable)
    if (u.start <= r.start && r.end <= u.end) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader rd{data, size};
  const uint64_t flags = rd.u64();
  charon::testing::BzSpec spec;
  spec.init_size = static_cast<uint32_t>((rd.u64() & 0x3fffffff) + 0x40000);
  spec.kernel_alignment = static_cast<uint32_t>(4096ull << (rd.u64() % 19));
  spec.pref_address = rd.u64() & 0xffffffffff;
  spec.initrd_addr_max = static_cast<uint32_t>(rd.u64());
  spec.cmdline_size = static_cast<uint32_t>(rd.u64() & 0xffff);
  spec.xloadflags = boot::XLF_KERNEL_64 | ((flags & 2) ? boot::XLF_CAN_BE_LOADED_ABOVE_4G : 0);
  const std::vector<uint8_t> kernel = charon::testing::make_bzimage(spec);

  auto free = std::make_unique<FreeList>();
  std::vector<Range> usable;
  std::vector<MemRange> memmap;
  ImageInput in;
  in.kernel = kernel.data();
  in.kernel_size = kernel.size();
  in.entry = (flags & 1) ? Entry::k32 : Entry::k64;
  in.has_initrd = flags & 4;
  in.initrd_size = in.has_initrd ? (rd.u64() & 0xffffffff) + 1 : 0;
  in.cmdline_max_len = std::min<uint64_t>(rd.u64() & 0xffff, spec.cmdline_size);
  in.purgatory_size = (rd.u64() & 0xfffff) + 1;
  in.purgatory_max_end = (flags & 8) ? k4GiB : k2GiB;
  if (flags & 16) in.crash = {true, 0, 640 * 1024, (rd.u64() & 0xffff) + 64};
  const uint8_t seed[32] = {1, 2, 3};
  const SetupDataNode node{boot::SETUP_RNG_SEED, seed, static_cast<uint32_t>(rd.u64() % 33)};
  if (flags & 32) {
    in.setup_data = &node;
    in.nsetup_data = 1;
  }
  // --real-mode: the setup code and the purgatory in low RAM, which the
  // free list then holds too.
  in.real_mode = flags & 64;
  if (in.real_mode) {
    const uint64_t s = align_up(rd.u64() & 0x9ffff, kPageSize);
    const uint64_t e =
        align_down(std::min<uint64_t>(s + (rd.u64() & 0xfffff), 0x100000), kPageSize);
    if (e > s) {
      if (free->add(s, e) != Status::kOk) return 0;
      memmap.push_back({s, e, boot::E820Type::kRam});
    }
  }
  for (int nranges = 0; rd.n >= 16 && nranges < 64; ++nranges) {
    const uint64_t s = align_up(std::max<uint64_t>(rd.u64() & 0xfffffffffffull, k1MiB), kPageSize);
    const uint64_t e = align_down(s + (rd.u64() & 0xffffffffffull), kPageSize);
    if (e <= s) continue;
    if (free->add(s, e) != Status::kOk) return 0;
    memmap.push_back({s, e, boot::E820Type::kRam});
  }
  in.memory_map = memmap.data();
  in.nmemory_map = memmap.size();
  // Overlapping and touching ranges merge: the planner may use the union.
  for (size_t i = 0; i < free->count(); ++i) usable.push_back((*free)[i]);
  in.free = free.get();

  ImagePlan p;
  const Status st = plan_image(in, p);
  if (st != Status::kOk) {
    if (status_message(st)[0] == '?') std::abort();
    return 0;
  }
  std::vector<Range> all = {p.kernel_seg, p.setup, p.purgatory, p.scratch};
  if (in.has_initrd) all.push_back(p.initrd);
  if (in.crash.enabled) all.insert(all.end(), {p.backup, p.elfcorehdr});
  for (size_t i = 0; i < all.size(); ++i) {
    if (!is_aligned(all[i].start, kPageSize) || !is_aligned(all[i].end, kPageSize) ||
        all[i].empty())
      std::abort();
    if (!inside(all[i], usable)) std::abort();
    for (size_t j = i + 1; j < all.size(); ++j)
      if (all[i].start < all[j].end && all[j].start < all[i].end) std::abort();
    if ((in.entry == Entry::k32 || in.real_mode) && all[i].end > k4GiB) std::abort();
  }
  if (p.purgatory.end > in.purgatory_max_end || p.scratch.end > k4GiB || p.setup.end > k4GiB)
    std::abort();
  // Real mode: one 64 KiB segment and the purgatory in [64 KiB, 640 KiB).
  if (in.real_mode && (p.setup.start < kRealModeLow || p.setup.end > kRealModeTop ||
                       p.setup.size() < kRealModeSegment || p.purgatory.start < kRealModeLow ||
                       p.purgatory.end > kRealModeTop || p.handoff != HandoffKind::kGeneric16))
    std::abort();
  if (p.kernel_seg.start % p.kernel.kernel_alignment) std::abort();
  if (p.kernel_seg.size() < p.kernel.init_size) std::abort();

  // The setup segment for the longest command line, and what it says.
  std::vector<char> cmdline(in.cmdline_max_len, 'x');
  std::vector<uint8_t> setup(setup_bytes(in, cmdline.size()));
  if (build_setup(in, p, cmdline.data(), cmdline.size(), nullptr, 0, setup.data(), setup.size()) !=
      Status::kOk)
    std::abort();
  boot::boot_params bp;
  std::memcpy(&bp, setup.data(), sizeof bp);
  if (bp.hdr.cmd_line_ptr != p.setup.start + (in.real_mode ? kRealModeHeapEnd : sizeof bp))
    std::abort();
  if (bp.hdr.cmd_line_ptr + cmdline.size() + 1 > p.setup.end) std::abort();
  // Real mode writes nothing outside the header (ext_ramdisk_image is the
  // setup code's boot sector there): the initrd is below 4 GiB.
  const uint64_t high = in.real_mode ? 0 : uint64_t{bp.ext_ramdisk_image} << 32;
  if (in.has_initrd && (high | bp.hdr.ramdisk_image) != p.initrd.start) std::abort();
  if (in.nsetup_data && (bp.hdr.setup_data < p.setup.start || bp.hdr.setup_data >= p.setup.end))
    std::abort();
  return 0;
}
