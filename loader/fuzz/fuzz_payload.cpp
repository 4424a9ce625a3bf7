// libFuzzer: ELF and multiboot kernels in the core (payload.h): detection
// (the multiboot headers, a vmlinux's "Linux" ELF notes), every type's
// checks, then placement, chunks, the multiboot information and the ELF
// boot notes over whatever the checks let through, and for ELF the
// --args-linux path: the bzImage planner and boot_params builder.
#include <charon/kimage/payload.h>

#include <cstdlib>
#include <memory>
#include <vector>

using namespace charon;
using namespace charon::kimage;

namespace {

const MemRange kMap[] = {{0, 0x9fc00, boot::E820Type::kRam},
                         {0x100000, 0x40000000, boot::E820Type::kRam},
                         {0x100000000, 0x140000000, boot::E820Type::kRam}};

// The machine's free RAM from 1 MiB and the purgatory's facts, alike for
// both planners' inputs.
template <class Input>
std::unique_ptr<FreeList> machine(Input& in) {
  auto free = std::make_unique<FreeList>();
  for (const MemRange& m : kMap)
    if (m.start >= 0x100000) free->add(m.start, m.end);
  in.free = free.get();
  in.purgatory_size = 0x1d000;
  in.purgatory_align = 4096;
  in.purgatory_max_end = uint64_t{1} << 32;
  return free;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PayloadType detected;
  (void)detect_payload(data, size, detected);
  (void)is_linux_elf(data, size);
  constexpr PayloadType kTypes[] = {PayloadType::kMultiboot2, PayloadType::kElf64,
                                    PayloadType::kMultiboot, PayloadType::kElf32};
  const MemRange* map = kMap;
  const char m0[] = "/boot/mod0 a=b";
  const ModuleSpec mods[] = {{0x1234, m0, sizeof m0 - 1}, {1, "x", 1}};
  for (PayloadType t : kTypes) {
    PayloadImage im;
    if (parse_payload(data, size, t, im) != Status::kOk) continue;
    // What the checks accepted must be self-consistent.
    if (im.nseg == 0 || im.nseg > kMaxLoadSegments) std::abort();
    bool entry_in = false;
    for (size_t i = 0; i < im.nseg; ++i) {
      const LoadSegment& s = im.seg[i];
      if (s.filesz > s.memsz || s.offset + s.filesz > size) std::abort();
      if (i && im.seg[i - 1].paddr + im.seg[i - 1].memsz > s.paddr) std::abort();
      entry_in = entry_in || (im.entry >= s.paddr && im.entry - s.paddr < s.memsz);
    }
    if (!entry_in) std::abort();
    PayloadInput in;
    const auto free = machine(in);
    in.file = data;
    in.file_size = size;
    in.type = t;
    in.cmdline = "/boot/k console=ttyS0";
    in.cmdline_len = 21;
    const bool mb = t == PayloadType::kMultiboot || t == PayloadType::kMultiboot2;
    in.modules = mb ? mods : nullptr;
    in.nmodules = mb ? 2 : 0;
    in.memmap = map;
    in.nmemmap = 3;
    in.top_of_ram = 0x140000000;
    PayloadPlan plan;
    if (plan_payload(in, plan) != Status::kOk) continue;
    for (size_t i = 0; i < plan.nchunks; ++i) {
      const uint64_t n = chunk_data_bytes(plan.image, plan.chunks[i]);
      if (n > plan.chunks[i].size() || n > (uint64_t{64} << 20)) {
        if (n > plan.chunks[i].size()) std::abort();
        continue;  // a huge image: the bytes come from the file anyway
      }
      std::vector<uint8_t> c(n);
      build_chunk(data, plan.image, plan.chunks[i], c.data());
    }
    std::vector<uint8_t> info(payload_info_bytes(in));
    if (!info.empty() && build_payload_info(in, plan, info.data(), info.size()) != Status::kOk)
      std::abort();
    // Multiboot2 (3.6): total_size is the buffer, every tag 8-aligned
    // inside it, the memory map's entries 24 bytes (Xen skips a map with
    // smaller ones), and the end tag last.
    if (t == PayloadType::kMultiboot2) {
      auto rd = [&](size_t o) {
        return uint32_t{info[o]} | uint32_t{info[o + 1]} << 8 | uint32_t{info[o + 2]} << 16 |
               uint32_t{info[o + 3]} << 24;
      };
      if (info.size() < 16 || rd(0) != info.size()) std::abort();
      size_t off = 8;
      while (rd(off) != 0) {
        const uint32_t tsize = rd(off + 4);
        if (tsize < 8 || off + tsize > info.size()) std::abort();
        if (rd(off) == 6 && rd(off + 8) != 24) std::abort();
        off += (tsize + 7) & ~size_t{7};
        if (off + 8 > info.size()) std::abort();
      }
      if (rd(off + 4) != 8 || off + 8 != info.size()) std::abort();
    }
    if (mb) continue;
    // --args-linux: the same image as a vmlinux.
    ImageInput li;
    const auto free2 = machine(li);
    li.vmlinux = &im;
    li.entry = t == PayloadType::kElf64 ? Entry::k64 : Entry::k32;
    li.has_initrd = true;
    li.initrd_size = 0x4000;
    li.cmdline_max_len = 21;
    li.memory_map = map;
    li.nmemory_map = 3;
    ImagePlan lp;
    if (plan_image(li, lp) != Status::kOk) continue;
    if (lp.kernel_entry != im.entry || lp.kernel_seg.start > im.seg[0].paddr) std::abort();
    std::vector<uint8_t> setup(setup_bytes(li, 21));
    if (build_setup(li, lp, in.cmdline, 21, map, 3, setup.data(), setup.size()) != Status::kOk)
      std::abort();
  }
  return 0;
}
