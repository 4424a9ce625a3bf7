// Checks on memory: the zero page and cmdline arrive untouched, the
// crash-dump backup holds what low memory held before entry, and (after a
// 64-bit handoff) the live page tables map every range the payload needs.
#include "checks.h"

namespace probe {
namespace {

constexpr uint64_t k4G = 1ull << 32;

const volatile uint8_t* phys8(uint64_t a) {
  return reinterpret_cast<const volatile uint8_t*>(a);
}

void check_range(Report& r, const Tables& t, const Range& range) {
  char item[40] = "idmap-";
  int n = 6;
  for (int i = 0; i < 16 && range.name[i] && n < 39; ++i) item[n++] = range.name[i];
  item[n] = 0;
  const uint64_t end = range.start + range.len;
  for (uint64_t va = range.start & ~0xfffull; va < end;) {
    const Translation x = translate(t, va);
    if (!x.ok)
      return void(r.fail(item, "got 0x%lx %s at level %d, want mapped 1:1 [0x%lx, 0x%lx)", va,
                         x.error, x.level, range.start, end));
    if (x.phys != va)
      return void(r.fail(item, "got 0x%lx -> 0x%lx, want 1:1 [0x%lx, 0x%lx)", va, x.phys,
                         range.start, end));
    if (!x.writable) return void(r.fail(item, "got 0x%lx read-only, want writable", va));
    va = (va | (x.leaf_size - 1)) + 1;  // a leaf that is 1:1 at one address is 1:1 throughout
  }
  r.pass(item);
}

// The typed map: what a page may be, from the descriptor alone. Memory
// counts page by page (a page only partly memory is not), a required
// range from the page that holds its first byte to the one holding its
// last. Returns the end of the stretch of such pages from `addr` (addr
// itself when its page is neither).
uint64_t allowed_reach(const Descriptor& d, uint64_t addr) {
  for (bool moved = true; moved;) {
    moved = false;
    for (uint32_t i = 0; i < d.ne820 && i < kMaxE820; ++i) {
      if (!is_memory_type(d.e820[i].type)) continue;
      const uint64_t s = (d.e820[i].start + 0xfff) & ~0xfffull, e = d.e820[i].end & ~0xfffull;
      if (s <= addr && addr < e) addr = e, moved = true;
    }
    for (uint32_t i = 0; i < d.nranges && i < kMaxRanges; ++i) {
      const Range& r = d.ranges[i];
      if (!r.len) continue;
      const uint64_t s = r.start & ~0xfffull, e = (r.start + r.len + 0xfff) & ~0xfffull;
      if (s <= addr && addr < e) addr = e, moved = true;
    }
  }
  return addr;
}

// What the address is in the e820 table: its type, or 0 for a hole.
uint32_t e820_type_at(const Descriptor& d, uint64_t addr) {
  for (uint32_t i = 0; i < d.ne820 && i < kMaxE820; ++i)
    if (d.e820[i].start <= addr && addr < d.e820[i].end) return d.e820[i].type;
  return 0;
}

struct LeafCheck {
  const Descriptor* d;
  uint64_t leaf, size, bad;  // the first leaf reaching past what is allowed, and where
  uint64_t leaves;
};

bool leaf_allowed(void* ctx, uint64_t va, uint64_t size) {
  auto& c = *static_cast<LeafCheck*>(ctx);
  ++c.leaves;
  const uint64_t reach = allowed_reach(*c.d, va);
  if (reach - va >= size) return true;
  c.leaf = va, c.size = size, c.bad = reach;
  return false;
}

// Every leaf lies in memory or in a required range, never over a reserved
// range or a hole of the map that nothing required ([intel/vol3] 11.11.9;
// Linux commit 7143c5f4cf20); and every memory page is mapped.
void check_typed_map(Report& r, const Tables& t, const Descriptor& d) {
  LeafCheck c{&d, 0, 0, 0, 0};
  if (for_each_leaf(t, leaf_allowed, &c)) {
    r.pass("leaves-only-memory-or-required");
  } else {
    const char* size = c.size == 1ull << 30 ? "1 GiB" : c.size == 1ull << 21 ? "2 MiB" : "4 KiB";
    r.fail("leaves-only-memory-or-required",
           "got a %s leaf at 0x%lx over 0x%lx, e820 type %u (0: a hole), want only memory or "
           "required pages",
           size, c.leaf, c.bad, e820_type_at(d, c.bad));
  }
  for (uint32_t i = 0; i < d.ne820 && i < kMaxE820; ++i) {
    if (!is_memory_type(d.e820[i].type)) continue;
    Range m{(d.e820[i].start + 0xfff) & ~0xfffull, 0, "memory"};
    const uint64_t end = d.e820[i].end & ~0xfffull;
    if (end <= m.start) continue;
    m.len = end - m.start;
    check_range(r, t, m);
  }
}

}  // namespace

void check_boot_params(Report& r, const Descriptor& d) {
  uint8_t want[4096];
  build_boot_params(want, d.pattern_seed, static_cast<uint32_t>(kCmdlineAddr), d.efi_tables != 0,
                    static_cast<uint16_t>(d.xloadflags), d.e820, d.ne820);
  const volatile uint8_t* got = phys8(d.boot_params);
  int i = 0;
  while (i < 4096 && got[i] == want[i]) ++i;
  if (i == 4096)
    r.pass("boot-params-intact");
  else
    r.fail("boot-params-intact", "got 0x%x at +0x%x, want 0x%x", got[i], i, want[i]);

  const volatile char* line = reinterpret_cast<const volatile char*>(kCmdlineAddr);
  int j = 0;
  while (j < kCmdlineMax && line[j] == d.cmdline[j] && d.cmdline[j]) ++j;
  if (j < kCmdlineMax && line[j] == d.cmdline[j])
    r.pass("cmdline-intact");
  else
    r.fail("cmdline-intact", "got 0x%x at +%d, want 0x%x", line[j], j, d.cmdline[j]);
}

void check_backup(Report& r, const Descriptor& d) {
  if (d.backup_dst + d.backup_size > k4G) {
    r.fail("backup-holds-low-memory", "got dst 0x%lx, want below 4 GiB", d.backup_dst);
    return;
  }
  const volatile uint64_t* got = reinterpret_cast<const volatile uint64_t*>(d.backup_dst);
  for (uint64_t i = 0; i < d.backup_size / 8; ++i) {
    // The low purgatory and the real-mode stub were put there after the
    // pattern; the backup holds them, whatever they wrote meanwhile.
    if (i * 8 >= d.backup_skip_lo && i * 8 < d.backup_skip_hi) continue;
    const uint64_t want = pattern_word(d.pattern_seed, i);
    if (got[i] != want) {
      r.fail("backup-holds-low-memory", "got 0x%016lx at +0x%lx, want 0x%016lx", got[i], i * 8,
             want);
      return;
    }
  }
  r.pass("backup-holds-low-memory");
}

void check_identity_map(Report& r, const Saved& s, const Descriptor& d) {
  const Tables t = live_tables(s);
  for (uint32_t i = 0; i < d.nranges && i < kMaxRanges; ++i) check_range(r, t, d.ranges[i]);
  if (!d.allow_1g) r.eq("no-1g-leaves-without-pdpe1gb", count_1g_leaves(t), 0);
  if (d.ne820) check_typed_map(r, t, d);
}

}  // namespace probe
