// The relocation scene: the harness plays a firmware after
// ExitBootServices. QEMU loaded the purgatory and the probe where they
// belong; the harness takes their pages (and the zero page and cmdline)
// away to shuffled source pages, poisons every destination, and lets the
// trampoline (x86_64/trampoline/relocate.asm) put everything back and enter the
// purgatory, whose digest and the probe then judge the result.
//
// What makes it hard for the trampoline:
//  - it runs from a page of the probe's destination, which the list
//    overwrites (so it must have moved into its control page first), and
//    the list's first copy reads that very page as a source: region 3 of
//    the digest is that copy, so the source was read before it was hit;
//  - some probe pages come from purgatory destination pages that later
//    entries overwrite (sources under destinations, in a safe order);
//  - two pages are IND_ZERO over poison: region 4 of the digest is them;
//  - it is called with CR4.PGE set, DF set, and (reloc64) the harness's own
//    CR3, or (reloc32) from protected mode with paging off.
#include "reloc.h"

#include <charon/align.h>
#include <charon/loader/indirection.h>
#include <charon/mem.h>
#include <charon/sha256.h>
#include <charon/x86/cr.h>
#include <charon/x86/relocate.h>

#include "plan.h"

namespace harness {
namespace {

using namespace charon::loader;
using charon::kPageSize;
using probe::kProbeAddr;

// Above every purgatory address the runner uses, below QEMU's 1 GiB.
constexpr uint64_t kStash = 0x38000000;       // final contents while the scene is set
constexpr uint64_t kPoisonPage = 0x383ff000;  // break=nozero copies this instead of zeroing
constexpr uint64_t kSourcePool = 0x38400000;  // shuffled source slots
constexpr uint64_t kPoolSlots = 1024;
constexpr uint64_t kControlPage = 0x39000000;
constexpr uint64_t kListPages = 0x39001000;
constexpr size_t kListPageCount = 15;
constexpr uint64_t kTables = 0x39100000;
constexpr size_t kTablePages = 32;
// Destinations of their own next to the descriptor (probe/descriptor.h).
constexpr uint64_t kCheckAddr = 0x00e40000;  // the trampoline's page, as it was read
constexpr uint64_t kZeroAddr = 0x00e50000;
constexpr uint64_t kZeroPages = 2;
// Where the trampoline runs before it moves: the probe's fourth page.
constexpr uint64_t kTrampoline = kProbeAddr + 3 * kPageSize;
constexpr uint8_t kPoison = 0xcc;
constexpr int kMaxCopies = 256;

uint8_t* at(uint64_t phys) {
  return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(phys));
}

// The page the trampoline runs from: poison around its code, so the copy
// that reads it is checked byte for byte.
void write_trampoline_page(uint64_t page) {
  charon::mem_fill(at(page), kPoison, kPageSize);
  charon::mem_copy(at(page), charon_reloc_start, charon_reloc_end - charon_reloc_start);
}

struct Copy {
  uint64_t dst, src;
};

uint64_t pages_of(uint64_t bytes) {
  return charon::align_up(bytes, kPageSize) / kPageSize;
}

uint64_t next_random(uint64_t& s) {  // xorshift64
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

}  // namespace

void reloc_add_regions(charon_params* p) {
  write_trampoline_page(kCheckAddr);
  charon::mem_fill(at(kZeroAddr), 0, kZeroPages * kPageSize);
  p->regions[3] = {kCheckAddr, kPageSize};
  p->regions[4] = {kZeroAddr, kZeroPages * kPageSize};
  charon::sha256_regions(p->regions, CHARON_MAX_REGIONS, charon::Sha256Impl::Scalar, p->digest);
  for (int i = 3; i < 5; ++i)
    charon::sha256_regions(&p->regions[i], 1, charon::Sha256Impl::Scalar, p->region_digests[i]);
}

const char* reloc_plan_entry(const World& w, uint64_t* value) {
  const Options& o = *w.opt;
  // The headers are about to be scattered and poisoned: read them now.
  const uint64_t purg_entry = o.purg + w.purg->entry64, purg_mem = w.purg->mem_size;
  // ---- the copies, in list order -------------------------------------------
  static Copy copies[kMaxCopies];
  int n = 0;
  copies[n++] = {kCheckAddr, kTrampoline};
  const int first_probe = n;
  for (uint64_t i = 0; i < pages_of(w.probe->file_size); ++i)
    copies[n++] = {kProbeAddr + i * kPageSize, 0};
  const int first_purg = n;
  for (uint64_t i = 0; i < pages_of(w.purg->file_size); ++i)
    copies[n++] = {o.purg + i * kPageSize, 0};
  copies[n++] = {probe::kBootParamsAddr, 0};
  copies[n++] = {charon::align_down(probe::kCmdlineAddr, kPageSize), 0};
  if (n - first_purg < 6) return *value = n, "the purgatory is too small for the scene";

  // ---- sources: shuffled pool slots; two probe pages under purgatory
  // destinations that later entries overwrite
  static uint16_t slot[kPoolSlots];
  for (uint64_t i = 0; i < kPoolSlots; ++i) slot[i] = static_cast<uint16_t>(i);
  uint64_t rng = w.seed | 1;
  for (uint64_t i = kPoolSlots - 1; i > 0; --i) {
    const uint64_t j = next_random(rng) % (i + 1);
    const uint16_t t = slot[i];
    slot[i] = slot[j];
    slot[j] = t;
  }
  for (int i = 1; i < n; ++i) copies[i].src = kSourcePool + slot[i] * kPageSize;
  copies[first_probe].src = copies[first_purg + 1].dst;
  copies[first_probe + 1].src = copies[first_purg + 3].dst;

  // ---- stash, poison, then fill the sources --------------------------------
  for (int i = 1; i < n; ++i)
    charon::mem_copy(at(kStash + i * kPageSize), at(copies[i].dst), kPageSize);
  for (int i = 0; i < n; ++i) charon::mem_fill(at(copies[i].dst), kPoison, kPageSize);
  charon::mem_fill(at(kZeroAddr), kPoison, kZeroPages * kPageSize);
  charon::mem_fill(at(kPoisonPage), kPoison, kPageSize);
  write_trampoline_page(kTrampoline);
  for (int i = 1; i < n; ++i)
    charon::mem_copy(at(copies[i].src), at(kStash + i * kPageSize), kPageSize);

  // ---- the list, checked as a loader must before it hands off --------------
  IndirectionBuilder b({kListPages, reinterpret_cast<uint64_t*>(at(kListPages)), kListPageCount});
  IndStatus s = IndStatus::Ok;
  for (int i = 0; i < n - 2 && s == IndStatus::Ok; ++i)
    s = b.copy(copies[i].dst, copies[i].src, kPageSize);
  for (uint64_t i = 0; i < kZeroPages && s == IndStatus::Ok; ++i)
    s = o.brk == Break::NoZero ? b.copy(kZeroAddr + i * kPageSize, kPoisonPage, kPageSize)
                               : b.zero(kZeroAddr + i * kPageSize, kPageSize);
  for (int i = n - 2; i < n && s == IndStatus::Ok; ++i)
    s = b.copy(copies[i].dst, copies[i].src, kPageSize);
  if (s == IndStatus::Ok) s = b.finish();
  if (s != IndStatus::Ok) return *value = uint64_t(s), ind_status_name(s);

  const charon_region keep{kTables, kTablePages * kPageSize};
  DestRun runs[32];
  const ValidateResult v =
      validate_list(b.head(), identity_window(),
                    {4096, kControlPage, &keep, 1, runs, sizeof runs / sizeof *runs});
  if (v.status != IndStatus::Ok) return *value = v.index, ind_status_name(v.status);

  // ---- the identity tables the trampoline switches to ----------------------
  static charon::x86::TableArena arena;
  arena = {kTables, at(kTables), kTablePages, 0};
  charon::x86::IdentityMap map(arena, {.gbpages = false, .la57 = false});
  s = map_relocation(map, b.head(), identity_window(), 4096);
  if (s != IndStatus::Ok) return *value = uint64_t(s), ind_status_name(s);
  if (map.map(kControlPage, kControlPage + kPageSize) != charon::x86::MapStatus::Ok ||
      map.map(kTrampoline, kTrampoline + kPageSize) != charon::x86::MapStatus::Ok ||
      map.map(o.purg, o.purg + purg_mem) != charon::x86::MapStatus::Ok)
    return *value = arena.used, "the trampoline's tables ran out of pages";

  // ---- the call --------------------------------------------------------------
  EntryPlan& p = entry_plan;
  uint64_t* g = &p.regs.rax;
  for (int i = 0; i < 17; ++i) g[i] = probe::pattern_word(w.seed ^ 0x7e7e, i) | 1;
  p.regs.rdi = b.head();
  p.regs.rsi = kControlPage;
  p.regs.rdx = map.root();
  p.regs.rcx = purg_entry;
  p.regs.rsp = 0xdeadbeefdeadbeefull;  // no stack: the trampoline must not use one
  p.flags = kSetDf;
  if (o.entry == Entry::Reloc64) {
    // A 64-bit caller on the harness's own tables with CR4.PGE set: the
    // trampoline must switch to its tables and flush.
    p.mode = Mode::Direct64;
    p.transit_cr3 = reinterpret_cast<uint64_t>(harness_pml4);
    p.transit_cr4 = charon::x86::Cr4{}.set_pae(true).raw();
    p.extra_cr4 = charon::x86::Cr4{}.set_pge(true).raw();
    p.target = kTrampoline + CHARON_RELOC_ENTRY64_OFFSET;
  } else {
    p.mode = Mode::Pm32;  // EAX = target: its own address
    p.target = kTrampoline + CHARON_RELOC_ENTRY32_OFFSET;
  }
  *value = b.pages_used();
  return nullptr;
}

}  // namespace harness
