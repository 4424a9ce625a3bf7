// purgatory_main: everything between "entered" and "jump", top to bottom.
// entry.asm has already put us in long mode on bootstrap tables of our own
// (the 32-bit entry's cover [0, 4 GiB), the 64-bit entry's our image and
// the scratch area), with our GDT and stack; nothing of the caller's state
// is in use. Each section below either succeeds or prints one line and
// halts. The identity map's parts are in purgatory_map.cpp.
#include "purgatory.h"

#include <charon/boot/boot_params.h>
#include <charon/cpuid.h>
#include <charon/mem.h>
#include <charon/sha256.h>
#include <charon/x86/cr.h>
#include <charon/x86/identity_map.h>
#include <stdarg.h>

namespace charon::x86 {

constinit Console g_console;

void setup_console(const charon_params& p) {
  g_console.clear();
  if (p.console_serial) {
    const uint16_t base = p.serial_base ? p.serial_base : 0x3f8;
    // baud 0: keep whatever divisor firmware or the old kernel set.
    Uart8250 uart = p.serial_baud ? Uart8250::init(base, p.serial_baud) : Uart8250{base};
    g_console.add(uart.sink());
  }
  if (p.console_debugcon)
    g_console.add(DebugCon{p.debugcon_port ? p.debugcon_port : uint16_t{0xe9}}.sink());
}

namespace {

void print_digest(const uint8_t* d) {
  for (int i = 0; i < 32; ++i) g_console.printf("%02x", d[i]);
}

// ---------------------------------------------------------------------------
// SSE, only for SHA-NI. [intel/vol3]: 13.1.3: CR0.EM=0, CR0.MP=1,
// CR4.OSFXSR=1; OSXMMEXCPT too so that a SIMD fault is a report, not #UD.
bool enable_sse() {
  write_cr0(read_cr0().set_em(false).set_ts(false).set_mp(true));
  write_cr4(read_cr4().set_osfxsr(true).set_osxmmexcpt(true));
  return true;
}

void disable_sse() {
  write_cr4(read_cr4().set_osfxsr(false).set_osxmmexcpt(false));
  write_cr0(read_cr0().set_mp(false));
}

// ---------------------------------------------------------------------------
void verify(const charon_params& p, const CpuFeatures& cpu) {
  const bool shani =
      !(p.flags & CHARON_F_SCALAR_ONLY) && sha256_choose(cpu, true) == Sha256Impl::ShaNi;
  if (shani) enable_sse();
  const Sha256Impl impl = shani ? Sha256Impl::ShaNi : Sha256Impl::Scalar;
  uint8_t got[32];
  sha256_regions(p.regions, CHARON_MAX_REGIONS, impl, got);
  if (mem_compare(got, p.digest, 32) == 0) {
    if (shani) disable_sse();
    g_console.printf("charon: digest ok (%s)\n", shani ? "sha-ni" : "scalar");
    return;
  }
  // Mismatch: find the region that differs, if the loader gave per-region
  // digests; cost does not matter any more.
  int bad = -1;
  uint8_t region_got[32];
  static constexpr uint8_t kZero[32] = {};
  for (int i = 0; i < CHARON_MAX_REGIONS && bad < 0; ++i) {
    if (!p.regions[i].len || mem_compare(p.region_digests[i], kZero, 32) == 0) continue;
    sha256_regions(&p.regions[i], 1, impl, region_got);
    if (mem_compare(region_got, p.region_digests[i], 32) != 0) bad = i;
  }
  if (shani) disable_sse();
  // One line: the region (when it can be named), then the digest over all.
  if (bad >= 0) {
    g_console.printf("charon: digest mismatch in region %d (0x%lx+0x%lx): got ", bad,
                     p.regions[bad].start, p.regions[bad].len);
    print_digest(region_got);
    g_console.puts(" want ");
    print_digest(p.region_digests[bad]);
    g_console.puts("; all regions: got ");
  } else {
    g_console.puts("charon: digest mismatch over all regions: got ");
  }
  print_digest(got);
  g_console.puts(" want ");
  print_digest(p.digest);
  halt_with(" - not jumping\n");
}

// boot.rst, xloadflags: XLF_5LEVEL says the kernel's 64-bit entry works
// with 5-level paging on. The loaders refuse such a load (kNo5Level);
// this is the last line of defence for any other loader.
void check_5level(uint64_t bp) {
  uint16_t xlf;
  mem_copy(&xlf,
           reinterpret_cast<const void*>(bp + offsetof(boot::boot_params, hdr) +
                                         offsetof(boot::setup_header, xloadflags)),
           sizeof xlf);
  if (!(xlf & boot::XLF_5LEVEL))
    halt_with(
        "charon: the kernel lacks XLF_5LEVEL (xloadflags 0x%x) and 5-level paging is on: "
        "its 64-bit entry cannot run; load it for the 32-bit entry - not jumping\n",
        xlf);
}

void copy_backup(const charon_params& p) {
  if (!p.backup_dst) return;
  const uint64_t size = p.backup_size ? p.backup_size : CHARON_BACKUP_DEFAULT_SIZE;
  mem_move(reinterpret_cast<void*>(p.backup_dst), reinterpret_cast<const void*>(p.backup_src),
           size);
  g_console.printf("charon: backup 0x%lx+0x%lx -> 0x%lx\n", p.backup_src, size, p.backup_dst);
}

}  // namespace

RealModeEntry real_mode_entry(const charon_params& p, HandoffKind handoff) {
  const uint64_t e16 = reinterpret_cast<uint64_t>(entry16);
  const uint64_t e16d = reinterpret_cast<uint64_t>(entry16_debug);
  if (handoff == HandoffKind::kGeneric16) return {e16, &p.regs16};
  if (handoff != HandoffKind::kGeneric32) return {};
  // kexec-tools --real-mode (kexec-bzImage.c): entry32_regs.eip = entry16,
  // or entry16_debug with --debug; each reads its own register set.
  if (p.regs32.eip == e16) return {e16, &p.regs16};
  if (p.regs32.eip == e16d) return {e16d, &p.regs16_debug};
  return {};
}

bool in_regions(const charon_params& p, uint64_t start, uint64_t len) {
  // The regions may touch or overlap; walk from start while some region
  // holds the next byte (at most one step per region).
  const uint64_t end = start + len;
  if (end < start) return false;
  for (int step = 0; step < CHARON_MAX_REGIONS && start < end; ++step)
    for (const charon_region& r : p.regions)
      if (r.len && r.start <= start && start - r.start < r.len) start = r.start + r.len;
  return start >= end;
}

void halt_with(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_console.vprintf(fmt, ap);
  va_end(ap);
  halt_forever();
}

}  // namespace charon::x86

using namespace charon;
using namespace charon::x86;

extern "C" void purgatory_main(charon_params* params) {
  const charon_params& p = *params;

  // ---- console (entry.asm has installed the IDT) ----------------------------
  setup_console(p);
  if (p.flags & CHARON_F_FAULT_TEST) asm volatile("ud2");
  if (p.magic != CHARON_PARAMS_MAGIC || p.version != CHARON_PARAMS_VERSION ||
      p.size != sizeof(charon_params))
    halt_with("charon: parameter block magic/version/size 0x%x/%u/%u, want 0x%x/%u/%lu\n", p.magic,
              p.version, p.size, CHARON_PARAMS_MAGIC, CHARON_PARAMS_VERSION, sizeof(charon_params));
  // The one place the raw ABI number is read; from here on it is a kind.
  if (!is_valid_handoff(p.handoff)) halt_with("charon: unknown handoff kind %u\n", p.handoff);
  HandoffKind handoff = handoff_kind(p.handoff);
  // kexec-tools' entry64_regs.rip defaults to its own 32-bit tail, and its
  // i386 path (--entry-32bit) patches only entry32_regs: generic64 with no
  // RIP therefore means generic32.
  if (handoff == HandoffKind::kGeneric64 && p.regs64.rip == 0) handoff = HandoffKind::kGeneric32;
  if (handoff == HandoffKind::kGeneric32 && p.regs32.eip == 0)
    halt_with("charon: no entry point: entry64_regs.rip and entry32_regs.eip are both 0\n");
  // One call: the compiler then inlines it. An out-of-line copy of an inline
  // function is a COMDAT group, whose relocations `ld.lld -r` (LLD 14)
  // cannot merge into .text, and the purgatory.elf link fails.
  const char* const kind_name = handoff_name(handoff);
  if (is_linux(handoff) && (!p.boot_params || !p.kernel_entry))
    halt_with("charon: %s needs boot_params and kernel_entry (got 0x%lx, 0x%lx)\n", kind_name,
              p.boot_params, p.kernel_entry);
  if (is_32bit(handoff) && reinterpret_cast<uint64_t>(charon_stack_top) >= k4GiB)
    halt_with("charon: a 32-bit handoff needs the purgatory below 4 GiB; it is at 0x%lx\n",
              reinterpret_cast<uint64_t>(purgatory_start));
  // Real mode: generic16, or kexec-tools --real-mode, which enters generic32
  // at our entry16 (or entry16_debug). Both end in entry16.asm's real-mode
  // tail, which only runs below 1 MiB: refuse here, with a line, rather
  // than triple-fault there.
  const RealModeEntry real = real_mode_entry(p, handoff);
  if (real.entry && !real_mode_reachable(reinterpret_cast<uint64_t>(entry16_debug),
                                         reinterpret_cast<uint64_t>(charon_tail16_end)))
    halt_with("charon: real mode needs the purgatory's 16-bit tail below 1 MiB, not at 0x%lx\n",
              reinterpret_cast<uint64_t>(entry16_debug));
  const bool la57 = charon_entered_la57 != 0;
  g_console.printf("charon: purgatory at 0x%lx, handoff %s, %d-level paging\n",
                   reinterpret_cast<uint64_t>(purgatory_start), kind_name, la57 ? 5 : 4);

  // ---- our own identity map: what the parameter block names ---------------
  // Built before verification: the regions may lie outside the bootstrap
  // tables (above 4 GiB, or anywhere after the 64-bit entry), and hashing
  // must read them. Nothing here reads memory the block points to.
  const CpuFeatures cpu = CpuFeatures::detect();
  const TableArena arena = scratch_arena(p);
  TableArena live = arena;
  const MapLayout layout = known_layout(p, handoff);
  IdentityMap map(live, MapPolicy{cpu.pdpe1gb, la57}, layout);
  map_layout(map, arena, layout, p, handoff);
  write_cr3(map.root());
  const uint64_t cr3 = map.root();
  size_t nmemory = 0;
  for (const charon_region& r : p.memory) nmemory += r.len != 0;
  g_console.printf("charon: identity map: %lu memory ranges, %lu table pages\n", nmemory,
                   live.used);

  // ---- verify; only then read boot_params ----------------------------------
  // boot_params is the loader's, but a stray DMA or the old kernel may have
  // written it since: until the digest holds, no pointer in it is
  // followed (README, "Purgatory order"). With skip_checks the loader
  // asked for no verification, and boot_params is read as it is.
  const bool checked = !p.skip_checks;
  if (checked) verify(p, cpu);
  if (is_linux(handoff) && checked && !in_regions(p, p.boot_params, sizeof(boot::boot_params)))
    halt_with(
        "charon: boot_params 0x%lx+0x%lx lies outside the digest regions, so it cannot "
        "be trusted - not jumping\n",
        p.boot_params, sizeof(boot::boot_params));
  if (handoff == HandoffKind::kLinux64 && la57) check_5level(p.boot_params);
  if (map_from_boot_params(map, arena, p, handoff)) write_cr3(map.root());
  copy_backup(p);
  // NMIs returned (isr_stubs.asm); say so, since the caller may wonder.
  if (const uint32_t nmis = charon_nmi_count)
    g_console.printf("charon: %u NMI(s) while running\n", nmis);
  if (p.flags & CHARON_F_HALT_BEFORE_JUMP) halt_with("charon: verified; halting as asked\n");

  // ---- hand off --------------------------------------------------------------
  const uint64_t cr4 = Cr4{}.set_pae(true).set_la57(la57).raw();
  switch (handoff) {
    case HandoffKind::kLinux64: {
      // boot.rst, 64-bit boot protocol: RSI = boot_params, jump to the
      // 64-bit entry (load address + 0x200); other registers are ours.
      charon_regs64 r{};
      r.rsi = p.boot_params;
      r.rsp = reinterpret_cast<uint64_t>(charon_stack_top);
      r.rip = p.kernel_entry;
      g_console.printf("charon: jumping to 0x%lx (linux64, boot_params 0x%lx)\n", r.rip, r.rsi);
      charon_handoff64(&r, cr3, cr4);
    }
    case HandoffKind::kGeneric64:
      g_console.printf("charon: jumping to 0x%lx (generic64)\n", p.regs64.rip);
      charon_handoff64(&p.regs64, cr3, cr4);
    case HandoffKind::kLinux32: {
      // boot.rst, 32-bit boot protocol: ESI = boot_params, EBP = EDI =
      // EBX = 0, paging off, CS 0x10 / DS 0x18 flat.
      charon_regs32 r{};
      r.esi = static_cast<uint32_t>(p.boot_params);
      r.esp = static_cast<uint32_t>(reinterpret_cast<uint64_t>(charon_stack_top));
      r.eip = static_cast<uint32_t>(p.kernel_entry);
      if (p.kernel_entry >> 32 || p.boot_params >> 32)
        halt_with("charon: linux32 needs kernel and boot_params below 4 GiB\n");
      g_console.printf("charon: jumping to 0x%x (linux32, boot_params 0x%x)\n", r.eip, r.esi);
      charon_handoff32(&r, nullptr);
    }
    case HandoffKind::kGeneric16:
    case HandoffKind::kGeneric32: {
      if (real.entry) {
        // entry16.asm loads the register set itself; it takes only its
        // own address in EAX, and our stack, from the 32-bit handoff.
        charon_regs32 r{};
        r.eax = static_cast<uint32_t>(real.entry);
        r.esp = static_cast<uint32_t>(reinterpret_cast<uint64_t>(charon_stack_top));
        r.eip = r.eax;
        g_console.printf("charon: jumping to %04x:%04x in real mode\n", real.regs->cs,
                         real.regs->ip);
        charon_handoff32(&r, nullptr);
      }
      // kexec-tools' elf-x86 loader (kexec/arch/i386/kexec-elf-x86.c)
      // points ESP at stack_arg32_2, with stack_arg32_1 above it: a cdecl
      // frame whose return address is 0 and whose argument is the ELF
      // boot notes. Its purgatory keeps them at the top of a stack the
      // payload then runs on; ours sit in the block, so they are pushed
      // on our own stack instead, and the payload gets that stack.
      const uint64_t arg2 = reinterpret_cast<uint64_t>(&p.stack_arg32_2);
      if (p.regs32.esp == arg2) {
        charon_regs32 r = p.regs32;
        r.esp = static_cast<uint32_t>(reinterpret_cast<uint64_t>(charon_stack_top) - 8);
        g_console.printf("charon: jumping to 0x%x (generic32, stack args 0x%x 0x%x at 0x%x)\n",
                         r.eip, p.stack_arg32_1, p.stack_arg32_2, r.esp);
        charon_handoff32(&r, &p.stack_arg32_2);
      }
      g_console.printf("charon: jumping to 0x%x (generic32)\n", p.regs32.eip);
      charon_handoff32(&p.regs32, nullptr);
    }
  }
  halt_forever();  // not reached: every kind jumps above
}
