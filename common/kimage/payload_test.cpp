// ELF and multiboot kernels in the core: recognition, the checks on
// synthetic images (truncated, bad magic, overlapping segments, segments
// outside RAM), placement, and the multiboot information as a payload
// would read it (read back here field by field from the specifications).
#include <charon/align.h>
#include <charon/kimage/payload.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace charon::kimage {
namespace {

constexpr uint64_t kM = k1MiB;

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  if (b.size() < off + 2) b.resize(off + 2);
  b[off] = uint8_t(v), b[off + 1] = uint8_t(v >> 8);
}
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  if (b.size() < off + 4) b.resize(off + 4);
  for (int i = 0; i < 4; ++i) b[off + i] = uint8_t(v >> (8 * i));
}
void put64(std::vector<uint8_t>& b, size_t off, uint64_t v) {
  put32(b, off, uint32_t(v));
  put32(b, off + 4, uint32_t(v >> 32));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t get64(const uint8_t* p) {
  return get32(p) | uint64_t{get32(p + 4)} << 32;
}

struct Seg {
  uint64_t paddr, filesz, memsz;
  uint8_t fill;
};

// An ET_EXEC image: header, program headers at 64, segment bytes from
// 0x1000 on, each segment's bytes `fill`.
std::vector<uint8_t> make_elf(bool is64, uint64_t entry, const std::vector<Seg>& segs) {
  std::vector<uint8_t> b(0x1000, 0);
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F';
  b[4] = is64 ? 2 : 1, b[5] = 1, b[6] = 1;
  put16(b, 16, 2);              // ET_EXEC
  put16(b, 18, is64 ? 62 : 3);  // EM_X86_64 / EM_386
  put32(b, 20, 1);
  const size_t phent = is64 ? 56 : 32;
  if (is64) {
    put64(b, 24, entry);
    put64(b, 32, 64);
    put16(b, 54, uint16_t(phent));
    put16(b, 56, uint16_t(segs.size()));
  } else {
    put32(b, 24, uint32_t(entry));
    put32(b, 28, 64);
    put16(b, 42, uint16_t(phent));
    put16(b, 44, uint16_t(segs.size()));
  }
  size_t off = 0x1000;
  for (size_t i = 0; i < segs.size(); ++i) {
    const size_t ph = 64 + i * phent;
    const Seg& s = segs[i];
    put32(b, ph, 1);  // PT_LOAD
    if (is64) {
      put64(b, ph + 8, off);
      put64(b, ph + 16, s.paddr);
      put64(b, ph + 24, s.paddr);
      put64(b, ph + 32, s.filesz);
      put64(b, ph + 40, s.memsz);
    } else {
      put32(b, ph + 4, uint32_t(off));
      put32(b, ph + 8, uint32_t(s.paddr));
      put32(b, ph + 12, uint32_t(s.paddr));
      put32(b, ph + 16, uint32_t(s.filesz));
      put32(b, ph + 20, uint32_t(s.memsz));
    }
    b.resize(off + s.filesz, 0);
    std::memset(b.data() + off, s.fill, s.filesz);
    off += s.filesz;
  }
  return b;
}

// An ELF32 whose first segment's bytes (file offset 0x1000) start with a
// multiboot v1 header with `flags` (and the checksum, unless `bad_sum`).
std::vector<uint8_t> make_mb1(uint32_t flags, bool bad_sum = false) {
  auto b = make_elf(false, 0x200100, {{0x200000, 0x2000, 0x3000, 0x90}});
  put32(b, 0x1000, 0x1badb002);
  put32(b, 0x1004, flags);
  put32(b, 0x1008, -(0x1badb002u + flags) + (bad_sum ? 1 : 0));
  return b;
}

// An ELF32 with a multiboot2 header at 0x1000 carrying `tags` (each
// already 8-aligned) and the end tag.
std::vector<uint8_t> make_mb2(const std::vector<uint8_t>& tags) {
  auto b = make_elf(false, 0x200100, {{0x200000, 0x2000, 0x3000, 0x90}});
  const uint32_t len = uint32_t(16 + tags.size() + 8);
  put32(b, 0x1000, 0xe85250d6);
  put32(b, 0x1004, 0);
  put32(b, 0x1008, len);
  put32(b, 0x100c, -(0xe85250d6u + len));
  std::copy(tags.begin(), tags.end(), b.begin() + 0x1010);
  put32(b, 0x1010 + tags.size(), 0);  // end tag: type 0, flags 0
  put32(b, 0x1014 + tags.size(), 8);
  return b;
}
std::vector<uint8_t> tag(uint16_t type, uint16_t flags, std::vector<uint32_t> body) {
  std::vector<uint8_t> t;
  put16(t, 0, type);
  put16(t, 2, flags);
  put32(t, 4, uint32_t(8 + 4 * body.size()));
  for (size_t i = 0; i < body.size(); ++i) put32(t, 8 + 4 * i, body[i]);
  t.resize(align_up(t.size(), 8), 0);
  return t;
}

charon_params fresh_params() {
  charon_params p{};
  p.magic = CHARON_PARAMS_MAGIC, p.version = CHARON_PARAMS_VERSION, p.size = sizeof p;
  return p;
}

Status parse(const std::vector<uint8_t>& f, PayloadType t, PayloadImage* out = nullptr) {
  PayloadImage im;
  const Status s = parse_payload(f.data(), f.size(), t, im);
  if (out) *out = im;
  return s;
}

TEST(PayloadDetect, EachTypeByItsContentInKexecToolsOrder) {
  PayloadType t;
  ASSERT_EQ(detect_payload(make_mb2({}).data(), make_mb2({}).size(), t), Status::kOk);
  EXPECT_EQ(t, PayloadType::kMultiboot2);
  auto e64 = make_elf(true, 0x1000000, {{0x1000000, 0x1000, 0x1000, 1}});
  ASSERT_EQ(detect_payload(e64.data(), e64.size(), t), Status::kOk);
  EXPECT_EQ(t, PayloadType::kElf64);
  auto mb1 = make_mb1(0);
  ASSERT_EQ(detect_payload(mb1.data(), mb1.size(), t), Status::kOk);
  EXPECT_EQ(t, PayloadType::kMultiboot);
  auto e32 = make_elf(false, 0x200000, {{0x200000, 0x1000, 0x1000, 1}});
  ASSERT_EQ(detect_payload(e32.data(), e32.size(), t), Status::kOk);
  EXPECT_EQ(t, PayloadType::kElf32);
  auto bz = charon::testing::make_bzimage({});
  ASSERT_EQ(detect_payload(bz.data(), bz.size(), t), Status::kOk);
  EXPECT_EQ(t, PayloadType::kBzImage);
  // A multiboot magic without its checksum is not a header: the ELF wins.
  auto stray = make_mb1(0, true);
  ASSERT_EQ(detect_payload(stray.data(), stray.size(), t), Status::kOk);
  EXPECT_EQ(t, PayloadType::kElf32);
  std::vector<uint8_t> junk(0x3000, 0x42);
  EXPECT_EQ(detect_payload(junk.data(), junk.size(), t), Status::kNotAnImage);
  EXPECT_EQ(detect_payload(junk.data(), 3, t), Status::kNotAnImage);
}

TEST(PayloadDetect, KexecToolsTypeNamesRoundTrip) {
  PayloadType t;
  for (const char* n : {"multiboot2-x86", "elf-x86_64", "multiboot-x86", "elf-x86", "bzImage64"}) {
    ASSERT_TRUE(payload_type_from_name(n, t)) << n;
    EXPECT_STREQ(payload_type_name(t), n);
  }
  ASSERT_TRUE(payload_type_from_name("bzImage", t));
  EXPECT_EQ(t, PayloadType::kBzImage);
  EXPECT_FALSE(payload_type_from_name("elf", t));
  EXPECT_FALSE(payload_type_from_name("elf-x86_64x", t));
}

TEST(PayloadElf, SegmentsSortedWithEntryAndZeroFill) {
  auto f = make_elf(true, 0x1001000,
                    {{0x1200000, 0x800, 0x3000, 0xbb}, {0x1000000, 0x2000, 0x2000, 0xaa}});
  PayloadImage im;
  ASSERT_EQ(parse(f, PayloadType::kElf64, &im), Status::kOk);
  ASSERT_EQ(im.nseg, 2u);
  EXPECT_EQ(im.seg[0].paddr, 0x1000000u);
  EXPECT_EQ(im.seg[1].paddr, 0x1200000u);
  EXPECT_EQ(im.seg[1].memsz, 0x3000u);
  EXPECT_EQ(im.entry, 0x1001000u);
}

TEST(PayloadElf, BadInputGetsItsOwnStatus) {
  auto good = make_elf(false, 0x200000, {{0x200000, 0x1000, 0x1000, 1}});
  ASSERT_EQ(parse(good, PayloadType::kElf32), Status::kOk);
  // Truncated: the header, then the program headers, then segment bytes.
  EXPECT_EQ(parse({good.begin(), good.begin() + 40}, PayloadType::kElf32), Status::kElfTruncated);
  EXPECT_EQ(parse({good.begin(), good.begin() + 70}, PayloadType::kElf32), Status::kElfTruncated);
  EXPECT_EQ(parse({good.begin(), good.begin() + 0x1800}, PayloadType::kElf32),
            Status::kSegmentPastEnd);
  auto bad = good;
  bad[1] = 'X';  // bad magic
  EXPECT_EQ(parse(bad, PayloadType::kElf32), Status::kNotThisType);
  EXPECT_EQ(parse(good, PayloadType::kElf64), Status::kNotThisType);  // wrong class
  bad = good;
  put16(bad, 18, 62);  // ELF32 claiming x86-64
  EXPECT_EQ(parse(bad, PayloadType::kElf32), Status::kElfWrongMachine);
  bad = good;
  put16(bad, 16, 1);  // ET_REL
  EXPECT_EQ(parse(bad, PayloadType::kElf32), Status::kElfBadHeader);
  bad = good;
  put32(bad, 64 + 16, 0x2000);  // filesz above memsz
  EXPECT_EQ(parse(bad, PayloadType::kElf32), Status::kSegmentFileszAboveMemsz);
  EXPECT_EQ(parse(make_elf(false, 0x300000, {{0x200000, 0x1000, 0x1000, 1}}), PayloadType::kElf32),
            Status::kEntryOutside);
  EXPECT_EQ(
      parse(make_elf(false, 0x200000, {{0x200000, 0x1000, 0x2000, 1}, {0x201000, 0x100, 0x100, 2}}),
            PayloadType::kElf32),
      Status::kSegmentsOverlap);
  EXPECT_EQ(
      parse(make_elf(false, 0xfffff000, {{0xfffff000, 0x100, 0x2000, 1}}), PayloadType::kElf32),
      Status::kSegmentWraps);
  EXPECT_EQ(parse(make_elf(false, 0x200000, {{0x200000, 0, 0, 1}}), PayloadType::kElf32),
            Status::kElfNoLoad);
}

TEST(PayloadMultiboot, HeaderChecks) {
  EXPECT_EQ(parse(make_mb1(3), PayloadType::kMultiboot), Status::kOk);
  EXPECT_EQ(parse(make_mb1(3, true), PayloadType::kMultiboot), Status::kMbBadChecksum);
  EXPECT_EQ(parse(make_mb1(4), PayloadType::kMultiboot), Status::kMbVideoMode);
  EXPECT_EQ(parse(make_mb1(1u << 5), PayloadType::kMultiboot), Status::kMbUnknownFlag);
  EXPECT_EQ(
      parse(make_elf(false, 0x200000, {{0x200000, 0x1000, 0x1000, 1}}), PayloadType::kMultiboot),
      Status::kNotThisType);
  // The a.out kludge: loaded from the header's offset back to load_addr.
  auto k = make_mb1(1u << 16);
  put32(k, 0x1000 + 12, 0x400000);  // header_addr: the header sits at file offset 0x1000
  put32(k, 0x1000 + 16, 0x3ff000);  // load_addr: file offset 0
  put32(k, 0x1000 + 20, 0);         // load_end_addr: the whole file
  put32(k, 0x1000 + 24, 0x500000);  // bss_end_addr
  put32(k, 0x1000 + 28, 0x400100);  // entry
  PayloadImage im;
  ASSERT_EQ(parse(k, PayloadType::kMultiboot, &im), Status::kOk);
  ASSERT_EQ(im.nseg, 1u);
  EXPECT_EQ(im.seg[0].offset, 0u);
  EXPECT_EQ(im.seg[0].paddr, 0x3ff000u);
  EXPECT_EQ(im.seg[0].filesz, k.size());
  EXPECT_EQ(im.seg[0].memsz, 0x500000u - 0x3ff000u);
  EXPECT_EQ(im.entry, 0x400100u);
  put32(k, 0x1000 + 16, 0x3fe000);  // load_addr before the file's start
  EXPECT_EQ(parse(k, PayloadType::kMultiboot), Status::kMbBadAddress);
}

TEST(PayloadMultiboot2, TagsRequiredOrOptional) {
  EXPECT_EQ(parse(make_mb2({}), PayloadType::kMultiboot2), Status::kOk);
  // A framebuffer tag: refused when required, ignored when optional.
  EXPECT_EQ(parse(make_mb2(tag(5, 0, {1024, 768, 32})), PayloadType::kMultiboot2),
            Status::kMb2RequiredTag);
  EXPECT_EQ(parse(make_mb2(tag(5, 1, {1024, 768, 32})), PayloadType::kMultiboot2), Status::kOk);
  // An information request: memory map and meminfo can be given, the
  // framebuffer info (8) cannot.
  EXPECT_EQ(parse(make_mb2(tag(1, 0, {6, 4})), PayloadType::kMultiboot2), Status::kOk);
  EXPECT_EQ(parse(make_mb2(tag(1, 0, {6, 8})), PayloadType::kMultiboot2), Status::kMb2RequiredInfo);
  EXPECT_EQ(parse(make_mb2(tag(1, 1, {6, 8})), PayloadType::kMultiboot2), Status::kOk);
  // The entry address tag overrides e_entry, but must lie in the image.
  PayloadImage im;
  ASSERT_EQ(parse(make_mb2(tag(3, 0, {0x200800})), PayloadType::kMultiboot2, &im), Status::kOk);
  EXPECT_EQ(im.entry, 0x200800u);
  EXPECT_EQ(parse(make_mb2(tag(3, 0, {0x900000})), PayloadType::kMultiboot2),
            Status::kEntryOutside);
  // An address tag needs an entry tag.
  EXPECT_EQ(
      parse(make_mb2(tag(2, 0, {0x200000, 0x200000 - 0x1000, 0, 0})), PayloadType::kMultiboot2),
      Status::kMb2NoEntry);
  auto b = make_mb2({});
  put32(b, 0x100c, 0);  // checksum
  EXPECT_EQ(parse(b, PayloadType::kMultiboot2), Status::kMbBadChecksum);
  b = make_mb2(tag(1, 1, {6}));
  put32(b, 0x1010 + 4, 0x1000);  // a tag running past header_length
  EXPECT_EQ(parse(b, PayloadType::kMultiboot2), Status::kMb2BadTag);
}

// A QEMU-like machine with 512 MiB and its e820 map.
struct Machine {
  std::vector<MemRange> map = {{0, 0x9fc00, boot::E820Type::kRam},
                               {0x9fc00, 0xa0000, boot::E820Type::kReserved},
                               {0xf0000, 0x100000, boot::E820Type::kReserved},
                               {0x100000, 0x1ffe0000, boot::E820Type::kRam},
                               {0x1ffe0000, 0x20000000, boot::E820Type::kReserved}};
  std::unique_ptr<FreeList> free = std::make_unique<FreeList>();
  std::vector<uint8_t> file;
  std::vector<ModuleSpec> mods;
  std::string cmdline = "/boot/x.elf console=ttyS0";
  std::string m0 = "/boot/mod0 role=first", m1 = "/boot/mod1";
  uint8_t rsdp[36] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
  PayloadInput in;

  Machine(std::vector<uint8_t> f, PayloadType t) : file(std::move(f)) {
    EXPECT_EQ(free->add(kM, 0x1ffe0000), Status::kOk);
    mods = {{0x12345, m0.data(), m0.size()}, {0x100, m1.data(), m1.size()}};
    in.file = file.data();
    in.file_size = file.size();
    in.type = t;
    in.cmdline = cmdline.data();
    in.cmdline_len = cmdline.size();
    in.memmap = map.data();
    in.nmemmap = map.size();
    in.free = free.get();
    in.top_of_ram = 0x1ffe0000;
    in.purgatory_size = 0x1d000;
    in.purgatory_align = kPageSize;
    in.purgatory_max_end = k4GiB;
  }
  void with_modules() {
    in.modules = mods.data();
    in.nmodules = mods.size();
  }
};

std::vector<Range> all_ranges(const PayloadPlan& p, size_t nmods) {
  std::vector<Range> r(p.chunks, p.chunks + p.nchunks);
  r.insert(r.end(), p.modules, p.modules + nmods);
  for (const Range& x : {p.info, p.purgatory, p.scratch})
    if (!x.empty()) r.push_back(x);
  return r;
}

void expect_disjoint_pages_below(const std::vector<Range>& r, uint64_t limit) {
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_TRUE(is_aligned(r[i].start, kPageSize) && is_aligned(r[i].end, kPageSize));
    EXPECT_LE(r[i].end, limit);
    for (size_t j = i + 1; j < r.size(); ++j)
      EXPECT_TRUE(r[i].end <= r[j].start || r[j].end <= r[i].start) << i << " and " << j;
  }
}

TEST(PayloadPlan, Elf64AtItsAddressesWithGeneric64Registers) {
  Machine m(make_elf(true, 0x3001000,
                     {{0x3000000, 0x800, 0x800, 0xaa}, {0x3000800, 0x100, 0x2000, 0xbb}}),
            PayloadType::kElf64);
  m.in.args = ElfArgs::kNone;
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  // Two segments in one page range: one chunk, the file bytes of both.
  ASSERT_EQ(p.nchunks, 1u);
  EXPECT_EQ(p.chunks[0].start, 0x3000000u);
  EXPECT_EQ(p.chunks[0].end, 0x3003000u);
  ASSERT_EQ(chunk_data_bytes(p.image, p.chunks[0]), 0x900u);
  std::vector<uint8_t> c(0x900);
  build_chunk(m.in.file, p.image, p.chunks[0], c.data());
  EXPECT_EQ(c[0], 0xaa);
  EXPECT_EQ(c[0x7ff], 0xaa);
  EXPECT_EQ(c[0x800], 0xbb);
  EXPECT_TRUE(p.info.empty());  // --args-none: no boot notes
  expect_disjoint_pages_below(all_ranges(p, 0), UINT64_MAX);
  EXPECT_EQ(p.handoff, HandoffKind::kGeneric64);
  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, p.purgatory.start + 0x1c000, 0, params), Status::kOk);
  EXPECT_EQ(params.handoff, CHARON_HANDOFF_GENERIC64);
  EXPECT_EQ(params.regs64.rip, 0x3001000u);
  EXPECT_EQ(params.regs64.rsp, p.purgatory.start + 0x1c000);
  EXPECT_EQ(params.regs64.rdi, 0u);
  EXPECT_EQ(params.scratch_base, p.scratch.start);
}

TEST(PayloadPlan, SegmentsOutsideFreeRamAreRefused) {
  // In the reserved hole at the top, and below 1 MiB.
  for (uint64_t at : {uint64_t{0x1ffe0000}, uint64_t{0x90000}, uint64_t{0x40000000}}) {
    Machine m(make_elf(false, at, {{at, 0x100, 0x1000, 1}}), PayloadType::kElf32);
    PayloadPlan p;
    EXPECT_EQ(plan_payload(m.in, p), Status::kSegmentNotFree) << std::hex << at;
  }
  // And modules for an ELF kernel have no meaning.
  Machine m(make_elf(false, 0x200000, {{0x200000, 0x100, 0x1000, 1}}), PayloadType::kElf32);
  m.with_modules();
  PayloadPlan p;
  EXPECT_EQ(plan_payload(m.in, p), Status::kTooManyModules);
}

TEST(PayloadPlan, Multiboot2InformationAsTheSpecificationReadsIt) {
  Machine m(make_mb2(tag(1, 1, {6, 4})), PayloadType::kMultiboot2);
  m.with_modules();
  m.rsdp[15] = 2;  // revision 2: the "new" ACPI tag
  m.in.rsdp = m.rsdp;
  m.in.rsdp_len = 36;
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  expect_disjoint_pages_below(all_ranges(p, 2), k4GiB);
  EXPECT_EQ(p.handoff, HandoffKind::kGeneric32);
  EXPECT_GE(p.modules[0].size(), 0x12345u);
  std::vector<uint8_t> info(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, info.data(), info.size()), Status::kOk);
  ASSERT_LE(info.size(), p.info.size());
  ASSERT_EQ(get32(info.data()), info.size());  // total_size
  // Walk the tags: each 8-aligned, the end tag last.
  std::vector<uint32_t> types;
  int modules = 0;
  size_t off = 8;
  for (;;) {
    ASSERT_EQ(off % 8, 0u);
    ASSERT_LE(off + 8, info.size());
    const uint8_t* t = info.data() + off;
    const uint32_t type = get32(t), size = get32(t + 4);
    types.push_back(type);
    if (type == 0) {
      EXPECT_EQ(size, 8u);
      EXPECT_EQ(off + 8, info.size());
      break;
    }
    const char* str = reinterpret_cast<const char*>(t + 8);
    switch (type) {
      case 1:
        EXPECT_STREQ(str, "/boot/x.elf console=ttyS0");
        break;
      case 2:
        EXPECT_STREQ(str, "charon-kexec");
        break;
      case 3: {
        EXPECT_EQ(get32(t + 8), p.modules[modules].start);
        EXPECT_EQ(get32(t + 12), p.modules[modules].start + m.mods[modules].size);
        EXPECT_STREQ(reinterpret_cast<const char*>(t + 16),
                     modules ? "/boot/mod1" : "/boot/mod0 role=first");
        ++modules;
        break;
      }
      case 4:
        EXPECT_EQ(get32(t + 8), 639u);                               // mem_lower, KiB
        EXPECT_EQ(get32(t + 12), (0x1ffe0000u - 0x100000u) / 1024);  // mem_upper
        break;
      case 6: {
        EXPECT_EQ(get32(t + 8), 24u);  // entry_size
        EXPECT_EQ(size, 16u + 24u * m.map.size());
        for (size_t i = 0; i < m.map.size(); ++i) {
          const uint8_t* e = t + 16 + 24 * i;
          EXPECT_EQ(get64(e), m.map[i].start);
          EXPECT_EQ(get64(e + 8), m.map[i].end - m.map[i].start);
          EXPECT_EQ(get32(e + 16), static_cast<uint32_t>(m.map[i].type));
        }
        break;
      }
      case 15:
        EXPECT_EQ(size, 8u + 36u);
        EXPECT_EQ(std::memcmp(t + 8, "RSD PTR ", 8), 0);
        break;
      default:
        ADD_FAILURE() << "unexpected tag " << type;
    }
    off += align_up(size, 8);
  }
  EXPECT_EQ(modules, 2);
  EXPECT_EQ(types, (std::vector<uint32_t>{1, 2, 3, 3, 4, 6, 15, 0}));

  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kOk);
  EXPECT_EQ(params.handoff, CHARON_HANDOFF_GENERIC32);
  EXPECT_EQ(params.regs32.eax, 0x36d76289u);
  EXPECT_EQ(params.regs32.ebx, p.info.start);
  EXPECT_EQ(params.regs32.eip, 0x200100u);
  EXPECT_EQ(params.regs32.esp, 0x7f00000u);
  EXPECT_EQ(params.regs64.rip, 0u);
}

TEST(PayloadPlan, MultibootInformationPointersAndEntries) {
  Machine m(make_mb1(3), PayloadType::kMultiboot);
  m.with_modules();
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  std::vector<uint8_t> info(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, info.data(), info.size()), Status::kOk);
  const uint64_t base = p.info.start;
  auto at = [&](uint32_t addr) {
    EXPECT_GE(addr, base);
    EXPECT_LT(addr, base + info.size());
    return info.data() + (addr - base);
  };
  const uint8_t* mi = info.data();
  EXPECT_EQ(get32(mi), 0x1u | 0x4u | 0x8u | 0x40u | 0x200u);
  EXPECT_EQ(get32(mi + 4), 639u);
  EXPECT_STREQ(reinterpret_cast<const char*>(at(get32(mi + 16))), "/boot/x.elf console=ttyS0");
  EXPECT_STREQ(reinterpret_cast<const char*>(at(get32(mi + 64))), "charon-kexec");
  ASSERT_EQ(get32(mi + 20), 2u);
  const uint8_t* mods = at(get32(mi + 24));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(get32(mods + 16 * i), p.modules[i].start);
    EXPECT_TRUE(is_aligned(p.modules[i].start, kPageSize));  // flag 0
    EXPECT_EQ(get32(mods + 16 * i + 4), p.modules[i].start + m.mods[i].size);
    EXPECT_STREQ(reinterpret_cast<const char*>(at(get32(mods + 16 * i + 8))),
                 i ? "/boot/mod1" : "/boot/mod0 role=first");
  }
  ASSERT_EQ(get32(mi + 44), 24u * m.map.size());
  const uint8_t* e = at(get32(mi + 48));
  EXPECT_EQ(get32(e), 20u);  // size: the bytes after it
  EXPECT_EQ(get64(e + 4), 0u);
  EXPECT_EQ(get64(e + 12), 0x9fc00u);
  EXPECT_EQ(get32(e + 20), 1u);
  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kOk);
  EXPECT_EQ(params.regs32.eax, 0x2badb002u);
  EXPECT_EQ(params.regs32.ebx, base);
}

TEST(PayloadPlan, CommandLinesWithNulAndTooManyModulesAreRefused) {
  Machine m(make_mb2({}), PayloadType::kMultiboot2);
  m.cmdline[3] = '\0';
  PayloadPlan p;
  EXPECT_EQ(plan_payload(m.in, p), Status::kModuleCmdlineNul);
  Machine n(make_mb2({}), PayloadType::kMultiboot2);
  std::vector<ModuleSpec> many(kMaxModules + 1, ModuleSpec{16, "m", 1});
  n.in.modules = many.data();
  n.in.nmodules = many.size();
  EXPECT_EQ(plan_payload(n.in, p), Status::kTooManyModules);
}

// ---- Linux vmlinux: its "Linux" ELF notes, and --args-linux through the
// bzImage path's own planner and boot_params builder.

// Appends a PT_NOTE holding one note named `name` to an image from
// make_elf (its program headers have room up to file offset 0x1000).
std::vector<uint8_t> with_note(std::vector<uint8_t> b, bool is64, const std::string& name) {
  const size_t phent = is64 ? 56 : 32;
  const uint16_t phnum = uint16_t(b[is64 ? 56 : 44] | b[is64 ? 57 : 45] << 8);
  const size_t ph = 64 + phnum * phent, at = b.size();
  std::vector<uint8_t> note;
  put32(note, 0, uint32_t(name.size() + 1));
  put32(note, 4, 4);
  put32(note, 8, 0x100);  // LINUX_ELFNOTE_BUILD_SALT
  note.resize(12 + align_up(name.size() + 1, 4) + 4, 0);
  std::memcpy(note.data() + 12, name.c_str(), name.size() + 1);
  b.insert(b.end(), note.begin(), note.end());
  put32(b, ph, 4);  // PT_NOTE
  if (is64) {
    put64(b, ph + 8, at);
    put64(b, ph + 32, note.size());
    put16(b, 56, uint16_t(phnum + 1));
  } else {
    put32(b, ph + 4, uint32_t(at));
    put32(b, ph + 16, uint32_t(note.size()));
    put16(b, 44, uint16_t(phnum + 1));
  }
  return b;
}

// A vmlinux's shape: text at 16 MiB, data, and bss in the last segment.
std::vector<uint8_t> make_vmlinux(bool is64 = true) {
  return with_note(make_elf(is64, 0x1000000,
                            {{0x1000000, 0x3000, 0x3000, 0x11},
                             {0x1200000, 0x1000, 0x1000, 0x22},
                             {0x1201000, 0x800, 0x5000, 0x33}}),
                   is64, "Linux");
}

TEST(Vmlinux, RecognizedByItsLinuxElfNote) {
  EXPECT_TRUE(is_linux_elf(make_vmlinux().data(), make_vmlinux().size()));
  EXPECT_TRUE(is_linux_elf(make_vmlinux(false).data(), make_vmlinux(false).size()));
  auto plain = make_elf(true, 0x1000000, {{0x1000000, 0x3000, 0x3000, 0x11}});
  EXPECT_FALSE(is_linux_elf(plain.data(), plain.size()));
  auto gnu = with_note(plain, true, "GNU");
  EXPECT_FALSE(is_linux_elf(gnu.data(), gnu.size()));
  auto linuxx = with_note(plain, true, "Linuxx");  // a longer name is another name
  EXPECT_FALSE(is_linux_elf(linuxx.data(), linuxx.size()));
  // The note cut off at the end of the file is not read past it.
  auto v = make_vmlinux();
  for (size_t cut : {v.size() - 1, v.size() - 9, size_t{70}})
    EXPECT_FALSE(is_linux_elf(v.data(), cut)) << cut;
}

// The machine of PayloadPlan tests, as the bzImage planner's input.
struct LinuxMachine {
  Machine m;
  PayloadImage im;
  std::vector<uint8_t> seed = std::vector<uint8_t>(32, 0x5a);
  SetupDataNode node{SETUP_RNG_SEED_TYPE, nullptr, 32};
  ImageInput in;
  explicit LinuxMachine(std::vector<uint8_t> f, bool is64 = true)
      : m(std::move(f), is64 ? PayloadType::kElf64 : PayloadType::kElf32) {
    EXPECT_EQ(parse_payload(m.file.data(), m.file.size(), m.in.type, im), Status::kOk);
    node.data = seed.data();
    in.vmlinux = &im;
    in.entry = is64 ? Entry::k64 : Entry::k32;
    in.has_initrd = true;
    in.initrd_size = 0x123456;
    in.cmdline_max_len = 30;
    in.free = m.free.get();
    in.memory_map = m.map.data();
    in.nmemory_map = m.map.size();
    in.setup_data = &node;
    in.nsetup_data = 1;
    in.purgatory_size = 0x1d000;
    in.purgatory_align = kPageSize;
    in.purgatory_max_end = k4GiB;
  }
  static constexpr uint32_t SETUP_RNG_SEED_TYPE = boot::SETUP_RNG_SEED;
};

TEST(Vmlinux, PlannedAtItsAddressesWithTheLinux64Handoff) {
  LinuxMachine lm(make_vmlinux());
  ImagePlan plan;
  ASSERT_EQ(plan_image(lm.in, plan), Status::kOk);
  EXPECT_EQ(plan.handoff, HandoffKind::kLinux64);
  EXPECT_EQ(plan.kernel_entry, 0x1000000u);  // e_entry, not load + 0x200
  // The whole footprint, gaps between segments included.
  EXPECT_EQ(plan.kernel_seg.start, 0x1000000u);
  EXPECT_EQ(plan.kernel_seg.end, 0x1206000u);
  EXPECT_EQ(plan.kernel.init_size, 0x206000u);
  // The initrd below Linux's initrd_addr_max, boot_params below 4 GiB,
  // nothing on the kernel.
  EXPECT_LE(plan.initrd.end, 0x80000000u);
  for (const Range& r : {plan.initrd, plan.setup, plan.purgatory, plan.scratch})
    EXPECT_TRUE(r.end <= plan.kernel_seg.start || r.start >= plan.kernel_seg.end);
  charon_params p = fresh_params();
  ASSERT_EQ(fill_params(lm.in, plan, p), Status::kOk);
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_LINUX64);
  EXPECT_EQ(p.kernel_entry, 0x1000000u);
  EXPECT_EQ(p.boot_params, plan.setup.start);
  EXPECT_EQ(p.map_ranges[0].start, 0x1000000u);
  EXPECT_EQ(p.map_ranges[0].len, 0x206000u);
  EXPECT_EQ(p.idmap_limit, 0u);
  // Typed: the reserved hole at 0x9fc00 is not memory.
  EXPECT_EQ(p.memory[0].start, 0u);
  EXPECT_EQ(p.memory[0].len, 0x9fc00u);
}

TEST(Vmlinux, BootParamsFromTheBzImageBuilder) {
  LinuxMachine lm(make_vmlinux());
  ImagePlan plan;
  ASSERT_EQ(plan_image(lm.in, plan), Status::kOk);
  const std::string cmdline = "console=ttyS0 root=/dev/ram0";
  std::vector<uint8_t> buf(setup_bytes(lm.in, cmdline.size()));
  ASSERT_EQ(build_setup(lm.in, plan, cmdline.data(), cmdline.size(), lm.m.map.data(),
                        lm.m.map.size(), buf.data(), buf.size()),
            Status::kOk);
  const auto& bp = *reinterpret_cast<const boot::boot_params*>(buf.data());
  EXPECT_EQ(uint64_t{bp.hdr.header}, boot::kHdrSMagic);
  EXPECT_EQ(uint64_t{bp.hdr.boot_flag}, boot::kBootFlag);
  EXPECT_EQ(uint64_t{bp.hdr.version}, 0x020cu);  // setup_data is read from 2.09 on
  EXPECT_EQ(uint64_t{bp.hdr.cmdline_size}, 2047u);
  EXPECT_EQ(uint64_t{bp.hdr.init_size}, 0u);  // no decompressor to make room for
  EXPECT_EQ(uint64_t{bp.hdr.type_of_loader}, 0xffu);
  EXPECT_EQ(uint64_t{bp.hdr.xloadflags}, boot::XLF_KERNEL_64);
  EXPECT_EQ(uint64_t{bp.hdr.cmd_line_ptr}, plan.setup.start + sizeof(boot::boot_params));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()) + sizeof(boot::boot_params)),
            cmdline);
  EXPECT_EQ(uint64_t{bp.hdr.ramdisk_image}, plan.initrd.start);
  EXPECT_EQ(uint64_t{bp.hdr.ramdisk_size}, 0x123456u);
  ASSERT_EQ(uint64_t{bp.e820_entries}, lm.m.map.size());
  EXPECT_EQ(uint64_t{bp.e820_table[3].addr}, 0x100000u);
  EXPECT_EQ(uint64_t{bp.e820_table[3].type}, 1u);
  // The RNG seed node, chained from the header.
  ASSERT_NE(uint64_t{bp.hdr.setup_data}, 0u);
  const uint8_t* node = buf.data() + (bp.hdr.setup_data - plan.setup.start);
  EXPECT_EQ(get32(node + 8), boot::SETUP_RNG_SEED);
  EXPECT_EQ(node[16], 0x5a);
}

TEST(Vmlinux, RefusalsEachWithTheirOwnStatus) {
  {  // its class's entry only
    LinuxMachine lm(make_vmlinux());
    lm.in.entry = Entry::k32;
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kVmlinuxEntry);
  }
  {  // no xloadflags says it takes 5-level paging
    LinuxMachine lm(make_vmlinux());
    lm.in.la57 = true;
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kNo5Level);
  }
  {  // its fixed place must be free RAM
    LinuxMachine lm(make_vmlinux());
    ASSERT_TRUE(lm.m.free->take_at(0x1204000, kPageSize));
    ImagePlan plan;
    EXPECT_EQ(plan_image(lm.in, plan), Status::kSegmentNotFree);
  }
  {  // an ELF32 vmlinux: linux32 at e_entry, all below 4 GiB
    LinuxMachine lm(make_vmlinux(false), false);
    ImagePlan plan;
    ASSERT_EQ(plan_image(lm.in, plan), Status::kOk);
    EXPECT_EQ(plan.handoff, HandoffKind::kLinux32);
    EXPECT_EQ(plan.kernel_entry, 0x1000000u);
  }
  // And plan_payload leaves --args-linux to plan_image.
  Machine m(make_vmlinux(), PayloadType::kElf64);
  m.in.args = ElfArgs::kLinux;
  PayloadPlan p;
  EXPECT_EQ(plan_payload(m.in, p), Status::kElfArgsLinux);
}

// ---- ELF boot notes (--args-elf), read back as the proposal defines them.
struct Notes {
  uint32_t records = 0;
  std::vector<std::pair<uint32_t, std::string>> notes;
  bool checksum_ok = false;
};
Notes read_notes(const std::vector<uint8_t>& b) {
  Notes n;
  EXPECT_EQ(get32(b.data()), 0x0e1fb007u);
  EXPECT_EQ(get32(b.data() + 4), b.size());
  n.records = get32(b.data() + 8) >> 16;
  // RFC 1071 over every byte, the stored checksum included: all ones.
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += uint32_t{b[i]} | uint32_t{b[i + 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  n.checksum_ok = sum == 0xffff;
  size_t off = 12;
  for (uint32_t r = 0; r < n.records; ++r) {
    EXPECT_EQ(get32(b.data() + off), 0u);  // no name
    const uint32_t descsz = get32(b.data() + off + 4), type = get32(b.data() + off + 8);
    EXPECT_LE(off + 12 + descsz, b.size());
    n.notes.push_back({type, std::string(reinterpret_cast<const char*>(b.data() + off + 12))});
    EXPECT_EQ(n.notes.back().second.size() + 1, descsz);
    off += 12 + align_up(descsz, 4);
  }
  EXPECT_EQ(off, b.size());
  return n;
}

TEST(BootNotes, Elf64GetsThemInRdiWithTheCommandLine) {
  Machine m(make_elf(true, 0x3000000, {{0x3000000, 0x100, 0x1000, 1}}), PayloadType::kElf64);
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  ASSERT_FALSE(p.info.empty());
  EXPECT_LE(p.info.end, k4GiB);
  std::vector<uint8_t> b(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, b.data(), b.size()), Status::kOk);
  const Notes n = read_notes(b);
  EXPECT_TRUE(n.checksum_ok);
  ASSERT_EQ(n.records, 3u);
  EXPECT_EQ(n.notes[0], (std::pair<uint32_t, std::string>{1, "charon-kexec"}));
  EXPECT_EQ(n.notes[1].first, 2u);
  EXPECT_EQ(n.notes[2], (std::pair<uint32_t, std::string>{4, "/boot/x.elf console=ttyS0"}));
  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kOk);
  EXPECT_EQ(params.regs64.rdi, p.info.start);
  EXPECT_EQ(params.regs64.rip, 0x3000000u);
  // A flipped byte breaks the checksum a payload may check.
  b[20] ^= 1;
  EXPECT_FALSE(read_notes(b).checksum_ok);
}

TEST(BootNotes, Elf32GetsKexecToolsStackFrame) {
  Machine m(make_elf(false, 0x200000, {{0x200000, 0x100, 0x1000, 1}}), PayloadType::kElf32);
  m.cmdline = "odd";  // a command line whose note needs padding
  m.in.cmdline = m.cmdline.data();
  m.in.cmdline_len = m.cmdline.size();
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  std::vector<uint8_t> b(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, b.data(), b.size()), Status::kOk);
  EXPECT_TRUE(read_notes(b).checksum_ok);
  EXPECT_EQ(read_notes(b).notes[2].second, "odd");
  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0x7f01234, params), Status::kOk);
  EXPECT_EQ(params.regs32.esp, 0x7f01234u);  // the block's stack_arg32_2: generic32 pushes
  EXPECT_EQ(params.stack_arg32_1, p.info.start);
  EXPECT_EQ(params.stack_arg32_2, 0u);
  EXPECT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kNoStackArgs);
  // --args-none: no notes, ESP the stack's top.
  m.in.args = ElfArgs::kNone;
  PayloadPlan q;
  m.free = std::make_unique<FreeList>();
  ASSERT_EQ(m.free->add(kM, 0x1ffe0000), Status::kOk);
  m.in.free = m.free.get();
  ASSERT_EQ(plan_payload(m.in, q), Status::kOk);
  EXPECT_TRUE(q.info.empty());
  ASSERT_EQ(fill_payload_params(m.in, q, 0x7f00000, 0x7f01234, params), Status::kOk);
  EXPECT_EQ(params.regs32.esp, 0x7f00000u);
}

// ---- the purgatory's map for payloads: typed, by the bzImage rule.
TEST(PayloadPlan, TypedMemoryLikeABzImage) {
  Machine m(make_mb2({}), PayloadType::kMultiboot2);
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  charon_region want[CHARON_MAX_MEMORY_RANGES];
  size_t nwant = 0;
  EXPECT_EQ(memory_ranges(m.map.data(), m.map.size(), want, nwant), 0u);
  ASSERT_EQ(p.nmemory, nwant);
  EXPECT_EQ(p.nmemory, 2u);  // [0, 0x9fc00) and [1 MiB, 0x1ffe0000): no reserved range
  charon_params params = fresh_params();
  params.idmap_limit = k4GiB;  // what the purgatory image carries: replaced
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kOk);
  EXPECT_EQ(params.idmap_limit, 0u);
  for (size_t i = 0; i < CHARON_MAX_MEMORY_RANGES; ++i) {
    EXPECT_EQ(params.memory[i].start, want[i].start) << i;
    EXPECT_EQ(params.memory[i].len, want[i].len) << i;
  }
  EXPECT_EQ(params.memory[1].start, 0x100000u);
  EXPECT_EQ(params.memory[1].len, 0x1ffe0000u - 0x100000u);
}

TEST(PayloadPlan, BzImageIsNotPlannedHere) {
  Machine m(charon::testing::make_bzimage({}), PayloadType::kBzImage);
  PayloadPlan p;
  EXPECT_EQ(plan_payload(m.in, p), Status::kNotThisType);
}

}  // namespace
}  // namespace charon::kimage
