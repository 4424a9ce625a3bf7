// Placing an ELF or multiboot kernel, building the multiboot information
// and the parameter block for its generic handoff. The same free list and
// the same purgatory and page-table rules as a bzImage (place.h).
#include <charon/align.h>
#include <charon/kimage/payload.h>

#include "place.h"

namespace charon::kimage {

namespace {

constexpr uint64_t kAny = UINT64_MAX;
constexpr char kLoaderName[] = "charon-kexec";

void wr32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void wr64(uint8_t* p, uint64_t v) {
  wr32(p, static_cast<uint32_t>(v));
  wr32(p + 4, static_cast<uint32_t>(v >> 32));
}
void put_str(uint8_t* p, const char* s, size_t len) {
  for (size_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>(s[i]);
  p[len] = 0;
}
bool has_nul(const char* s, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (s[i] == 0) return true;
  return false;
}

bool is_multiboot(PayloadType t) {
  return t == PayloadType::kMultiboot || t == PayloadType::kMultiboot2;
}

// Multiboot's memory fields (v1 3.3 mem_lower/mem_upper, v2 3.6.8): KiB
// of RAM from 0 (at most 640) and KiB of RAM from 1 MiB up to the first
// hole.
void basic_meminfo(const PayloadInput& in, uint32_t& lower, uint32_t& upper) {
  lower = upper = 0;
  for (size_t i = 0; i < in.nmemmap; ++i) {
    const MemRange& m = in.memmap[i];
    if (m.type != boot::E820Type::kRam) continue;
    if (m.start == 0)
      lower = static_cast<uint32_t>((m.end < 640 * 1024 ? m.end : 640 * 1024) / 1024);
    if (m.start <= k1MiB && m.end > k1MiB) {
      const uint64_t kib = (m.end - k1MiB) / 1024;
      upper = kib > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(kib);
    }
  }
}

// E820 and both multiboots number the memory types alike (1 RAM, 2
// reserved, 3 ACPI reclaimable, 4 NVS, 5 bad); the rest is reserved.
uint32_t mb_mem_type(boot::E820Type t) {
  const uint32_t v = static_cast<uint32_t>(t);
  return v >= 1 && v <= 5 ? v : 2;
}

// ---- multiboot v1 information (3.3) ---------------------------------------
// [info][module entries][mmap entries][command line][loader name][module
// command lines], every string NUL-terminated.
constexpr size_t kMb1InfoBytes = 128;  // the 116-byte structure, rounded
constexpr size_t kMb1ModBytes = 16, kMb1MmapBytes = 24;
constexpr uint32_t kMb1Mem = 1u << 0, kMb1Cmdline = 1u << 2, kMb1Mods = 1u << 3, kMb1Mmap = 1u << 6,
                   kMb1LoaderName = 1u << 9;

uint64_t mb1_bytes(const PayloadInput& in) {
  uint64_t n = kMb1InfoBytes + in.nmodules * kMb1ModBytes + in.nmemmap * kMb1MmapBytes +
               in.cmdline_len + 1 + sizeof kLoaderName;
  for (size_t i = 0; i < in.nmodules; ++i) n += in.modules[i].cmdline_len + 1;
  return n;
}

void build_mb1(const PayloadInput& in, const PayloadPlan& plan, uint8_t* b) {
  const uint32_t base = static_cast<uint32_t>(plan.info.start);
  uint32_t lower, upper;
  basic_meminfo(in, lower, upper);
  size_t at = kMb1InfoBytes;
  const size_t mods = at;
  at += in.nmodules * kMb1ModBytes;
  const size_t mmap = at;
  for (size_t i = 0; i < in.nmemmap; ++i, at += kMb1MmapBytes) {
    const MemRange& m = in.memmap[i];
    wr32(b + at, kMb1MmapBytes - 4);  // `size` counts what follows it
    wr64(b + at + 4, m.start);
    wr64(b + at + 12, m.end - m.start);
    wr32(b + at + 20, mb_mem_type(m.type));
  }
  const size_t cmdline = at;
  put_str(b + at, in.cmdline, in.cmdline_len);
  at += in.cmdline_len + 1;
  const size_t name = at;
  put_str(b + at, kLoaderName, sizeof kLoaderName - 1);
  at += sizeof kLoaderName;
  for (size_t i = 0; i < in.nmodules; ++i) {
    uint8_t* e = b + mods + i * kMb1ModBytes;
    wr32(e, static_cast<uint32_t>(plan.modules[i].start));
    wr32(e + 4, static_cast<uint32_t>(plan.modules[i].start + in.modules[i].size));
    wr32(e + 8, base + static_cast<uint32_t>(at));
    put_str(b + at, in.modules[i].cmdline, in.modules[i].cmdline_len);
    at += in.modules[i].cmdline_len + 1;
  }
  wr32(b + 0, kMb1Mem | kMb1Cmdline | kMb1Mods | kMb1Mmap | kMb1LoaderName);
  wr32(b + 4, lower);
  wr32(b + 8, upper);
  wr32(b + 16, base + static_cast<uint32_t>(cmdline));
  wr32(b + 20, static_cast<uint32_t>(in.nmodules));
  wr32(b + 24, base + static_cast<uint32_t>(mods));
  wr32(b + 44, static_cast<uint32_t>(in.nmemmap * kMb1MmapBytes));
  wr32(b + 48, base + static_cast<uint32_t>(mmap));
  wr32(b + 64, base + static_cast<uint32_t>(name));
}

// ---- multiboot2 information (3.6): 8 bytes of header, then tags, each
// 8-byte aligned, ending with the end tag.
constexpr uint32_t kMb2Cmdline = 1, kMb2LoaderName = 2, kMb2Module = 3, kMb2BasicMem = 4,
                   kMb2Mmap = 6, kMb2AcpiOld = 14, kMb2AcpiNew = 15, kMb2End = 0;
constexpr uint32_t kMb2MmapEntry = 24;

uint64_t tag8(uint64_t n) {
  return align_up(n, 8);
}

uint64_t mb2_bytes(const PayloadInput& in) {
  uint64_t n = 8 + tag8(8 + in.cmdline_len + 1) + tag8(8 + sizeof kLoaderName) + 16 +
               tag8(16 + in.nmemmap * kMb2MmapEntry) + 8;
  for (size_t i = 0; i < in.nmodules; ++i) n += tag8(16 + in.modules[i].cmdline_len + 1);
  if (in.rsdp_len) n += tag8(8 + in.rsdp_len);
  return n;
}

void build_mb2(const PayloadInput& in, const PayloadPlan& plan, uint8_t* b, uint64_t total) {
  uint64_t at = 8;
  auto tag = [&](uint32_t type, uint64_t size) {
    uint8_t* t = b + at;
    wr32(t, type);
    wr32(t + 4, static_cast<uint32_t>(size));
    at += tag8(size);
    return t;
  };
  put_str(tag(kMb2Cmdline, 8 + in.cmdline_len + 1) + 8, in.cmdline, in.cmdline_len);
  put_str(tag(kMb2LoaderName, 8 + sizeof kLoaderName) + 8, kLoaderName, sizeof kLoaderName - 1);
  for (size_t i = 0; i < in.nmodules; ++i) {
    const ModuleSpec& m = in.modules[i];
    uint8_t* t = tag(kMb2Module, 16 + m.cmdline_len + 1);
    wr32(t + 8, static_cast<uint32_t>(plan.modules[i].start));
    wr32(t + 12, static_cast<uint32_t>(plan.modules[i].start + m.size));
    put_str(t + 16, m.cmdline, m.cmdline_len);
  }
  uint32_t lower, upper;
  basic_meminfo(in, lower, upper);
  uint8_t* t = tag(kMb2BasicMem, 16);
  wr32(t + 8, lower);
  wr32(t + 12, upper);
  t = tag(kMb2Mmap, 16 + in.nmemmap * kMb2MmapEntry);
  wr32(t + 8, kMb2MmapEntry);
  wr32(t + 12, 0);  // entry_version
  for (size_t i = 0; i < in.nmemmap; ++i) {
    uint8_t* e = t + 16 + i * kMb2MmapEntry;
    wr64(e, in.memmap[i].start);
    wr64(e + 8, in.memmap[i].end - in.memmap[i].start);
    wr32(e + 16, mb_mem_type(in.memmap[i].type));
  }
  if (in.rsdp_len) {
    // 3.6.12/3.6.13: a copy of the RSDP, revision 0 (20 bytes) or 2+.
    t = tag(in.rsdp_len <= 20 ? kMb2AcpiOld : kMb2AcpiNew, 8 + in.rsdp_len);
    for (size_t i = 0; i < in.rsdp_len; ++i) t[8 + i] = in.rsdp[i];
  }
  tag(kMb2End, 8);
  wr32(b, static_cast<uint32_t>(total));
}

}  // namespace

uint64_t payload_info_bytes(const PayloadInput& in) {
  switch (in.type) {
    case PayloadType::kMultiboot:
      return mb1_bytes(in);
    case PayloadType::kMultiboot2:
      return mb2_bytes(in);
    case PayloadType::kElf64:
    case PayloadType::kElf32:
      return in.args == ElfArgs::kElf ? elf_boot_notes_bytes(in.cmdline_len) : 0;
    case PayloadType::kBzImage:
      return 0;
  }
  return 0;
}

size_t image_chunks(const PayloadImage& im, Range (&out)[kMaxLoadSegments]) {
  size_t n = 0;
  for (size_t i = 0; i < im.nseg; ++i) {
    const Range r{align_down(im.seg[i].paddr, kPageSize),
                  align_up(im.seg[i].paddr + im.seg[i].memsz, kPageSize)};
    if (r.end < r.start) return 0;
    if (n && r.start < out[n - 1].end)
      out[n - 1].end = r.end;
    else
      out[n++] = r;
  }
  return n;
}

Status plan_payload(const PayloadInput& in, PayloadPlan& out) {
  out = {};
  if (Status s = parse_payload(in.file, in.file_size, in.type, out.image); s != Status::kOk)
    return s;
  if (in.type == PayloadType::kBzImage) return Status::kNotThisType;  // plan_image's job
  if (!is_multiboot(in.type) && in.args == ElfArgs::kLinux) return Status::kElfArgsLinux;
  if (in.top_of_ram == 0) return Status::kNoRam;
  if (in.purgatory_align > kPageSize) return Status::kBadPurgatoryAlign;
  if (in.nmodules > kMaxModules) return Status::kTooManyModules;
  if (has_nul(in.cmdline, in.cmdline_len)) return Status::kModuleCmdlineNul;
  for (size_t i = 0; i < in.nmodules; ++i)
    if (has_nul(in.modules[i].cmdline, in.modules[i].cmdline_len)) return Status::kModuleCmdlineNul;
  FreeList& free = *in.free;
  const bool is64 = in.type == PayloadType::kElf64;
  out.handoff = is64 ? HandoffKind::kGeneric64 : HandoffKind::kGeneric32;
  const uint64_t high = is64 ? kAny : k4GiB;
  // The purgatory maps the machine's memory, typed, as for a bzImage; a
  // 32-bit handoff drops paging, and the map then only serves the
  // purgatory.
  out.memory_gaps_closed = memory_ranges(in.memmap, in.nmemmap, out.memory, out.nmemory);

  // ---- the image's segments, where they were linked: whole pages, so
  // segments that share a page share one chunk.
  out.nchunks = image_chunks(out.image, out.chunks);
  if (out.nchunks == 0) return Status::kSegmentWraps;
  for (size_t i = 0; i < out.nchunks; ++i) {
    if (out.chunks[i].end > high) return Status::kSegmentAbove4G;
    if (!free.take_at(out.chunks[i].start, out.chunks[i].size())) return Status::kSegmentNotFree;
  }

  // ---- modules: page-aligned (v1 flag 0, v2 module-align tag), below
  // 4 GiB for the 32-bit addresses, as high as they go.
  if (!is_multiboot(in.type) && in.nmodules) return Status::kTooManyModules;
  for (size_t i = 0; i < in.nmodules; ++i)
    if (!place(free, align_up(in.modules[i].size ? in.modules[i].size : 1, kPageSize), kPageSize,
               k1MiB, k4GiB, true, out.modules[i]))
      return Status::kNoRoomModule;

  // ---- the information structure or the boot notes, low below 4 GiB
  // (EBX and kexec-tools' stack argument are 32 bits).
  if (const uint64_t bytes = payload_info_bytes(in))
    if (!place(free, align_up(bytes, kPageSize), kPageSize, k1MiB, k4GiB, false, out.info))
      return Status::kNoRoomInfo;

  if (Status s = place_purgatory(free, in.purgatory_size, in.purgatory_max_end, out.purgatory);
      s != Status::kOk)
    return s;

  // ---- page tables for everything the purgatory maps.
  // The purgatory's stack: generic64 maps the page under RSP.
  charon_region r[kMaxLoadSegments + kMaxModules + 3];
  size_t n = 0;
  auto add = [&](const Range& x) {
    if (!x.empty()) r[n++] = {x.start, x.size()};
  };
  for (size_t i = 0; i < out.nchunks; ++i) add(out.chunks[i]);
  for (size_t i = 0; i < in.nmodules; ++i) add(out.modules[i]);
  add(out.info);
  add(out.purgatory);
  return place_scratch(free, out.memory, out.nmemory, r, n, out.scratch);
}

uint64_t chunk_data_bytes(const PayloadImage& im, const Range& c) {
  uint64_t end = c.start;
  for (size_t j = 0; j < im.nseg; ++j) {
    const LoadSegment& s = im.seg[j];
    if (s.paddr >= c.start && s.paddr < c.end && s.filesz && s.paddr + s.filesz > end)
      end = s.paddr + s.filesz;
  }
  return end - c.start;
}

void build_chunk(const uint8_t* file, const PayloadImage& im, const Range& c, uint8_t* out) {
  const uint64_t len = chunk_data_bytes(im, c);
  for (uint64_t k = 0; k < len; ++k) out[k] = 0;
  for (size_t j = 0; j < im.nseg; ++j) {
    const LoadSegment& s = im.seg[j];
    if (s.paddr < c.start || s.paddr >= c.end) continue;
    for (uint64_t k = 0; k < s.filesz; ++k) out[s.paddr - c.start + k] = file[s.offset + k];
  }
}

Status build_payload_info(const PayloadInput& in, const PayloadPlan& plan, uint8_t* buf,
                          size_t buf_size) {
  const uint64_t bytes = payload_info_bytes(in);
  if (buf_size < bytes) return Status::kNoRoomInfo;
  for (size_t i = 0; i < buf_size; ++i) buf[i] = 0;
  if (in.type == PayloadType::kMultiboot) build_mb1(in, plan, buf);
  if (in.type == PayloadType::kMultiboot2) build_mb2(in, plan, buf, bytes);
  if (!is_multiboot(in.type) && bytes) build_elf_boot_notes(in.cmdline, in.cmdline_len, buf, bytes);
  return Status::kOk;
}

Status fill_payload_params(const PayloadInput& in, const PayloadPlan& plan, uint64_t stack_top,
                           uint64_t stack_arg32_2, charon_params& p) {
  if (Status s =
          fill_common_params(in.flags, plan.handoff, plan.memory, plan.scratch, in.console, p);
      s != Status::kOk)
    return s;
  const bool notes = !is_multiboot(in.type) && in.args == ElfArgs::kElf;
  if (plan.handoff == HandoffKind::kGeneric64) {
    p.regs64.rip = plan.image.entry;
    p.regs64.rsp = stack_top;
    // kexec-tools' elf-x86_64, --args-elf: the notes in RDI ("arg1").
    if (notes) p.regs64.rdi = plan.info.start;
  } else {
    p.regs32.eip = static_cast<uint32_t>(plan.image.entry);
    p.regs32.esp = static_cast<uint32_t>(stack_top);
    // Multiboot v1 3.2 and v2 3.3, "Machine state": EAX the magic, EBX
    // the information structure's physical address.
    if (is_multiboot(in.type)) {
      p.regs32.eax =
          in.type == PayloadType::kMultiboot ? kMultibootBootMagic : kMultiboot2BootMagic;
      p.regs32.ebx = static_cast<uint32_t>(plan.info.start);
    }
    // kexec-tools' elf-x86, --args-elf: a cdecl frame, [ESP] = 0 and
    // [ESP + 4] = the notes, which generic32 pushes on the purgatory's
    // stack when ESP names the block's stack_arg32_2 (README, "Stack
    // arguments").
    if (notes) {
      if (stack_arg32_2 == 0 || stack_arg32_2 >> 32) return Status::kNoStackArgs;
      p.regs32.esp = static_cast<uint32_t>(stack_arg32_2);
      p.stack_arg32_1 = static_cast<uint32_t>(plan.info.start);
      p.stack_arg32_2 = 0;
    }
  }
  return Status::kOk;
}

}  // namespace charon::kimage
