// The purgatory's identity map: which ranges it covers and where its
// tables live. The builder itself (identity_map.cpp) is plain C++ tested
// on the host; this file decides what to map from the parameter block.
#include <charon/boot/boot_params.h>
#include <charon/boot/efi.h>
#include <charon/mem.h>
#include <charon/x86/cr.h>
#include <charon/x86/identity_map.h>

#include "purgatory.h"

namespace charon::x86 {

namespace {

// Built-in page-table area for loaders that do not reserve one (kexec-tools
// patches only its own names, and passes no memory ranges). 16 pages map
// [0, 4 GiB) with 2 MiB pages plus a few ranges elsewhere (4 KiB pages at
// the ends of those outside [0, 4 GiB), such as the EFI tables), or up to
// 512 GiB with 1 GiB pages.
constexpr size_t kBuiltinScratchPages = 16;
[[gnu::section(".noinit.scratch")]] alignas(kPageSize) uint8_t
    g_builtin_scratch[kBuiltinScratchPages * kPageSize];

// Linux's boot_params fields we read, at the offsets boot.rst and
// zero-page.rst give.
// boot_params fields are read through the struct's offsets (the struct's
// static_asserts pin them to boot.rst's), one field at a time: the page
// is the loader's or the caller's, so nothing is trusted to be aligned.
using boot::boot_params;
#define CHARON_BP(field) offsetof(boot_params, field)
#define CHARON_HDR(field) (offsetof(boot_params, hdr) + offsetof(boot::setup_header, field))
constexpr uint64_t kLowMemory = k1MiB;
constexpr int kMaxSetupData = 64;  // a bound on the chain, against loops
// A bound on the configuration-table entries mapped (24 KiB), so that a
// garbage count cannot use up the scratch area. Firmware has a few dozen.
constexpr uint32_t kMaxEfiConfigTables = 1024;

uint32_t read32(uint64_t addr) {
  uint32_t v;
  mem_copy(&v, reinterpret_cast<const void*>(addr), 4);
  return v;
}

uint64_t read64(uint64_t addr) {
  uint64_t v;
  mem_copy(&v, reinterpret_cast<const void*>(addr), 8);
  return v;
}

uint64_t hi_lo(uint64_t bp, uint64_t hi_off, uint64_t lo_off) {
  return (uint64_t{read32(bp + hi_off)} << 32) | read32(bp + lo_off);
}

// For ranges derived from memory a non-Linux payload may own: map if it
// can be mapped, never halt over it.
bool try_map(IdentityMap& map, uint64_t start, uint64_t len) {
  return len && map.map(start, start + len) == MapStatus::Ok;
}

// The EFI tables efi_info names, when a 64-bit firmware's loader filled it
// ("EL64"; kexec-tools copies it from the running kernel). The kernel's
// decompressor reads the system table and its configuration-table array
// before it has page tables of its own (on AMD: sev_enable -> snp_init ->
// find_cc_blob_efi); Linux's own kexec maps them for the same reason
// (commit 5760929f6545). The memory map comes last: its size is the one
// a garbage efi_info could make large, and it must not take the tables
// the two others need. Only ever a courtesy: nothing here is halted over.
void map_efi_tables(IdentityMap& map, uint64_t bp) {
  using boot::efi_info;
  using boot::efi_system_table_64_t;
  const uint64_t ei = bp + CHARON_BP(efi_info);
  if (read32(ei + offsetof(efi_info, efi_loader_signature)) != boot::EFI64_LOADER_SIGNATURE) return;
  const uint64_t systab =
      hi_lo(ei, offsetof(efi_info, efi_systab_hi), offsetof(efi_info, efi_systab));
  if (systab && try_map(map, systab, sizeof(efi_system_table_64_t))) {
    write_cr3(map.root());  // the table is read through our own map
    uint32_t nr = read32(systab + offsetof(efi_system_table_64_t, nr_tables));
    if (nr > kMaxEfiConfigTables) nr = kMaxEfiConfigTables;
    const uint64_t tables = read64(systab + offsetof(efi_system_table_64_t, tables));
    if (tables) try_map(map, tables, uint64_t{nr} * sizeof(boot::efi_config_table_64_t));
  }
  try_map(map, hi_lo(ei, offsetof(efi_info, efi_memmap_hi), offsetof(efi_info, efi_memmap)),
          read32(ei + offsetof(efi_info, efi_memmap_size)));
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
  if (!is_aligned(p.scratch_base, kPageSize) || p.scratch_size < kPageSize)
    halt_with("charon: scratch area 0x%lx+0x%lx is not page-aligned or too small\n", p.scratch_base,
              p.scratch_size);
  return TableArena{p.scratch_base, reinterpret_cast<uint8_t*>(p.scratch_base),
                    p.scratch_size / kPageSize, 0};
}

namespace {

// What the parameter block requires, gathered before anything is mapped:
// a typed map decides every leaf from all of it. At most 2 + 1 + 16 + 8 +
// 2 + 1 + 1 + 2 entries.
constexpr size_t kMaxRequired = 2 + 1 + CHARON_MAX_REGIONS + CHARON_MAX_MAP_RANGES + 6;
// Written before they are read, so in .noinit: not in the file.
[[gnu::section(".noinit.required")]] charon_region g_required[kMaxRequired];
[[gnu::section(".noinit.required")]] const char* g_required_what[kMaxRequired];

// The image is one block (every loader lays the sections out in order):
// code first, .noinit last; its highest object is one of these.
charon_region image_range() {
  auto top = [](uint64_t a, uint64_t b) { return a > b ? a : b; };
  const uint64_t lo = reinterpret_cast<uint64_t>(purgatory_start);
  uint64_t hi = reinterpret_cast<uint64_t>(g_builtin_scratch) + sizeof(g_builtin_scratch);
  hi = top(hi, reinterpret_cast<uint64_t>(charon_stack_top));
  hi = top(hi, reinterpret_cast<uint64_t>(charon_boot_tables) + kBootTableBytes);
  hi = top(hi, idt_end());
  hi = top(hi, reinterpret_cast<uint64_t>(g_required) + sizeof(g_required));
  hi = top(hi, reinterpret_cast<uint64_t>(g_required_what) + sizeof(g_required_what));
  return {lo, hi - lo};
}

}  // namespace

void map_image_and_scratch(IdentityMap& map, const TableArena& arena, const charon_params& p) {
  const charon_region image = image_range();
  map_or_halt(map, arena, "the purgatory", image.start, image.len);
  const TableArena scratch = scratch_arena(p);
  map_or_halt(map, arena, "the scratch area", scratch.phys_base, scratch.pages * kPageSize);
}

MapLayout known_layout(const charon_params& p, HandoffKind handoff) {
  size_t n = 0;
  auto need = [&](const char* what, uint64_t start, uint64_t len) {
    if (!len || n == kMaxRequired) return;
    g_required_what[n] = what;
    g_required[n++] = {start, len};
  };
  const charon_region image = image_range();
  need("the purgatory", image.start, image.len);
  const TableArena scratch = scratch_arena(p);
  need("the scratch area", scratch.phys_base, scratch.pages * kPageSize);
  need("[0, idmap_limit)", 0, p.idmap_limit);
  for (const charon_region& r : p.regions) need("a region", r.start, r.len);
  for (const charon_region& r : p.map_ranges) need("a map range", r.start, r.len);
  if (p.backup_dst) {
    const uint64_t size = p.backup_size ? p.backup_size : CHARON_BACKUP_DEFAULT_SIZE;
    need("the backup source", p.backup_src, size);
    need("the backup destination", p.backup_dst, size);
  }
  if (p.boot_params) need("boot_params", p.boot_params, kPageSize);
  // Linux's decompressor reads the BIOS data area and puts its 5-level
  // trampoline below 640 KiB while still on our tables.
  if (is_linux(handoff)) need("low memory", 0, kLowMemory);
  if (handoff == HandoffKind::kGeneric64) {
    need("entry64 rip", p.regs64.rip, 1);
    if (p.regs64.rsp) need("entry64 rsp", p.regs64.rsp - 1, 1);
  }
  return MapLayout{p.memory, CHARON_MAX_MEMORY_RANGES, g_required, n};
}

void map_layout(IdentityMap& map, const TableArena& arena, const MapLayout& layout,
                const charon_params& p, HandoffKind handoff) {
  if (const MapStatus st = map.map_memory(); st != MapStatus::Ok)
    halt_with("charon: cannot identity-map the memory ranges: %s (tables at 0x%lx, %lu pages)\n",
              map_status_name(st), arena.phys_base, arena.pages);
  for (size_t i = 0; i < layout.nrequired; ++i)
    map_or_halt(map, arena, g_required_what[i], layout.required[i].start, layout.required[i].len);
  // kexec-tools passes boot_params only as entry64_regs.rsi; phase two
  // looks there for "HdrS". A courtesy, outside the layout: 4 KiB.
  if (handoff == HandoffKind::kGeneric64 && p.regs64.rsi) try_map(map, p.regs64.rsi, kPageSize);
}

bool map_from_boot_params(IdentityMap& map, const TableArena& arena, const charon_params& p,
                          HandoffKind handoff) {
  // Which boot_params, and where the kernel was loaded: the parameter
  // block says so for the Linux kinds. For generic64 (kexec-tools, which
  // with --no-checks fills no regions at all) RSI is boot_params when it
  // carries "HdrS", and RIP is the 64-bit entry at load address + 0x200.
  uint64_t bp = 0, load = 0;
  const bool linux = is_linux(handoff);
  if (linux) {
    bp = p.boot_params;
    load = handoff == HandoffKind::kLinux64 ? p.kernel_entry - 0x200 : p.kernel_entry;
  } else if (handoff == HandoffKind::kGeneric64 && p.regs64.rsi &&
             map.covers(p.regs64.rsi, kPageSize) &&
             (p.skip_checks || in_regions(p, p.regs64.rsi, sizeof(boot_params))) &&
             read32(p.regs64.rsi + CHARON_HDR(header)) == boot::kHdrSMagic) {
    bp = p.regs64.rsi;
    load = p.regs64.rip >= 0x200 ? p.regs64.rip - 0x200 : 0;
  }
  if (!bp) return false;
  // Linux kinds must get what they need or stop; for generic64 these are
  // only a courtesy, so a range that cannot be mapped is left out.
  auto want = [&](const char* what, uint64_t start, uint64_t len) {
    if (linux)
      map_or_halt(map, arena, what, start, len);
    else
      try_map(map, start, len);
  };
  const uint64_t cmdline = hi_lo(bp, CHARON_BP(ext_cmd_line_ptr), CHARON_HDR(cmd_line_ptr));
  const uint32_t cmdline_size = read32(bp + CHARON_HDR(cmdline_size));
  if (cmdline) want("the cmdline", cmdline, cmdline_size ? cmdline_size : kPageSize);
  want("the initrd", hi_lo(bp, CHARON_BP(ext_ramdisk_image), CHARON_HDR(ramdisk_image)),
       hi_lo(bp, CHARON_BP(ext_ramdisk_size), CHARON_HDR(ramdisk_size)));
  if (load) want("the kernel's init_size range", load, read32(bp + CHARON_HDR(init_size)));
  // setup_data: the decompressor reads each node under our tables before
  // it builds its own, so every node must be mapped. Each header is mapped
  // (and the tables reloaded) before it is read.
  uint64_t node = read64(bp + CHARON_HDR(setup_data));
  for (int i = 0; node && i < kMaxSetupData; ++i) {
    want("a setup_data header", node, sizeof(boot::setup_data));
    write_cr3(map.root());
    if (!map.covers(node, sizeof(boot::setup_data))) break;
    want("setup_data", node,
         sizeof(boot::setup_data) + uint64_t{read32(node + offsetof(boot::setup_data, len))});
    node = read64(node + offsetof(boot::setup_data, next));
  }
  // A 32-bit handoff runs with paging off: nothing reads these through
  // our tables.
  if (!is_32bit(handoff)) map_efi_tables(map, bp);
  return true;
}

}  // namespace charon::x86
