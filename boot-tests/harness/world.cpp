#include "world.h"

#include <charon/align.h>
#include <charon/handoff.h>
#include <charon/kimage/image.h>
#include <charon/mem.h>
#include <charon/sha256.h>

namespace harness {

using namespace probe;
using charon::HandoffKind;
using charon::kPageSize;

uint64_t seed_for(const char* name) {  // FNV-1a: each case its own pattern
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *name; ++name) h = (h ^ static_cast<uint8_t>(*name)) * 0x100000001b3ull;
  return h;
}

void write_low_memory(uint64_t seed) {
  // Physical 0 is a null pointer to the compiler; volatile keeps the
  // stores as written.
  volatile uint64_t* low = reinterpret_cast<volatile uint64_t*>(uintptr_t{0});
  for (uint64_t i = 0; i < kLowMemSize / 8; ++i) low[i] = pattern_word(seed, i);
}

namespace {

void put64(uint64_t addr, uint64_t v) {
  volatile uint8_t* p = reinterpret_cast<volatile uint8_t*>(addr);
  for (int b = 0; b < 8; ++b) p[b] = static_cast<uint8_t>(v >> (8 * b));
}

uint64_t get64(uint64_t addr) {
  const volatile uint8_t* p = reinterpret_cast<const volatile uint8_t*>(addr);
  uint64_t v = 0;
  for (int b = 0; b < 8; ++b) v |= uint64_t{p[b]} << (8 * b);
  return v;
}

// A 64-bit firmware's system table (header, then NumberOfTableEntries and
// ConfigurationTable; the service pointers stay 0), its configuration
// tables (seeded GUIDs and pointers) and a zeroed memory map, at
// descriptor.h's offsets rather than the purgatory's efi.h. False if the
// system table does not read back: no RAM there (QEMU without -m 6G).
bool write_efi_tables(uint64_t seed) {
  for (uint64_t i = 0; i < kEfiSystabSize; i += 8) put64(kEfiSystabAddr + i, 0);
  put64(kEfiSystabAddr, kEfiSystabSignature);
  put64(kEfiSystabAddr + 8, (uint64_t{kEfiSystabSize} << 32) | ((2u << 16) | 70));  // 2.70
  put64(kEfiSystabAddr + kEfiNrTablesOffset, kEfiConfigCount);
  put64(kEfiSystabAddr + kEfiTablesOffset, kEfiConfigAddr);
  for (uint64_t i = 0; i < kEfiConfigCount * kEfiConfigEntrySize; i += 8)
    put64(kEfiConfigAddr + i, pattern_word(seed ^ 0xef1ef1, i));
  for (uint64_t i = 0; i < kEfiMemmapSize; i += 8) put64(kEfiMemmapAddr + i, 0);
  return get64(kEfiSystabAddr) == kEfiSystabSignature &&
         get64(kEfiSystabAddr + kEfiTablesOffset) == kEfiConfigAddr;
}

}  // namespace

uint32_t read_multiboot_map(uint32_t mbi, E820* out, uint32_t max) {
  const uint32_t* info = reinterpret_cast<const uint32_t*>(uintptr_t{mbi});
  if (!mbi || !(info[0] & (1u << 6))) return 0;
  // Multiboot 0.6.96, 3.3: mmap_length at +44, mmap_addr at +48; each
  // entry is {u32 size, u64 base_addr, u64 length, u32 type}, `size`
  // not counting itself.
  const uint64_t end = uint64_t{info[12]} + info[11];
  uint32_t n = 0;
  for (uint64_t at = info[12]; at + 24 <= end && n < max;) {
    const uint32_t size = *reinterpret_cast<const uint32_t*>(at);
    const uint64_t base = get64(at + 4), len = get64(at + 12);
    const uint32_t type = *reinterpret_cast<const uint32_t*>(at + 20);
    if (len) out[n++] = {base, base + len, type, 0};
    at += size + 4;
  }
  return n;
}

namespace {

// QEMU's map with the reserved hole carved out of the RAM that holds it.
void write_e820(Descriptor& d, const E820* fw, uint32_t n) {
  d.ne820 = 0;
  auto put = [&](uint64_t s, uint64_t e, uint32_t type) {
    if (e > s && d.ne820 < kMaxE820) d.e820[d.ne820++] = {s, e, type, 0};
  };
  for (uint32_t i = 0; i < n; ++i) {
    const E820& m = fw[i];
    if (m.type == 1 && m.start <= kReservedHoleStart && kReservedHoleEnd <= m.end) {
      put(m.start, kReservedHoleStart, 1);
      put(kReservedHoleStart, kReservedHoleEnd, 2);
      put(kReservedHoleEnd, m.end, 1);
    } else {
      put(m.start, m.end, m.type);
    }
  }
}

}  // namespace

bool write_boot_params(const World& w) {
  build_boot_params(reinterpret_cast<uint8_t*>(kBootParamsAddr), w.seed,
                    static_cast<uint32_t>(kCmdlineAddr), w.opt->efi,
                    static_cast<uint16_t>(w.desc->xloadflags), w.desc->e820, w.desc->ne820);
  char* line = reinterpret_cast<char*>(kCmdlineAddr);
  int i = 0;
  for (; w.desc->cmdline[i]; ++i) line[i] = w.desc->cmdline[i];
  line[i] = 0;
  return !w.opt->efi || write_efi_tables(w.seed);
}

void add_range(Descriptor& d, uint64_t start, uint64_t len, const char* name) {
  if (d.nranges >= kMaxRanges) return;
  Range& r = d.ranges[d.nranges++];
  r.start = start;
  r.len = len;
  int i = 0;
  for (; name[i] && i < 15; ++i) r.name[i] = name[i];
  r.name[i] = 0;
}

namespace {

uint64_t cmdline_len(const Descriptor& d) {
  uint64_t n = 0;
  while (d.cmdline[n]) ++n;
  return n + 1;
}

void copy_str(char* dst, const char* src, int max) {
  int i = 0;
  for (; src[i] && i < max - 1; ++i) dst[i] = src[i];
  dst[i] = 0;
}

}  // namespace

// Real mode: the stub's registers (cs:ip = the stub's entry, reached
// through a segment kRmCsBias below its base; ss:sp just under it; every
// other register a pattern), the hooks, and what the backup check skips.
void write_real_mode(World& w) {
  Descriptor& d = *w.desc;
  d.handoff = CHARON_HANDOFF_GENERIC16;
  charon_regs16& r = d.regs16;
  uint32_t* g = &r.eax;
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint32_t>(pattern_word(w.seed ^ 0x1616, i));
  r.esp = 0xa5a50000u | static_cast<uint32_t>(kRmStubAddr - kRmScratchLo - 0x10);
  r.ss = static_cast<uint16_t>(kRmScratchLo >> 4);
  r.ds = static_cast<uint16_t>(pattern_word(w.seed, 20));
  r.es = static_cast<uint16_t>(pattern_word(w.seed, 21));
  r.fs = static_cast<uint16_t>(pattern_word(w.seed, 22));
  r.gs = static_cast<uint16_t>(pattern_word(w.seed, 23));
  r.cs = static_cast<uint16_t>((kRmStubAddr - kRmCsBias) >> 4);
  r.ip = static_cast<uint16_t>(kRmCsBias + sizeof(RmStubHeader));
  d.debug_hooks = w.opt->hooks;
  d.backup_skip_lo = kRmScratchLo;
  d.backup_skip_hi =
      w.opt->low ? w.opt->purg + w.purg->mem_size : kRmStubAddr + w.probe->rm_stub_size;
}

void write_descriptor(World& w, bool expect_la57, bool allow_1g) {
  Descriptor& d = *w.desc;
  charon::mem_fill(&d, 0, sizeof d);
  d.magic = kDescriptorMagic;
  d.handoff = w.opt->kind;
  copy_str(d.case_name, w.opt->case_name, sizeof d.case_name);
  d.expect_la57 = expect_la57;
  d.allow_1g = allow_1g;
  d.pattern_seed = w.seed;
  d.xloadflags = w.opt->no_5level ? kProbeXloadflags & ~kXlf5Level : kProbeXloadflags;
  d.boot_params = kBootParamsAddr;
  d.backup_dst = kBackupDst;
  d.backup_size = kLowMemSize;
  d.cr3_lo = kScratchAddr;
  d.cr3_hi = kScratchAddr + kScratchSize;
  if (w.purg) {
    d.stack_lo = w.opt->purg;
    d.stack_hi = w.opt->purg + w.purg->mem_size;
  }
  // Generic kinds: every register a distinct value nobody would pick.
  uint64_t* r64 = &d.regs64.rax;
  uint32_t* r32 = &d.regs32.eax;
  for (int i = 0; i < 16; ++i) r64[i] = pattern_word(w.seed ^ 0x6e6e, i);
  for (int i = 0; i < 8; ++i) r32[i] = static_cast<uint32_t>(pattern_word(w.seed ^ 0x3232, i));
  d.regs64.rsp = kGenericStackAddr;
  d.regs64.rip = kProbeAddr + w.probe->entry64;
  // kexec-tools hands boot_params over only as entry64_regs.rsi.
  if (w.opt->brk == Break::KexecTools) d.regs64.rsi = kBootParamsAddr;
  d.regs32.esp = static_cast<uint32_t>(kGenericStackAddr);
  d.regs32.eip = static_cast<uint32_t>(kProbeAddr + w.probe->entry32);
  if (w.opt->stack_args) {
    // What kexec-tools' elf-x86 loader writes: ESP = &stack_arg32_2, the
    // boot notes' address as arg 1, no return address.
    d.stack_args = 1;
    d.regs32.esp = static_cast<uint32_t>(w.opt->purg + w.purg->params +
                                         offsetof(charon_params, stack_arg32_2));
    d.stack_arg32_1 = static_cast<uint32_t>(pattern_word(w.seed ^ 0x5a5a, 1));
    d.stack_arg32_2 = static_cast<uint32_t>(pattern_word(w.seed ^ 0x5a5a, 2));
    d.free_stack_lo = w.opt->purg + w.purg->file_size;
  }
  if (w.opt->real_mode()) write_real_mode(w);
  copy_str(d.cmdline, "console=ttyS0 charon.probe=", kCmdlineMax);
  int n = 0;
  while (d.cmdline[n]) ++n;
  copy_str(d.cmdline + n, w.opt->case_name, kCmdlineMax - n);

  // What a 64-bit payload needs mapped 1:1 (contract: [0, idmap_limit),
  // the regions, boot_params and its cmdline, map_ranges, backup dst, the
  // purgatory image, scratch, and for generic64 the rip and rsp pages).
  add_range(d, kProbeAddr, w.probe->mem_size, "probe");
  add_range(d, kBootParamsAddr, kPageSize, "boot-params");
  add_range(d, kCmdlineAddr, cmdline_len(d), "cmdline");
  add_range(d, kDescriptorAddr, sizeof d, "descriptor");
  add_range(d, kBackupDst, kLowMemSize, "backup-dst");
  if (w.purg) add_range(d, 0, kLowMemSize, "backup-src");  // the purgatory reads it
  if (w.purg) {
    add_range(d, w.opt->purg, w.purg->mem_size, "purgatory");
    add_range(d, kScratchAddr, kScratchSize, "scratch");
    if (w.opt->big_mib) add_range(d, kBigRegionAddr, w.opt->big_mib << 20, "big-region");
  }
  const HandoffKind kind = w.opt->handoff();
  // [0, 1 MiB) for Linux: the decompressor reads the BIOS data area and
  // puts its 5-level trampoline there (README, "Handoff contract").
  if (kind == HandoffKind::kLinux64 && w.purg) add_range(d, 0, charon::k1MiB, "low-1m");
  if (w.opt->e820) write_e820(d, w.firmware_map, w.nfirmware_map);
  if (kind == HandoffKind::kGeneric64)
    add_range(d, charon::align_down(kGenericStackAddr, kPageSize), kPageSize, "rsp-page");
  // The kernel's init_size range, which the purgatory takes from
  // boot_params itself: for linux64, and for generic64 when boot_params
  // comes only as RSI (kexec-tools).
  if (kind == HandoffKind::kLinux64 || w.opt->brk == Break::KexecTools)
    add_range(d, kProbeAddr, kProbeInitSize, "init-size");
  // The EFI tables efi_info names, which the decompressor reads before it
  // has tables of its own: mapped by the purgatory wherever it knows
  // boot_params and hands off in 64-bit mode.
  d.efi_tables = w.opt->efi;
  if (w.opt->efi && (kind == HandoffKind::kLinux64 || w.opt->brk == Break::KexecTools)) {
    add_range(d, kEfiSystabAddr, kEfiSystabSize, "efi-systab");
    add_range(d, kEfiConfigAddr, kEfiConfigCount * kEfiConfigEntrySize, "efi-config");
    add_range(d, kEfiMemmapAddr, kEfiMemmapSize, "efi-memmap");
  }
}

charon_params* write_params(const World& w) {
  const Descriptor& d = *w.desc;
  auto* p = reinterpret_cast<charon_params*>(w.opt->purg + w.purg->params);
  charon::mem_fill(p, 0, sizeof *p);
  p->magic = CHARON_PARAMS_MAGIC;
  p->version = CHARON_PARAMS_VERSION;
  p->size = sizeof *p;
  p->flags = w.opt->fault == 32 ? CHARON_F_FAULT_TEST32 : w.opt->fault ? CHARON_F_FAULT_TEST : 0;
  p->handoff = w.opt->kind;
  p->regions[0] = {kProbeAddr, w.probe->file_size};
  // Break::BootParamsUnhashed: the loader hashes everything but boot_params.
  if (w.opt->brk != Break::BootParamsUnhashed) p->regions[1] = {kBootParamsAddr, kPageSize};
  p->regions[2] = {kCmdlineAddr, cmdline_len(d)};
  // The last slot: reloc_add_regions takes 3 and 4. Whatever RAM holds
  // there is hashed; no per-region digest, one pass costs enough.
  if (w.opt->big_mib) p->regions[CHARON_MAX_REGIONS - 1] = {kBigRegionAddr, w.opt->big_mib << 20};
  charon::sha256_regions(p->regions, CHARON_MAX_REGIONS, charon::Sha256Impl::Scalar, p->digest);
  // Per-region digests, as charon-kexec gives them: they let the
  // purgatory name the region that differs after a mismatch.
  for (int i = 0; i < 3; ++i)
    charon::sha256_regions(&p->regions[i], 1, charon::Sha256Impl::Scalar, p->region_digests[i]);
  p->backup_dst = kBackupDst;  // backup_src = backup_size = 0: [0, 640 KiB)
  p->regs64 = d.regs64;
  p->regs32 = d.regs32;
  if (w.opt->real_mode()) {
    // Only the set the entry reads holds the expected registers; the
    // other one a different pattern, so reading the wrong set fails.
    charon_regs16 other = d.regs16;
    for (uint32_t* g = &other.eax; g <= &other.ebp; ++g) *g = ~*g;
    other.cs ^= 0x100;
    const bool debug = w.opt->rm == Options::RealMode::Debug;
    p->regs16 = debug ? other : d.regs16;
    p->regs16_debug = debug ? d.regs16 : other;
    if (w.opt->rm != Options::RealMode::None) {
      // kexec-tools' bzImage loader: entry32_regs.eip = entry16 (or
      // entry16_debug), entry64_regs.rip = 0.
      p->regs32.eip =
          static_cast<uint32_t>(w.opt->purg + (debug ? w.purg->entry16_debug : w.purg->entry16));
      p->regs64.rip = 0;
    }
    if (w.opt->hooks) p->entry16_debug_old_first32 = w.probe->entry16_pm;
    // break=reg: one register the purgatory loads differs from the one the
    // probe expects; the probe must fail on it.
    if (w.opt->brk == Break::Reg) (debug ? p->regs16_debug : p->regs16).ebx ^= 1;
  }
  p->stack_arg32_1 = d.stack_arg32_1;
  p->stack_arg32_2 = d.stack_arg32_2;
  p->console_debugcon = 1;
  p->debugcon_port = 0xe9;
  p->console_serial = 1;
  p->serial_base = 0x3f8;
  p->serial_baud = 115200;
  p->boot_params = w.opt->brk == Break::NoBootParams ? 0 : kBootParamsAddr;
  p->kernel_entry = kProbeAddr + (w.opt->handoff() == HandoffKind::kLinux32 ? w.probe->entry32
                                                                            : w.probe->entry64);
  p->idmap_limit = 0;
  // The typed-map world: the memory as a loader passes it, by the core's
  // one rule (kimage::memory_ranges).
  if (d.ne820) {
    charon::kimage::MemRange map[kMaxE820];
    for (uint32_t i = 0; i < d.ne820; ++i)
      map[i] = {d.e820[i].start, d.e820[i].end, charon::boot::E820Type(d.e820[i].type)};
    size_t n = 0;
    charon::kimage::memory_ranges(map, d.ne820, p->memory, n);
  }
  p->scratch_base = kScratchAddr;
  p->scratch_size = kScratchSize;
  // The payload's whole footprint (its "init_size") and the descriptor
  // are not digest regions; only map_ranges brings them into the map.
  p->map_ranges[0] = {kProbeAddr, w.probe->mem_size};
  p->map_ranges[1] = {kDescriptorAddr, sizeof d};
  if (w.opt->brk == Break::KexecTools) {
    // kexec-tools --no-checks: no regions, no digest, none of charon's own
    // fields. Only the descriptor (test scaffolding) stays in map_ranges.
    p->skip_checks = 1;
    charon::mem_fill(p->regions, 0, sizeof p->regions);
    charon::mem_fill(p->digest, 0, sizeof p->digest);
    charon::mem_fill(p->region_digests, 0, sizeof p->region_digests);
    p->boot_params = 0;
    p->kernel_entry = 0;
    p->map_ranges[0] = {};
  }
  if (w.opt->kabi) {
    // As kexec_file_load leaves it (kexec-bzimage64.c bzImage64_load):
    // the registers only in the kernel's entry64_regs order, in the
    // kernel flavour's own object right after the block; the block's
    // regs64 (kexec-tools' order) stays zero, so only entry.asm's
    // conversion can make the probe's register check pass.
    const charon_regs64& r = d.regs64;
    const charon_kernel_regs64 k = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi, r.r8,
                                    r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
    charon::mem_copy(reinterpret_cast<uint8_t*>(p) + sizeof *p, &k, sizeof k);
    charon::mem_fill(&p->regs64, 0, sizeof p->regs64);
  }
  return p;
}

}  // namespace harness
