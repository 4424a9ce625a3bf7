// The one placement planner, with the cases that charon-kexec's and
// charon.efi's planners were each tested with before they became one.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/x86/identity_map.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <memory>
#include <random>
#include <vector>

namespace charon::kimage {
namespace {

using charon::testing::BzSpec;
using charon::testing::make_bzimage;
constexpr uint64_t kM = k1MiB;
constexpr uint64_t kG = k1GiB;

// A machine: its free memory and its kernel, and the input the core gets.
struct Case {
  std::vector<Range> usable;
  std::vector<uint8_t> kernel;
  std::unique_ptr<FreeList> free = std::make_unique<FreeList>();
  std::vector<MemRange> e820;  // the machine's map: the usable RAM unless set
  ImageInput in;

  Case(std::vector<Range> u, Entry e, BzSpec spec = {}) : usable(std::move(u)) {
    kernel = make_bzimage(spec);
    for (const Range& r : usable) EXPECT_EQ(free->add(r.start, r.end), Status::kOk);
    in.kernel = kernel.data();
    in.kernel_size = kernel.size();
    in.has_initrd = true;
    in.initrd_size = 20 * kM;
    in.cmdline_max_len = 100;
    in.entry = e;
    in.free = free.get();
    for (const Range& r : usable) e820.push_back({r.start, r.end, boot::E820Type::kRam});
    in.purgatory_size = 0x1d000;
    in.purgatory_align = kPageSize;
    in.purgatory_max_end = k4GiB;
  }
  Status plan(ImagePlan& p) {
    in.memory_map = e820.data();
    in.nmemory_map = e820.size();
    return plan_image(in, p);
  }
};

// The RAM of a QEMU guest: below the PCI hole, and above 4 GiB.
std::vector<Range> qemu(uint64_t below, uint64_t above) {
  std::vector<Range> r = {{kM, below}};
  if (above) r.push_back({k4GiB, k4GiB + above});
  return r;
}

bool inside(const Range& r, const std::vector<Range>& usable) {
  for (const Range& u : usable)
    if (u.start <= r.start && r.end <= u.end) return true;
  return false;
}

std::vector<Range> segments(const ImagePlan& p) {
  std::vector<Range> all = {p.kernel_seg, p.initrd, p.setup,     p.purgatory,
                            p.scratch,    p.backup, p.elfcorehdr};
  std::erase_if(all, [](const Range& r) { return r.empty(); });
  return all;
}

void expect_sane(const ImagePlan& p, const Case& c) {
  const auto all = segments(p);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(is_aligned(all[i].start, kPageSize) && is_aligned(all[i].end, kPageSize));
    EXPECT_TRUE(inside(all[i], c.usable))
        << "segment " << i << " at 0x" << std::hex << all[i].start << " is outside usable RAM";
    for (size_t j = i + 1; j < all.size(); ++j)
      EXPECT_TRUE(all[i].end <= all[j].start || all[j].end <= all[i].start)
          << "segments " << i << " and " << j << " overlap";
  }
  EXPECT_EQ(p.kernel_seg.start % p.kernel.kernel_alignment, 0u);
  EXPECT_GE(p.kernel_seg.size(), p.kernel.init_size);
  EXPECT_GE(p.initrd.size(), c.in.initrd_size);
  EXPECT_LE(p.purgatory.end, c.in.purgatory_max_end);
  EXPECT_LE(p.scratch.end, k4GiB);
  EXPECT_LE(p.setup.end, k4GiB);
  EXPECT_EQ(p.kernel_entry, p.kernel_seg.start + (c.in.entry == Entry::k64 ? 0x200 : 0));
}

TEST(Placement, Kernel64AndInitrdGoAbove4GWhenRamIsThere) {
  Case c(qemu(3 * kG - kM, 3 * kG), Entry::k64);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  EXPECT_GE(p.kernel_seg.start, k4GiB);
  EXPECT_GE(p.initrd.start, k4GiB);
  EXPECT_EQ(p.handoff, HandoffKind::kLinux64);
  ASSERT_EQ(p.nmemory, 2u) << "64-bit: all RAM is mapped";
  EXPECT_EQ(p.memory[1].start + p.memory[1].len, k4GiB + 3 * kG);
}

TEST(Placement, KernelTakesPrefAddressWhenFreeAndNoRamAbove4G) {
  Case c(qemu(512 * kM - kM, 0), Entry::k64);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  EXPECT_EQ(p.kernel_seg.start, p.kernel.pref_address);
}

TEST(Placement, KernelMovesUpToTheNextAlignedFreeAddressAbovePrefAddress) {
  // [16 MiB, 17 MiB) is taken: the kernel goes to the next 2 MiB boundary,
  // not below pref_address.
  Case c({{kM, 16 * kM}, {17 * kM, 0x3e000000}}, Entry::k64);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  EXPECT_EQ(p.kernel_seg.start, 18 * kM);
}

TEST(Placement, KernelWithoutAbove4GFlagStaysBelow4G) {
  BzSpec s;
  s.xloadflags = boot::XLF_KERNEL_64;
  Case c(qemu(3 * kG - kM, 3 * kG), Entry::k64, s);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  EXPECT_LE(p.kernel_seg.end, k4GiB);
  EXPECT_LE(p.initrd.end, uint64_t{p.kernel.initrd_addr_max} + 1);
}

TEST(Placement, Protocol32KeepsEverySegmentBelow4G) {
  Case c(qemu(3 * kG - kM, 3 * kG), Entry::k32);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  for (const Range& r : segments(p)) EXPECT_LE(r.end, k4GiB);
  EXPECT_EQ(p.handoff, HandoffKind::kLinux32);
  EXPECT_EQ(p.nmemory, 2u) << "the map is the purgatory's: all memory, paging off after";
}

TEST(Placement, Protocol32InitrdRespectsInitrdAddrMaxAndGoesHigh) {
  BzSpec s;
  s.initrd_addr_max = 0x37ffffff;
  Case c(qemu(3 * kG - kM, 0), Entry::k32, s);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  EXPECT_LE(p.initrd.end, 0x38000000u);
  EXPECT_GT(p.initrd.start, 0x30000000u) << "the initrd goes as high as allowed";
}

TEST(Placement, Protocol32RefusesWhenTheKernelFitsOnlyAbove4G) {
  // 12 MiB below 4 GiB (too little for init_size), plenty above.
  Case c(qemu(12 * kM, 3 * kG), Entry::k32);
  ImagePlan p;
  EXPECT_EQ(c.plan(p), Status::kNoRoomKernel32);
  // The same machine takes a 64-bit load.
  Case c64(qemu(12 * kM, 3 * kG), Entry::k64);
  ASSERT_EQ(c64.plan(p), Status::kOk);
  expect_sane(p, c64);
}

TEST(Placement, Protocol32RefusesWhenTheInitrdFitsOnlyAbove4G) {
  // The kernel fits in [16 MiB, 32 MiB); the 20 MiB initrd fits nowhere
  // below 4 GiB but would above.
  Case c(qemu(40 * kM, 3 * kG), Entry::k32);
  ImagePlan p;
  EXPECT_EQ(c.plan(p), Status::kNoRoomInitrd32);
}

TEST(Placement, EachShortageIsNamed) {
  struct Short {
    std::vector<Range> free;
    uint64_t purgatory_max_end;
    Status want;
  };
  const Short cases[] = {
      {{{kM, 8 * kM}}, k4GiB, Status::kNoRoomKernel},
      // Room for the kernel only; the initrd (20 MiB) fits nowhere.
      {{{16 * kM, 34 * kM}}, k4GiB, Status::kNoRoomInitrd},
      // With 32S relocations the purgatory must lie below 2 GiB.
      {{{16 * kM, 16 * kM + 16 * kM + 20 * kM + 8 * 4096}, {k2GiB, k2GiB + 64 * kM}},
       k2GiB,
       Status::kNoRoomPurgatory},
  };
  for (const Short& s : cases) {
    BzSpec spec;
    spec.xloadflags = boot::XLF_KERNEL_64;
    Case c(s.free, Entry::k64, spec);
    c.in.purgatory_max_end = s.purgatory_max_end;
    ImagePlan p;
    EXPECT_EQ(c.plan(p), s.want);
    EXPECT_STRNE(status_message(s.want), "?");
  }
}

TEST(Placement, ScratchIsLargeEnoughForEverythingItMaps) {
  Case c(qemu(3 * kG - kM, 3 * kG), Entry::k64);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  const uint64_t cmdline = p.setup.start + 4096;
  const charon_region mapped[] = {{0, kM},
                                  {p.kernel_seg.start, p.kernel_seg.size()},
                                  {p.initrd.start, p.initrd.size()},
                                  {p.setup.start, p.setup.size()},
                                  {p.purgatory.start, p.purgatory.size()},
                                  {p.scratch.start, p.scratch.size()},
                                  {cmdline, p.kernel.cmdline_max + 1u}};
  EXPECT_GE(p.scratch.size(),
            x86::scratch_bytes_needed(x86::MapLayout{p.memory, p.nmemory, mapped, 7}));
  // And it grows with what the EFI adapter adds (its memory-map buffer).
  Case e(qemu(3 * kG - kM, 3 * kG), Entry::k64);
  const Range far = {0x7'0000'0000, 0x7'0000'1000};
  e.in.extra_map = &far;
  e.in.nextra_map = 1;
  ImagePlan q;
  ASSERT_EQ(e.plan(q), Status::kOk);
  EXPECT_GT(q.scratch.size(), p.scratch.size());
}

// The scratch area holds the tables the purgatory builds from the block
// the core fills, on every CPU: its memory, every range the block
// requires (purgatory_map.cpp, known_layout), and then what it finds
// itself: the command line, and three EFI tables in reserved memory,
// each straddling a 2 MiB boundary.
TEST(Placement, ScratchHoldsThePurgatorysTypedTablesOnEveryCpu) {
  for (const bool crash : {false, true}) {
    Case c(qemu(3 * kG - kM, 3 * kG), Entry::k64);
    c.e820 = {{0, 0x9fc00, boot::E820Type::kRam},
              {0x9fc00, 0xa0000, boot::E820Type::kReserved},
              {0xf0000, kM, boot::E820Type::kReserved},
              {kM, 0x70001000, boot::E820Type::kRam},
              {0x70001000, 0x70004000, boot::E820Type::kReserved},
              {0x70004000, 3 * kG - 0x20000, boot::E820Type::kAcpi},
              {3 * kG - 0x20000, 3 * kG, boot::E820Type::kReserved},
              {k4GiB, k4GiB + 3 * kG, boot::E820Type::kRam}};
    if (crash) {
      c = Case({{0xb0000000, 0xb8000000}}, Entry::k64);
      c.e820 = {{0, 0x9fc00, boot::E820Type::kRam}, {kM, 3 * kG, boot::E820Type::kRam}};
      c.in.crash = {true, 0, 640 * 1024, 0x200};
    }
    ImagePlan plan;
    ASSERT_EQ(c.plan(plan), Status::kOk);
    charon_params p{};
    p.magic = CHARON_PARAMS_MAGIC;
    p.version = CHARON_PARAMS_VERSION;
    p.size = sizeof p;
    ASSERT_EQ(fill_params(c.in, plan, p), Status::kOk);
    std::vector<charon_region> req = {{plan.purgatory.start, plan.purgatory.size()},
                                      {p.scratch_base, p.scratch_size},
                                      {plan.kernel_seg.start, plan.kernel.payload_size},
                                      {plan.initrd.start, c.in.initrd_size},
                                      {plan.setup.start, plan.setup.size()},
                                      {p.boot_params, kPageSize},
                                      {0, kM}};
    for (const charon_region& r : p.map_ranges) req.push_back(r);
    if (p.backup_dst) {
      req.push_back({p.backup_src, p.backup_size});
      req.push_back({p.backup_dst, p.backup_size});
      req.push_back({plan.elfcorehdr.start, plan.elfcorehdr.size()});
    }
    const x86::MapLayout layout{p.memory, CHARON_MAX_MEMORY_RANGES, req.data(), req.size()};
    const size_t pages = p.scratch_size / kPageSize;
    for (const x86::MapPolicy pol : {x86::MapPolicy{true, false}, x86::MapPolicy{false, false},
                                     x86::MapPolicy{true, true}, x86::MapPolicy{false, true}}) {
      std::vector<uint8_t> buf((pages + 1) * kPageSize);
      uint8_t* base =
          reinterpret_cast<uint8_t*>(align_up(reinterpret_cast<uintptr_t>(buf.data()), kPageSize));
      x86::TableArena arena{0x100000, base, pages, 0};
      x86::IdentityMap m(arena, pol, layout);
      ASSERT_EQ(m.map_memory(), x86::MapStatus::Ok);
      for (const charon_region& r : req)
        if (r.len) ASSERT_EQ(m.map(r.start, r.start + r.len), x86::MapStatus::Ok);
      const uint64_t cmdline = p.boot_params + 4096;
      ASSERT_EQ(m.map(cmdline, cmdline + plan.kernel.cmdline_max + 1), x86::MapStatus::Ok);
      for (uint64_t efi : {0xfe000000 - 64ull, 0xfe800000 - 96ull, 0xfd000000 - 24ull})
        ASSERT_EQ(m.map(efi, efi + 200), x86::MapStatus::Ok) << std::hex << efi;
      EXPECT_LE(arena.used, pages);
    }
  }
}

// The crash reservation of a QEMU guest with 6 GiB lies just below 3 GiB.
Case crash_case(uint64_t purgatory_max_end,
                std::vector<Range> reservation = {{0xb0000000, 0xc0000000}}) {
  Case c(std::move(reservation), Entry::k64);
  c.e820 = {{0, 0x9fc00, boot::E820Type::kRam},
            {kM, 3 * kG, boot::E820Type::kRam},
            {k4GiB, k4GiB + 3 * kG, boot::E820Type::kRam}};
  c.in.initrd_size = 8 * kM;
  c.in.crash = {true, 0, 640 * 1024, 0x200};
  c.in.purgatory_max_end = purgatory_max_end;
  return c;
}

TEST(Placement, APurgatoryWithOnlyPcRelativeRelocationsMayGoAbove2GWhenNothingIsBelow) {
  Case c = crash_case(k4GiB);
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  EXPECT_GE(p.purgatory.start, 0xb0000000u);
  // Given RAM below 2 GiB, it still goes there (the entry contract's 2 GiB).
  Case low = crash_case(k4GiB, {{256 * kM, 512 * kM}, {0xb0000000, 0xc0000000}});
  ASSERT_EQ(low.plan(p), Status::kOk);
  EXPECT_LE(p.purgatory.end, k2GiB);
}

TEST(Placement, APurgatoryWith32SRelocationsNeverGoesAbove2G) {
  Case c = crash_case(k2GiB);
  ImagePlan p;
  EXPECT_EQ(c.plan(p), Status::kNoRoomPurgatory);
}

TEST(Placement, CrashExtrasAreDisjointAndBelow4GFor32Bit) {
  Case c = crash_case(k4GiB, {{0x60000000, 0x70000000}, {0x140000000, 0x150000000}});
  c.in.entry = Entry::k32;
  ImagePlan p;
  ASSERT_EQ(c.plan(p), Status::kOk);
  expect_sane(p, c);
  for (const Range& r : segments(p)) EXPECT_LE(r.end, k4GiB);
  EXPECT_EQ(p.backup.size(), 640u * 1024);
  EXPECT_EQ(p.elfcorehdr.size(), kPageSize);
}

TEST(FreeList, HighAndLowPreferencesAlignmentTakeAtAndGiveBack) {
  FreeList f;
  ASSERT_EQ(f.add(0x100000, 0x800000), Status::kOk);
  uint64_t a = 0;
  ASSERT_TRUE(f.take(0x1000, 0x200000, 0, UINT64_MAX, false, a));
  EXPECT_EQ(a, 0x200000u);
  ASSERT_TRUE(f.take(0x1000, 0x1000, 0, UINT64_MAX, true, a));
  EXPECT_EQ(a, 0x7ff000u);
  EXPECT_FALSE(f.take_at(0x200000, 0x1000)) << "already taken";
  EXPECT_TRUE(f.take_at(0x100000, 0x1000));
  EXPECT_FALSE(f.take(0x800000, 0x1000, 0, UINT64_MAX, false, a));
  f.give_back(0x7ff000, 0x800000);
  f.give_back(0x200000, 0x201000);
  f.give_back(0x100000, 0x101000);
  EXPECT_EQ(f.count(), 1u) << "given back, the blocks merge again";
  EXPECT_EQ(f.total(), 0x700000u);
}

TEST(FreeList, AddRoundsInwardMergesAndKnowsItsCapacity) {
  FreeList f;
  ASSERT_EQ(f.add(0x1001, 0x3fff), Status::kOk);  // rounds to [0x2000, 0x3000)
  ASSERT_EQ(f.add(0x3000, 0x5000), Status::kOk);  // touches: merges
  ASSERT_EQ(f.count(), 1u);
  EXPECT_EQ(f[0].start, 0x2000u);
  EXPECT_EQ(f[0].end, 0x5000u);
  FreeList g;
  for (size_t i = 0; i < FreeList::kCapacity; ++i)
    ASSERT_EQ(g.add(i * 0x2000, i * 0x2000 + 0x1000), Status::kOk);
  EXPECT_EQ(g.add(0x10000000, 0x10001000), Status::kTooManyRanges);
}

TEST(Placement, RandomMapsGiveDisjointSegmentsInsideRamOrAnError) {
  std::mt19937_64 rng(12345);
  int planned = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<Range> ram;
    uint64_t at = 0;
    for (int i = 0; i < 12; ++i) {
      at += (rng() % 64 + 1) * kM;
      const uint64_t len = (rng() % 1024 + 1) * kM;
      if (rng() % 3) ram.push_back({std::max(at, kM), at + len});
      at += len;
    }
    BzSpec s;
    s.pref_address = (rng() % 64) * 2 * kM;
    Case c(ram, rng() % 2 ? Entry::k64 : Entry::k32, s);
    c.in.initrd_size = (rng() % 200 + 1) * kM;
    ImagePlan p;
    const Status st = c.plan(p);
    if (st != Status::kOk) {
      EXPECT_NE(std::string(status_message(st)).find("do not fit"), std::string::npos)
          << status_message(st);
      continue;
    }
    ++planned;
    expect_sane(p, c);
    if (c.in.entry == Entry::k32)
      for (const Range& r : segments(p)) EXPECT_LE(r.end, k4GiB);
  }
  EXPECT_GT(planned, 100) << "the property was checked on too few successful plans";
}

}  // namespace
}  // namespace charon::kimage

namespace charon::kimage {
namespace {

TEST(Placement, PrefAddressIsTheFloorEvenWhenOnlyMemoryBelowItIsFree) {
  // 32 MiB free below pref_address (16 MiB), nothing fits above it: a
  // kernel placed below would decompress to 16 MiB into memory nobody
  // reserved, so there is no placement.
  Case c({{kM, 16 * kM}, {40 * kM, 41 * kM}}, Entry::k64);
  c.in.has_initrd = false;
  ImagePlan p;
  EXPECT_EQ(c.plan(p), Status::kNoRoomKernel);
  // With room at or above it, the kernel goes there.
  Case ok({{kM, 16 * kM}, {16 * kM, 64 * kM}}, Entry::k64);
  ok.in.has_initrd = false;
  ASSERT_EQ(ok.plan(p), Status::kOk);
  EXPECT_GE(p.kernel_seg.start, p.kernel.pref_address);
}

TEST(Placement, A64BitHandoffUnderFiveLevelPagingNeedsXlf5Level) {
  BzSpec spec;  // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, no XLF_5LEVEL
  Case c(qemu(512 * kM, 0), Entry::k64, spec);
  c.in.la57 = true;
  ImagePlan p;
  EXPECT_EQ(c.plan(p), Status::kNo5Level);
  EXPECT_NE(std::string(status_message(Status::kNo5Level)).find("32-bit entry"), std::string::npos);
  // The 32-bit entry turns paging off: safe.
  Case c32(qemu(512 * kM, 0), Entry::k32, spec);
  c32.in.la57 = true;
  EXPECT_EQ(c32.plan(p), Status::kOk);
  // A kernel with XLF_5LEVEL takes the 64-bit entry.
  spec.xloadflags |= boot::XLF_5LEVEL;
  Case five(qemu(512 * kM, 0), Entry::k64, spec);
  five.in.la57 = true;
  EXPECT_EQ(five.plan(p), Status::kOk);
}

}  // namespace
}  // namespace charon::kimage

namespace charon::kimage {
namespace {

TEST(Placement, EachBadInputHasItsOwnStatusAndNothingIsPlaced) {
  ImagePlan p;
  Case empty(qemu(512 * kM, 0), Entry::k64);
  empty.in.initrd_size = 0;  // an initrd was given, but it has no bytes
  EXPECT_EQ(empty.plan(p), Status::kEmptyInitrd);
  Case no_ram(qemu(512 * kM, 0), Entry::k64);
  no_ram.e820 = {{0, 0x9fc00, boot::E820Type::kReserved}};
  EXPECT_EQ(no_ram.plan(p), Status::kNoRam);
  Case align(qemu(512 * kM, 0), Entry::k64);
  align.in.purgatory_align = 2 * kPageSize;
  EXPECT_EQ(align.plan(p), Status::kBadPurgatoryAlign);
  Case longline(qemu(512 * kM, 0), Entry::k64);
  longline.in.cmdline_max_len = 4096;  // the synthetic kernel's cmdline_size is 2047
  EXPECT_EQ(longline.plan(p), Status::kCmdlineTooLong);
  // None of them took memory from the free list.
  for (Case* c : {&empty, &no_ram, &align, &longline})
    EXPECT_EQ(c->free->total(), align_down(512 * kM, kPageSize) - kM);
}

TEST(Params, MoreMapRangesThanTheBlockHoldsIsRefused) {
  ImageInput in;
  std::vector<Range> extra(CHARON_MAX_MAP_RANGES, Range{k4GiB, k4GiB + kPageSize});
  in.extra_map = extra.data();
  in.nextra_map = extra.size();  // + the kernel's init_size range = one too many
  ImagePlan plan{};
  plan.handoff = HandoffKind::kLinux64;
  charon_params p{};
  p.magic = CHARON_PARAMS_MAGIC;
  p.version = CHARON_PARAMS_VERSION;
  p.size = sizeof p;
  EXPECT_EQ(fill_params(in, plan, p), Status::kTooManyMapRanges);
  in.nextra_map = CHARON_MAX_MAP_RANGES - 1;
  EXPECT_EQ(fill_params(in, plan, p), Status::kOk);
}

}  // namespace
}  // namespace charon::kimage
