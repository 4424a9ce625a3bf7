// ELF and multiboot kernels in the core: recognition, the checks on
// synthetic images (truncated, bad magic, overlapping segments, segments
// outside RAM), placement, and the multiboot information as a payload
// would read it (read back here field by field from the specifications).
#include <charon/align.h>
#include <charon/kimage/payload.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>
#include <synthetic_elf.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace charon::kimage {
namespace {

using namespace test;

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

TEST(PayloadElf, MoreLoadSegmentsThanTheCoreHoldsAreRefused) {
  std::vector<Seg> segs;
  for (uint64_t i = 0; i <= kMaxLoadSegments; ++i)
    segs.push_back({0x200000 + i * 0x1000, 0x100, 0x1000, uint8_t(i)});
  EXPECT_EQ(parse(make_elf(false, 0x200000, segs), PayloadType::kElf32), Status::kElfTooManyLoads);
  segs.pop_back();
  EXPECT_EQ(parse(make_elf(false, 0x200000, segs), PayloadType::kElf32), Status::kOk);
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

TEST(PayloadMultiboot, NoAddressFieldsAndNoElfIsRefused) {
  // A multiboot v1 header without the a.out kludge (flag 16) in a file
  // that is no ELF: nothing says where to load it.
  std::vector<uint8_t> f(0x2000, 0x90);
  put32(f, 0x100, 0x1badb002);
  put32(f, 0x104, 3);
  put32(f, 0x108, -(0x1badb002u + 3));
  EXPECT_EQ(parse(f, PayloadType::kMultiboot), Status::kMbNotElf);
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

TEST(PayloadPlan, SegmentsAbove4GiBForA32BitHandoffAreRefused) {
  // A multiboot2 image may be ELF64, but its handoff is 32-bit: the parser
  // already refuses the segment (plan_payload's kSegmentAbove4G is the
  // planner's own guard of that rule).
  auto f =
      make_elf(true, 0x200100, {{0x200000, 0x2000, 0x3000, 0x90}, {5 * k1GiB, 0x100, 0x1000, 1}});
  const uint32_t len = 16 + 8;
  put32(f, 0x1000, 0xe85250d6);
  put32(f, 0x1004, 0);
  put32(f, 0x1008, len);
  put32(f, 0x100c, -(0xe85250d6u + len));
  put32(f, 0x1010, 0);
  put32(f, 0x1014, 8);
  Machine m(f, PayloadType::kMultiboot2);
  PayloadPlan p;
  EXPECT_EQ(plan_payload(m.in, p), Status::kSegmentWraps);
}

TEST(PayloadPlan, NoRoomForModulesOrInformationIsRefused) {
  {  // a module larger than all free RAM
    Machine m(make_mb2({}), PayloadType::kMultiboot2);
    m.mods[0].size = 0x20000000;
    m.with_modules();
    PayloadPlan p;
    EXPECT_EQ(plan_payload(m.in, p), Status::kNoRoomModule);
  }
  {  // the modules fill free RAM to the last page: none left for the information
    Machine m(make_mb2({}), PayloadType::kMultiboot2);
    m.free = std::make_unique<FreeList>();
    ASSERT_EQ(m.free->add(0x200000, 0x400000), Status::kOk);  // the image takes 3 pages
    m.in.free = m.free.get();
    m.mods[0].size = 0x200000 - 0x3000 - kPageSize;  // mod1's one page takes the rest
    m.with_modules();
    PayloadPlan p;
    EXPECT_EQ(plan_payload(m.in, p), Status::kNoRoomInfo);
  }
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

// Xen 4.17's multiboot2 header (Debian's xen-4.17-amd64, read from the
// binary): a required information request for basic meminfo (4) and the
// memory map (6), a required module-align tag, and optional relocatable
// (2 MiB..4 GiB, 2 MiB aligned, prefer high), console flags, framebuffer,
// EFI boot services and EFI64 entry tags. Xen's boot code (head.S,
// reloc.c, setup.c) then needs: the machine state of 3.3 at the ELF
// entry (the EFI64 entry tag is for EFI loaders only), page-aligned
// modules (setup.c panics otherwise), a memory map whose entry_size is at
// least 24 (reloc.c skips a smaller one), and every command line with a
// first word to strip (the image's or module's path: Xen drops it for any
// loader whose name does not start with "GRUB 2").
TEST(PayloadPlan, Xen417HeaderGetsWhatXenReads) {
  std::vector<uint8_t> tags;
  for (const auto& t :
       {tag(1, 0, {4, 6}), tag(6, 0, {}), tag(10, 1, {0x200000, 0xffffffff, 0x200000, 2}),
        tag(4, 1, {2}), tag(5, 1, {0, 0, 0}), tag(7, 1, {}), tag(9, 1, {0x201000})})
    tags.insert(tags.end(), t.begin(), t.end());
  Machine m(make_mb2(tags), PayloadType::kMultiboot2);
  m.with_modules();
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  EXPECT_EQ(p.image.entry, 0x200100u);  // e_entry, not the EFI64 entry
  ASSERT_EQ(p.nchunks, 1u);
  EXPECT_EQ(p.chunks[0].start, 0x200000u);  // where it was linked, inside the relocatable range
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(is_aligned(p.modules[i].start, kPageSize));
    EXPECT_LE(p.modules[i].end, k4GiB);
  }
  std::vector<uint8_t> info(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, info.data(), info.size()), Status::kOk);
  bool meminfo = false, mmap = false;
  std::vector<std::string> strings;
  for (size_t off = 8; off + 8 <= info.size();) {
    const uint8_t* t = info.data() + off;
    const uint32_t type = get32(t), size = get32(t + 4);
    if (type == 0) break;
    if (type == 4) meminfo = get32(t + 8) == 639 && get32(t + 12) > 0;
    if (type == 6) mmap = get32(t + 8) >= 24 && (size - 16) / get32(t + 8) == m.map.size();
    if (type == 1) strings.push_back(reinterpret_cast<const char*>(t + 8));
    if (type == 3) strings.push_back(reinterpret_cast<const char*>(t + 16));
    off += align_up(size, 8);
  }
  EXPECT_TRUE(meminfo);
  EXPECT_TRUE(mmap);
  EXPECT_EQ(strings, (std::vector<std::string>{m.cmdline, m.m0, m.m1}));
  // What Xen strips is the path; what follows is its command line.
  EXPECT_EQ(strings[0].substr(0, strings[0].find(' ')), "/boot/x.elf");
  // A Xen header whose information request also required a framebuffer
  // (8) would be refused: charon has none to describe.
  tags = tag(1, 0, {4, 6, 8});
  EXPECT_EQ(parse(make_mb2(tags), PayloadType::kMultiboot2), Status::kMb2RequiredInfo);
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
