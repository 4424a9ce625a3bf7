// The protocol-test harness: a multiboot kernel that sets the scene (low
// memory, zero page, probe descriptor, the purgatory's parameter block)
// and enters the purgatory from the state named on its command line. The
// probe, entered by the purgatory, gives the verdict; the harness itself
// only ever exits QEMU on a set-up error.
#include <charon/align.h>
#include <charon/console.h>
#include <charon/cpuid.h>
#include <charon/handoff.h>
#include <charon/io.h>
#include <charon/mem.h>
#include <charon/x86/cr.h>
#include <charon/x86/halt.h>

#include "options.h"
#include "plan.h"
#include "purgonly_tables.h"
#include "reloc.h"
#include "world.h"

harness::EntryPlan entry_plan;

namespace harness {
namespace {

using charon::HandoffKind;
using charon::kPageSize;
using charon::x86::Cr4;

constexpr uint32_t kExitHarnessError = 0x12;  // QEMU status 37
// The CR4 bits the entry states set, from the typed register (cr.h).
constexpr uint64_t kCr4Pae = Cr4{}.set_pae(true).raw(), kCr4Pge = Cr4{}.set_pge(true).raw();
constexpr uint64_t kCr4La57 = Cr4{}.set_la57(true).raw();
constexpr uint64_t kCr4Pcide = Cr4{}.set_pcide(true).raw(), kCr4Smep = Cr4{}.set_smep(true).raw(),
                   kCr4Smap = Cr4{}.set_smap(true).raw();

charon::Console g_con;

[[noreturn]] void die(const char* what, uint64_t value) {
  g_con.printf("harness: error: %s (0x%lx)\n", what, value);
  charon::io::out32(probe::kDebugExitPort, kExitHarnessError);
  charon::x86::halt_forever();
}

// Copies the multiboot command line (info flags bit 2, field at +16)
// before low memory is overwritten: QEMU keeps it below 1 MiB.
void read_cmdline(uint32_t mbi, char* out, int max) {
  const uint32_t* info = reinterpret_cast<const uint32_t*>(uintptr_t{mbi});
  out[0] = 0;
  if (!mbi || !(info[0] & (1u << 2))) return;
  const char* s = reinterpret_cast<const char*>(uintptr_t{info[4]});
  int i = 0;
  for (; s[i] && i < max - 1; ++i) out[i] = s[i];
  out[i] = 0;
}

void mask_8259s() {  // IF=1 entries must not see an interrupt arrive
  charon::io::out8(0x21, 0xff);
  charon::io::out8(0xa1, 0xff);
}

void fill_garbage(charon_regs64& r, uint64_t seed) {
  uint64_t* g = &r.rax;
  for (int i = 0; i < 17; ++i) g[i] = probe::pattern_word(seed ^ 0x9a9a, i) | 0x8000000000000001ull;
  r.rsp = 0xdeadbeefdeadbeefull;  // no stack: the purgatory must not use ours
}

void plan_purgatory_entry(const Options& o, const World& w, const charon::CpuFeatures& cpu) {
  EntryPlan& p = entry_plan;
  fill_garbage(p.regs, w.seed);
  p.transit_cr3 = reinterpret_cast<uint64_t>(harness_pml4);
  p.transit_cr4 = kCr4Pae;
  p.target_cr3 = p.transit_cr3;
  p.target = o.purg + w.purg->entry64;
  p.mode = Mode::Lm64;
  switch (o.entry) {
    case Entry::Pm32:
      p.mode = Mode::Pm32;
      p.target = o.purg + w.purg->entry32;
      p.flags = kSetDf;
      break;
    case Entry::Pm32Xen:
      p.mode = Mode::Pm32;
      p.target = o.purg + w.purg->entry32;
      p.flags = kSetDf | kEntryInEbp;
      break;
    case Entry::Lm64Ident:
    case Entry::No1g:
      break;
    case Entry::Lm64PurgOnly:
      p.target_cr3 =
          build_purgonly_tables(o.purg, w.purg->mem_size, reinterpret_cast<uint64_t>(switch_stub));
      if (!p.target_cr3) die("purgonly table pool exhausted", w.purg->mem_size);
      p.flags = kSetWp;  // the purgatory's pages are read-only there
      break;
    case Entry::Lm64La57:
      if (!cpu.la57) die("lm64-la57 needs CPUID.(7,0):ECX[16] (QEMU -cpu max,+la57)", 0);
      p.transit_cr3 = p.target_cr3 = reinterpret_cast<uint64_t>(harness_pml5);
      p.transit_cr4 = kCr4Pae | kCr4La57;
      break;
    case Entry::Lm64Hostile: {
      const auto l7 = charon::cpuid(7, 0);
      const bool pcid = (charon::cpuid(1).ecx >> 17) & 1;
      const bool smep = (l7.ebx >> 7) & 1, smap = (l7.ebx >> 20) & 1;
      if (!smep || !smap) die("lm64-hostile needs SMEP and SMAP (QEMU -cpu max)", l7.ebx);
      p.extra_cr4 = kCr4Pge | kCr4Smep | kCr4Smap;
      // QEMU's TCG has no PCID (QEMU 7.2 drops it with a warning); set
      // PCIDE wherever the CPU has it.
      if (pcid)
        p.extra_cr4 |= kCr4Pcide;
      else
        g_con.printf("harness: note: CPU without PCID, CR4.PCIDE stays clear\n");
      p.flags = kSetDf | kSetIf | kGarbageIdtr | kGarbageGdtr;
      break;
    }
    case Entry::Direct:
    case Entry::Reloc64:
    case Entry::Reloc32:
      break;  // plan_direct_entry, reloc_plan_entry
  }
}

// The probe's real-mode stub, copied below 1 MiB, with its header: the
// realmode_swtch hook (kexec-tools' way: cs = entry16_debug >> 4, ip =
// pre32 - entry16_debug) and the 32-bit target (the code32_start hook, or
// the probe's own way back).
void place_rm_stub(const Options& o, const World& w) {
  void* stub = reinterpret_cast<void*>(probe::kRmStubAddr);
  charon::mem_copy(stub, reinterpret_cast<const void*>(uint64_t{w.probe->rm_stub}),
                   w.probe->rm_stub_size);
  probe::RmStubHeader h{};
  h.pm_target = w.probe->entry16_pm;
  h.pm_selector = 0x10;
  if (o.hooks) {
    const uint64_t debug = o.purg + w.purg->entry16_debug;
    h.hook_cs = static_cast<uint16_t>(debug >> 4);
    h.hook_ip = static_cast<uint16_t>(o.purg + w.purg->entry16_debug_pre32 - debug);
    h.pm_target = static_cast<uint32_t>(o.purg + w.purg->entry16_debug_first32);
  }
  charon::mem_copy(stub, &h, sizeof h);
}

// The reference handoff for the probe's self-test: what a correct
// purgatory would do, optionally broken in one named way.
void plan_direct_entry(const Options& o, World& w) {
  EntryPlan& p = entry_plan;
  probe::Descriptor& d = *w.desc;
  const HandoffKind kind = o.handoff();
  const bool wide = !charon::is_32bit(kind);
  const uint64_t stack = reinterpret_cast<uint64_t>(stack_top) - 64;
  p.mode = wide ? Mode::Direct64 : Mode::Direct32;
  p.transit_cr3 = reinterpret_cast<uint64_t>(harness_pml4);
  p.transit_cr4 = kCr4Pae;
  charon::mem_fill(&p.regs, 0, sizeof p.regs);
  if (kind == HandoffKind::kGeneric64) {
    p.regs = d.regs64;
  } else if (kind == HandoffKind::kGeneric32) {
    const uint32_t* r32 = &d.regs32.eax;
    for (int i = 0; i < 8; ++i) (&p.regs.rax)[i] = r32[i];
  } else {
    p.regs.rsi = probe::kBootParamsAddr;
    p.regs.rsp = stack;
    d.stack_lo = stack - kPageSize;
    d.stack_hi = stack;
  }
  p.target = wide ? (kind == HandoffKind::kGeneric64 ? d.regs64.rip : probe::kProbeAddr + 0x200)
                  : (kind == HandoffKind::kGeneric32 ? d.regs32.eip : probe::kProbeAddr);
  // The reference runs on the harness's own tables, not in a scratch area.
  d.cr3_lo = p.transit_cr3;
  d.cr3_hi = p.transit_cr3 + kPageSize;
  switch (o.brk) {
    case Break::None:
    case Break::NoZero:        // reloc entries only
    case Break::NoBootParams:  // purgatory entries only
    case Break::KexecTools:
    case Break::BootParamsUnhashed:
      break;
    case Break::Df:
      p.flags |= kSetDf;
      break;
    case Break::Rsi:
      p.regs.rsi += 8;
      break;
    case Break::Reg:
      p.regs.rbx ^= 1;
      break;
    case Break::Backup:
      return;  // no backup copy below
    case Break::Idmap:
      add_range(d, 9 * charon::k1GiB, kPageSize, "above-8g");  // the harness maps only [0, 8 GiB)
      break;
    case Break::Cr4:
      p.extra_cr4 = kCr4Pge;  // boot.rst asks for nothing but PAE
      break;
    case Break::Reserved:
      if (!o.e820) die("break=reserved needs e820=1", 0);
      break;  // the harness's tables map the hole with 2 MiB leaves
    case Break::Gb1:
      // [3 GiB, 4 GiB) as one 1 GiB leaf (the runner gives this case a CPU
      // with pdpe1gb), judged as if the CPU had none.
      harness_pdpt[3] = (3ull << 30) | 0x83;
      d.allow_1g = 0;
      break;
  }
  const volatile uint8_t* low = reinterpret_cast<const volatile uint8_t*>(uintptr_t{0});
  uint8_t* dst = reinterpret_cast<uint8_t*>(probe::kBackupDst);
  for (uint64_t i = 0; i < probe::kLowMemSize; ++i) dst[i] = low[i];
}

}  // namespace
}  // namespace harness

extern "C" [[noreturn]] void harness_main(uint32_t mbi) {
  using namespace harness;
  charon::DebugCon dc{0xe9};
  g_con.add(dc.sink());
  char cmdline[512];
  read_cmdline(mbi, cmdline, sizeof cmdline);
  static probe::E820 firmware_map[probe::kMaxE820];
  const uint32_t nfirmware_map = read_multiboot_map(mbi, firmware_map, probe::kMaxE820);
  g_con.printf("harness: cmdline \"%s\"\n", cmdline);
  Options o = parse_options(cmdline);
  if (o.error) die(o.error, 0);

  World w{&o,
          seed_for(o.case_name),
          nullptr,
          nullptr,
          reinterpret_cast<probe::Descriptor*>(probe::kDescriptorAddr),
          firmware_map,
          nfirmware_map};
  if (o.e820 && nfirmware_map == 0) die("e820=1 needs QEMU's multiboot memory map", 0);
  w.probe = reinterpret_cast<const probe::ProbeInfo*>(probe::kProbeAddr + probe::kInfoOffset);
  if (w.probe->magic != probe::kInfoMagic) die("no probe at 0x1000000 (magic)", w.probe->magic);
  if (o.entry != Entry::Direct) {
    w.purg = reinterpret_cast<const charon_bin_header*>(o.purg);
    if (w.purg->magic != CHARON_BIN_MAGIC) die("no purgatory.bin at purg= (magic)", w.purg->magic);
  }
  const charon::CpuFeatures cpu = charon::CpuFeatures::detect();
  if (o.entry == Entry::No1g && cpu.pdpe1gb) die("no1g needs a CPU without pdpe1gb", 0);

  mask_8259s();
  write_low_memory(w.seed);
  if (o.low) {
    // QEMU cannot load below 1 MiB what the pattern would then overwrite.
    const uint64_t size = w.purg->file_size;
    if (probe::kLowPurgAddr + w.purg->mem_size > probe::kLowMemSize)
      die("low=1: the purgatory does not fit below 640 KiB", w.purg->mem_size);
    charon::mem_copy(reinterpret_cast<void*>(probe::kLowPurgAddr), w.purg, size);
    o.purg = probe::kLowPurgAddr;
    w.purg = reinterpret_cast<const charon_bin_header*>(o.purg);
  }
  if (o.real_mode()) place_rm_stub(o, w);
  write_descriptor(w, o.entry == Entry::Lm64La57, cpu.pdpe1gb);
  if (!write_boot_params(w)) die("efi=1 needs RAM at the fake EFI tables (QEMU -m 6G)", 0);
  if (o.entry == Entry::Direct) {
    plan_direct_entry(o, w);
  } else {
    charon_params* p = write_params(w);
    const bool reloc = o.entry == Entry::Reloc64 || o.entry == Entry::Reloc32;
    if (reloc) reloc_add_regions(p);
    g_con.printf("harness: digest ");  // the runner matches it to the purgatory's "want"
    for (uint8_t b : p->digest) g_con.printf("%02x", b);
    g_con.printf("\n");
    if (o.corrupt >= 0) {
      const charon_region& r = p->regions[o.corrupt];
      if (!r.len) die("corrupt= names an empty region", o.corrupt);
      volatile uint8_t* byte = reinterpret_cast<volatile uint8_t*>(r.start + r.len / 2);
      *byte = static_cast<uint8_t>(*byte ^ 0x5a);
      g_con.printf("harness: corrupted region %d at 0x%lx\n", o.corrupt, r.start + r.len / 2);
    }
    if (o.hostile_setup_data) {
      // Like a stray write after the load: boot_params was hashed as
      // region 1 and now names a node nobody placed.
      volatile uint8_t* field =
          reinterpret_cast<volatile uint8_t*>(probe::kBootParamsAddr + probe::kSetupDataOffset);
      for (int b = 0; b < 8; ++b) field[b] = static_cast<uint8_t>(o.hostile_setup_data >> (8 * b));
      g_con.printf("harness: boot_params.setup_data = 0x%lx after the digest\n",
                   o.hostile_setup_data);
    }
    if (reloc) {
      uint64_t value = 0;
      if (const char* error = reloc_plan_entry(w, &value)) die(error, value);
      g_con.printf("harness: relocation list of %lu pages, trampoline at 0x%lx\n", value,
                   entry_plan.target);
    } else {
      plan_purgatory_entry(o, w, cpu);
    }
  }
  g_con.printf("harness: entering 0x%lx\n", entry_plan.target);
  harness_enter();
}
