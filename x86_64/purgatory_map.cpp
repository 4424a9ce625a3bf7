// The purgatory's identity map: which ranges it covers and where its
// tables live. The builder itself (identity_map.cpp) is plain C++ tested
// on the host; this file decides what to map from the parameter block.
#include <charon/mem.h>
#include <charon/x86/identity_map.h>
#include <charon/x86/purgatory.h>

namespace charon::x86 {

namespace {

constexpr uint64_t kPage = 4096;
// Built-in page-table area for loaders that do not reserve one (kexec-tools
// patches only its own names). 12 pages map [0, 4 GiB) with 2 MiB pages
// plus a few ranges elsewhere, or up to 512 GiB with 1 GiB pages.
constexpr size_t kBuiltinScratchPages = 12;
[[gnu::section(".noinit.scratch")]] alignas(4096) uint8_t
    g_builtin_scratch[kBuiltinScratchPages * kPage];

// Linux's boot_params fields we read, at boot.rst's offsets.
constexpr uint64_t kBpExtCmdLinePtr = 0x0c8, kBpCmdLinePtr = 0x228, kBpCmdlineSize = 0x238;

uint64_t cmdline_of(uint64_t boot_params) {
  const auto* bp = reinterpret_cast<const uint8_t*>(boot_params);
  uint32_t lo, hi;
  mem_copy(&lo, bp + kBpCmdLinePtr, 4);
  mem_copy(&hi, bp + kBpExtCmdLinePtr, 4);
  return (uint64_t{hi} << 32) | lo;
}

}  // namespace

[[gnu::noinline]] void map_or_halt(IdentityMap& map, const TableArena& arena, const char* what,
                                   uint64_t start, uint64_t len) {
  if (!len) return;
  const MapStatus st = map.map(start, start + len);
  if (st == MapStatus::Ok) return;
  halt_with("charon: cannot identity-map %s 0x%lx+0x%lx: %s (tables at 0x%lx, %lu pages)\n", what,
            start, len, map_status_name(st), arena.phys_base, arena.pages);
}

TableArena scratch_arena(const charon_params& p) {
  if (!p.scratch_base)
    return TableArena{reinterpret_cast<uint64_t>(g_builtin_scratch), g_builtin_scratch,
                      kBuiltinScratchPages, 0};
  if (p.scratch_base % kPage || p.scratch_size < kPage)
    halt_with("charon: scratch area 0x%lx+0x%lx is not page-aligned or too small\n", p.scratch_base,
              p.scratch_size);
  return TableArena{p.scratch_base, reinterpret_cast<uint8_t*>(p.scratch_base),
                    p.scratch_size / kPage, 0};
}

void map_image_and_scratch(IdentityMap& map, const TableArena& arena, const charon_params& p) {
  // The image is one block (every loader lays the sections out in order):
  // code first, .noinit last; its highest object is one of these.
  auto top = [](uint64_t a, uint64_t b) { return a > b ? a : b; };
  const uint64_t lo = reinterpret_cast<uint64_t>(purgatory_start);
  uint64_t hi = reinterpret_cast<uint64_t>(g_builtin_scratch) + sizeof(g_builtin_scratch);
  hi = top(hi, reinterpret_cast<uint64_t>(charon_stack_top));
  hi = top(hi, reinterpret_cast<uint64_t>(charon_boot_tables) + kBootTableBytes);
  hi = top(hi, idt_end());
  map_or_halt(map, arena, "the purgatory", lo, hi - lo);
  const TableArena scratch = scratch_arena(p);
  map_or_halt(map, arena, "the scratch area", scratch.phys_base, scratch.pages * kPage);
}

// Everything the parameter block names directly. The command line is
// found through boot_params, which can only be read once this map is live.
void map_known_ranges(IdentityMap& map, const TableArena& arena, const charon_params& p,
                      uint32_t handoff) {
  auto need = [&](const char* what, uint64_t start, uint64_t len) {
    map_or_halt(map, arena, what, start, len);
  };
  map_image_and_scratch(map, arena, p);
  if (p.idmap_limit) need("[0, idmap_limit)", 0, p.idmap_limit);
  for (const charon_region& r : p.regions) need("a region", r.start, r.len);
  for (const charon_region& r : p.map_ranges) need("a map range", r.start, r.len);
  if (p.backup_dst) {
    const uint64_t size = p.backup_size ? p.backup_size : CHARON_BACKUP_DEFAULT_SIZE;
    need("the backup source", p.backup_src, size);
    need("the backup destination", p.backup_dst, size);
  }
  if (p.boot_params) need("boot_params", p.boot_params, kPage);
  if (handoff == CHARON_HANDOFF_GENERIC64) {
    need("entry64 rip", p.regs64.rip, 1);
    if (p.regs64.rsp) need("entry64 rsp", p.regs64.rsp - 1, 1);
  }
}

bool map_cmdline(IdentityMap& map, const TableArena& arena, const charon_params& p) {
  if (!p.boot_params) return false;
  const uint64_t cmdline = cmdline_of(p.boot_params);
  if (!cmdline) return false;
  uint32_t cmdline_size;
  mem_copy(&cmdline_size, reinterpret_cast<const uint8_t*>(p.boot_params) + kBpCmdlineSize, 4);
  map_or_halt(map, arena, "the cmdline", cmdline, cmdline_size ? cmdline_size : kPage);
  return true;
}

}  // namespace charon::x86
