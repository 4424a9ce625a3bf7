// Indirection lists: the builder's layout, the C++ model of the
// trampoline's walk (x86_64/trampoline/relocate.asm) over plain memory, the validator
// on hostile lists, and the identity map the trampoline runs under.
#include <charon/align.h>
#include <charon/loader/indirection.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace charon::loader {
namespace {

constexpr uint64_t kPageSize = kIndPageSize;

// Host memory standing in for physical [base, base + pages * 4 KiB).
class FakePhys {
 public:
  explicit FakePhys(size_t pages, uint64_t base = 0x40000000)
      : base_(base), mem_(pages * kPageSize) {}

  PhysWindow window() { return {this, &FakePhys::map}; }
  uint8_t* at(uint64_t phys) { return mem_.data() + (phys - base_); }
  uint64_t* words(uint64_t phys) { return reinterpret_cast<uint64_t*>(at(phys)); }
  uint64_t page(size_t i) const { return base_ + i * kPageSize; }
  void fill_page(uint64_t phys, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < kPageSize / 8; ++i) words(phys)[i] = rng();
  }
  ListArena arena(size_t first_page, size_t pages) {
    return {page(first_page), words(page(first_page)), pages};
  }
  const std::vector<uint8_t>& bytes() const { return mem_; }

 private:
  static uint8_t* map(void* ctx, uint64_t phys, uint64_t len) {
    auto* self = static_cast<FakePhys*>(ctx);
    if (phys < self->base_ || phys + len > self->base_ + self->mem_.size()) return nullptr;
    return self->at(phys);
  }
  uint64_t base_;
  std::vector<uint8_t> mem_;
};

ValidateLimits limits(std::vector<DestRun>& runs, uint64_t control = 0) {
  return {1 << 20, control, nullptr, 0, runs.data(), runs.size()};
}

// A hand-written list in one page: entries as given, from the page's start.
uint64_t write_list(FakePhys& m, uint64_t page, std::initializer_list<uint64_t> entries) {
  size_t i = 0;
  for (uint64_t e : entries) m.words(page)[i++] = e;
  return page | kIndIndirection;
}

// ---- builder + model: the copies land where they should --------------------

TEST(Indirection, ModelWalkOfABuiltListPutsShuffledSourcesZeroPagesAndChainsInPlace) {
  // 2000 destination pages in 4 segments (one of them zeroed) need 4+ list
  // pages, so the walk follows chained INDIRECTION entries.
  FakePhys m(8192);
  const uint64_t dst_base = m.page(0), src_base = m.page(3000);
  const size_t n = 2000;
  std::vector<size_t> slot(n);
  std::iota(slot.begin(), slot.end(), 0);
  std::shuffle(slot.begin(), slot.end(), std::mt19937_64(7));
  for (size_t i = 0; i < n; ++i) m.fill_page(m.page(3000 + slot[i]), i);
  for (size_t i = 0; i < n; ++i) std::memset(m.at(m.page(i)), 0xa5, kPageSize);  // poison
  m.fill_page(m.page(8000), 99);                                                 // untouched

  IndirectionBuilder b(m.arena(6000, 16));
  for (size_t i = 0; i < n; ++i) {
    if (i >= 500 && i < 700) continue;  // the zero segment, below
    ASSERT_EQ(b.copy(dst_base + i * kPageSize, src_base + slot[i] * kPageSize, kPageSize),
              IndStatus::Ok);
  }
  ASSERT_EQ(b.zero(dst_base + 500 * kPageSize, 200 * kPageSize - 100), IndStatus::Ok);  // rounds up
  ASSERT_EQ(b.finish(), IndStatus::Ok);
  EXPECT_GE(b.pages_used(), 4u);

  std::vector<DestRun> runs(16);
  const ValidateResult v = validate_list(b.head(), m.window(), limits(runs));
  ASSERT_EQ(v.status, IndStatus::Ok) << ind_status_name(v.status) << " at " << v.index;
  const std::vector<uint8_t> before = m.bytes();
  ASSERT_EQ(relocate_model(b.head(), m.window(), 1 << 20), IndStatus::Ok);

  for (size_t i = 0; i < n; ++i) {
    std::vector<uint64_t> want(kPageSize / 8, 0);
    if (i < 500 || i >= 700) {
      std::mt19937_64 rng(i);
      for (auto& w : want) w = rng();
    }
    ASSERT_EQ(std::memcmp(m.at(dst_base + i * kPageSize), want.data(), kPageSize), 0)
        << "page " << i;
  }
  // Nothing outside the destinations changed: sources, list pages, the rest.
  EXPECT_EQ(std::memcmp(m.bytes().data() + n * kPageSize, before.data() + n * kPageSize,
                        before.size() - n * kPageSize),
            0);
}

TEST(Indirection, BuilderKeepsEachPagesLastSlotForTheLinkAndWritesDestinationOnlyOnAGap) {
  FakePhys m(1200);
  IndirectionBuilder b(m.arena(1100, 4));
  ASSERT_EQ(b.copy(m.page(0), m.page(600), 600 * kPageSize), IndStatus::Ok);    // contiguous
  ASSERT_EQ(b.copy(m.page(700), m.page(601 + 400), kPageSize), IndStatus::Ok);  // a gap
  ASSERT_EQ(b.finish(), IndStatus::Ok);
  const uint64_t* p0 = m.words(m.page(1100));
  const uint64_t* p1 = m.words(m.page(1101));
  EXPECT_EQ(p0[0], m.page(0) | kIndDestination);
  EXPECT_EQ(p0[1], m.page(600) | kIndSource);
  EXPECT_EQ(p0[510], m.page(600 + 509) | kIndSource);
  EXPECT_EQ(p0[511], m.page(1101) | kIndIndirection);
  EXPECT_EQ(p1[0], m.page(600 + 510) | kIndSource);
  EXPECT_EQ(p1[89], m.page(600 + 599) | kIndSource);
  EXPECT_EQ(p1[90], m.page(700) | kIndDestination);
  EXPECT_EQ(p1[91], m.page(1001) | kIndSource);
  EXPECT_EQ(p1[92], kIndDone);
  EXPECT_EQ(b.head(), m.page(1100) | kIndIndirection);
  EXPECT_EQ(b.pages_used(), 2u);
}

TEST(Indirection, BuilderRejectsMisalignedEmptyOverflowingAndLateEntries) {
  FakePhys m(16);
  IndirectionBuilder b(m.arena(0, 1));
  EXPECT_EQ(b.copy(m.page(2) + 8, m.page(3), kPageSize), IndStatus::Misaligned);
  EXPECT_EQ(b.copy(m.page(2), m.page(3) + 0x800, kPageSize), IndStatus::Misaligned);
  EXPECT_EQ(b.zero(m.page(2) + 0x10, kPageSize), IndStatus::Misaligned);
  EXPECT_EQ(b.copy(m.page(2), m.page(3), 0), IndStatus::BadRange);
  EXPECT_EQ(b.zero(~uint64_t{0} & kIndAddrMask, 2 * kPageSize), IndStatus::BadRange);
  // One page holds 511 entries and DONE: 510 sources after a DESTINATION fit.
  EXPECT_EQ(b.zero(m.page(4), 510 * kPageSize), IndStatus::Ok);
  EXPECT_EQ(b.zero(m.page(4) + 510 * kPageSize, kPageSize), IndStatus::OutOfListPages);
  EXPECT_EQ(b.finish(), IndStatus::Ok);
  EXPECT_EQ(m.words(m.page(0))[511], kIndDone);
  EXPECT_EQ(b.zero(m.page(5), kPageSize), IndStatus::Finished);
}

// ---- the model is the asm: its quirks, one by one --------------------------

TEST(Indirection, ZeroEntryZeroesTheDestinationPageAndAdvancesItAsXenDoes) {
  FakePhys m(8);
  m.fill_page(m.page(1), 1);
  m.fill_page(m.page(2), 2);
  std::vector<uint8_t> src(m.at(m.page(2)), m.at(m.page(2)) + kPageSize);
  const uint64_t head = write_list(
      m, m.page(0), {m.page(1) | kIndDestination, kIndZero, m.page(2) | kIndSource, kIndDone});
  ASSERT_EQ(relocate_model(head, m.window(), 100), IndStatus::Ok);
  EXPECT_TRUE(std::all_of(m.at(m.page(1)), m.at(m.page(2)), [](uint8_t c) { return c == 0; }));
  EXPECT_EQ(std::memcmp(m.at(m.page(2)), src.data(), kPageSize), 0);  // copied onto itself
}

TEST(Indirection, WalkTestsFlagsInLinuxOrderMasksLowBitsAndSkipsEntriesWithoutFlags) {
  FakePhys m(8);
  std::vector<PageOp> ops;
  // DESTINATION|SOURCE acts as DESTINATION; 0 and 0x20 are skipped;
  // SOURCE|ZERO copies; a source with stray low bits is masked.
  const uint64_t head =
      write_list(m, m.page(0),
                 {m.page(3) | kIndDestination | kIndSource, 0, 0x20,
                  m.page(5) | kIndSource | kIndZero, m.page(6) | 0x7e8, kIndDone | kIndSource});
  const WalkVisitor v{
      &ops, [](void* c, const PageOp& op) { static_cast<std::vector<PageOp>*>(c)->push_back(op); },
      nullptr};
  ASSERT_EQ(walk_list(head, m.window(), 100, v), IndStatus::Ok);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].dst, m.page(3));
  EXPECT_EQ(ops[0].src, m.page(5));
  EXPECT_FALSE(ops[0].zero);
  EXPECT_EQ(ops[1].dst, m.page(4));
  EXPECT_EQ(ops[1].src, m.page(6));  // 0x7e8 has SOURCE (0x8) set
}

TEST(Indirection, WalkReadsOnIntoTheNextPageWhenAPageHasNoLink) {
  FakePhys m(8);
  uint64_t* p = m.words(m.page(0));
  p[0] = m.page(4) | kIndDestination;
  for (int i = 1; i < 512; ++i) p[i] = kIndZero;
  m.words(m.page(1))[0] = kIndDone;
  size_t ops = 0;
  const WalkVisitor v{&ops, [](void* c, const PageOp&) { ++*static_cast<size_t*>(c); }, nullptr};
  EXPECT_EQ(walk_list(m.page(0) | kIndIndirection, m.window(), 1000, v), IndStatus::Ok);
  EXPECT_EQ(ops, 511u);
}

// ---- the validator: hostile lists get one clear error -----------------------

struct Hostile {
  FakePhys m{64};
  std::vector<DestRun> runs = std::vector<DestRun>(8);
  ValidateResult check(uint64_t head, uint64_t control = 0, size_t max_entries = 1 << 20) {
    ValidateLimits l = limits(runs, control);
    l.max_entries = max_entries;
    return validate_list(head, m.window(), l);
  }
};

TEST(IndirectionValidator, RejectsASourceOrDestinationThatIsNotPageAligned) {
  Hostile h;
  const uint64_t p = h.m.page(10);
  EXPECT_EQ(h.check(write_list(h.m, h.m.page(0), {(p + 0x100) | kIndDestination, kIndDone})).status,
            IndStatus::Misaligned);
  const ValidateResult r = h.check(write_list(
      h.m, h.m.page(0), {p | kIndDestination, (h.m.page(20) + 0x40) | kIndSource, kIndDone}));
  EXPECT_EQ(r.status, IndStatus::Misaligned);
  EXPECT_EQ(r.index, 2u);  // the head is entry 0, the page's first entry 1
}

TEST(IndirectionValidator, RejectsAListWithoutDoneWithinTheBound) {
  Hostile h;
  uint64_t* p = h.m.words(h.m.page(0));
  p[0] = h.m.page(10) | kIndDestination;
  for (int i = 1; i < 511; ++i) p[i] = kIndZero;
  p[511] = h.m.page(1) | kIndIndirection;
  h.m.words(h.m.page(1))[0] = kIndDone;
  EXPECT_EQ(h.check(h.m.page(0) | kIndIndirection, 0, 300).status, IndStatus::NoDone);
  EXPECT_EQ(h.check(h.m.page(0) | kIndIndirection, 0, 600).status, IndStatus::Ok);
}

TEST(IndirectionValidator, RejectsAnIndirectionLoopOfOneTwoOrThreePages) {
  for (int len = 1; len <= 3; ++len) {
    Hostile h;
    for (int i = 0; i < len; ++i)
      write_list(h.m, h.m.page(i),
                 {h.m.page(30 + i) | kIndDestination, kIndZero,
                  h.m.page((i + 1) % len) | kIndIndirection});
    EXPECT_EQ(h.check(h.m.page(0) | kIndIndirection).status, IndStatus::Loop) << len << " pages";
  }
  // A chain that enters a loop after a tail is a loop too.
  Hostile h;
  write_list(h.m, h.m.page(0), {h.m.page(1) | kIndIndirection});
  write_list(h.m, h.m.page(1), {h.m.page(2) | kIndIndirection});
  write_list(h.m, h.m.page(2), {h.m.page(1) | kIndIndirection});
  EXPECT_EQ(h.check(h.m.page(0) | kIndIndirection).status, IndStatus::Loop);
}

TEST(IndirectionValidator, RejectsEntriesWithNoFlagOrTwoAndAHeadThatIsNoList) {
  Hostile h;
  EXPECT_EQ(h.check(write_list(h.m, h.m.page(0), {0, kIndDone})).status, IndStatus::BadFlags);
  EXPECT_EQ(
      h.check(write_list(h.m, h.m.page(0), {h.m.page(9) | kIndDestination | kIndSource, kIndDone}))
          .status,
      IndStatus::BadFlags);
  EXPECT_EQ(h.check(h.m.page(9) | kIndSource).status, IndStatus::BadFlags);
  EXPECT_EQ(h.check(kIndDone).status, IndStatus::Ok);  // the empty list
}

TEST(IndirectionValidator, RejectsSourceBeforeDestinationAndAPageThatRunsOff) {
  Hostile h;
  EXPECT_EQ(h.check(write_list(h.m, h.m.page(0), {h.m.page(9) | kIndSource, kIndDone})).status,
            IndStatus::NoDestination);
  uint64_t* p = h.m.words(h.m.page(0));
  p[0] = h.m.page(10) | kIndDestination;
  for (int i = 1; i < 512; ++i) p[i] = kIndZero;
  h.m.words(h.m.page(1))[0] = kIndDone;
  const ValidateResult r = h.check(h.m.page(0) | kIndIndirection);
  EXPECT_EQ(r.status, IndStatus::RunsOffPage);
  EXPECT_EQ(r.addr, h.m.page(1));
}

TEST(IndirectionValidator, RejectsAListPageOutsideTheMemoryItWasGiven) {
  Hostile h;
  EXPECT_EQ(h.check(0x1000 | kIndIndirection).status, IndStatus::Unreadable);
}

TEST(IndirectionValidator, RejectsTheControlPageAsDestinationSourceOrListPage) {
  Hostile h;
  const uint64_t c = h.m.page(40);
  EXPECT_EQ(
      h.check(write_list(h.m, h.m.page(0), {c | kIndDestination, kIndZero, kIndDone}), c).status,
      IndStatus::HitsControlPage);
  EXPECT_EQ(h.check(write_list(h.m, h.m.page(0),
                               {h.m.page(9) | kIndDestination, c | kIndSource, kIndDone}),
                    c)
                .status,
            IndStatus::HitsControlPage);
  EXPECT_EQ(h.check(c | kIndIndirection, c).status, IndStatus::HitsControlPage);
}

TEST(IndirectionValidator, RejectsADestinationOnAKeptRangeOrOnAListPage) {
  Hostile h;
  const charon_region tables{h.m.page(20) + 0x800, 0x1000};
  ValidateLimits l = limits(h.runs);
  l.keep = &tables;
  l.nkeep = 1;
  uint64_t head =
      write_list(h.m, h.m.page(0), {h.m.page(21) | kIndDestination, kIndZero, kIndDone});
  EXPECT_EQ(validate_list(head, h.m.window(), l).status, IndStatus::HitsKeptRange);
  head = write_list(h.m, h.m.page(0), {h.m.page(22) | kIndDestination, kIndZero, kIndDone});
  EXPECT_EQ(validate_list(head, h.m.window(), l).status, IndStatus::Ok);
  // The list page written after it was read is still rejected.
  head = write_list(h.m, h.m.page(0), {h.m.page(0) | kIndDestination, kIndZero, kIndDone});
  EXPECT_EQ(h.check(head).status, IndStatus::HitsListPage);
}

TEST(IndirectionValidator, RejectsASourceOverwrittenBeforeItIsReadButNotAfter) {
  Hostile h;
  const uint64_t a = h.m.page(10), b = h.m.page(11);
  // b <- a, then a <- b: the second reads what the first wrote.
  uint64_t head = write_list(
      h.m, h.m.page(0),
      {b | kIndDestination, a | kIndSource, a | kIndDestination, b | kIndSource, kIndDone});
  const ValidateResult r = h.check(head);
  EXPECT_EQ(r.status, IndStatus::SourceClobbered);
  EXPECT_EQ(r.addr, b);
  // b <- a, then c <- ... reading a again is fine: nobody wrote a.
  head = write_list(h.m, h.m.page(0),
                    {b | kIndDestination, a | kIndSource, h.m.page(12) | kIndDestination,
                     a | kIndSource, kIndDone});
  EXPECT_EQ(h.check(head).status, IndStatus::Ok);
}

TEST(IndirectionValidator, SaysWhenItsRunBufferIsTooSmall) {
  Hostile h;
  h.runs.resize(1);
  const uint64_t head = write_list(h.m, h.m.page(0),
                                   {h.m.page(10) | kIndDestination, kIndZero,
                                    h.m.page(12) | kIndDestination, kIndZero, kIndDone});
  EXPECT_EQ(h.check(head).status, IndStatus::TooManyRuns);
}

// ---- the identity map the trampoline runs under -----------------------------

// Translates `va` through 4-level tables in `arena`; ~0 when not mapped.
uint64_t translate(const x86::TableArena& arena, uint64_t root, uint64_t va) {
  uint64_t table = root;
  for (unsigned shift : {39u, 30u, 21u}) {
    const auto* t = static_cast<const uint64_t*>(arena.to_virt(table));
    if (!t) return ~uint64_t{0};
    const uint64_t e = t[(va >> shift) & 511];
    if (!(e & 1) || !(e & 2)) return ~uint64_t{0};
    if (e & 0x80)
      return (e & x86::kPhysAddrMask & ~((uint64_t{1} << shift) - 1)) |
             (va & ((uint64_t{1} << shift) - 1));
    table = e & x86::kPhysAddrMask;
  }
  return ~uint64_t{0};
}

TEST(Indirection, MapRelocationMapsEveryListSourceAndDestinationPageOneToOne) {
  // Sources and list far above the destinations: 5 GiB apart, 3 ranges.
  FakePhys m(64, 5ull << 30);
  IndirectionBuilder b(m.arena(0, 4));
  ASSERT_EQ(b.copy(0x1000000, m.page(10), 3 * kPageSize), IndStatus::Ok);
  ASSERT_EQ(b.zero(0x7fe00000, kPageSize), IndStatus::Ok);
  ASSERT_EQ(b.finish(), IndStatus::Ok);

  alignas(4096) static uint64_t tables[16][512];
  x86::TableArena arena{0x100000, reinterpret_cast<uint8_t*>(tables), 16, 0};
  x86::IdentityMap map(arena, {.gbpages = false, .la57 = false});
  ASSERT_EQ(map_relocation(map, b.head(), m.window(), 100), IndStatus::Ok);
  for (uint64_t va : {m.page(0), m.page(10), m.page(12), uint64_t{0x1000000}, uint64_t{0x1002000},
                      uint64_t{0x7fe00000}})
    EXPECT_EQ(translate(arena, map.root(), va), va) << std::hex << va;
  EXPECT_EQ(translate(arena, map.root(), 0x40000000), ~uint64_t{0});  // nothing else

  x86::TableArena tiny{0x100000, reinterpret_cast<uint8_t*>(tables), 3, 0};
  x86::IdentityMap small(tiny, {.gbpages = false, .la57 = false});
  EXPECT_EQ(map_relocation(small, b.head(), m.window(), 100), IndStatus::MapFailed);
}

}  // namespace
}  // namespace charon::loader
