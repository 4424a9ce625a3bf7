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

}  // namespace

void check_boot_params(Report& r, const Descriptor& d) {
  uint8_t want[4096];
  build_boot_params(want, d.pattern_seed, static_cast<uint32_t>(kCmdlineAddr), d.efi_tables != 0,
                    static_cast<uint16_t>(d.xloadflags));
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
}

}  // namespace probe
