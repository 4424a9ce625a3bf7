// Checks on the registers the entry code recorded. The expected values are
// the handoff contract: boot.rst "64-bit boot protocol" and "32-bit boot
// protocol", plus charon's generic kinds (exact regs64/regs32).
#include <charon/mem.h>

#include "checks.h"

namespace probe {
namespace {

// Typed in from the manual on purpose, not taken from charon/x86/cr.h or
// gdt.h: the probe is the oracle for the purgatory, so a wrong bit there
// must not become a wrong expectation here.
// [intel/vol3] 2.5: CR0.PE (0), ET (4), PG (31); CR4.PAE (5), LA57 (12);
// [intel/vol3] 2.2.1: EFER.LME (8), LMA (10).
constexpr uint64_t kCr0Pe = 1u << 0, kCr0Et = 1u << 4, kCr0Pg = 1u << 31;
constexpr uint64_t kCr4Pae = 1u << 5, kCr4La57 = 1u << 12;
constexpr uint64_t kEferLme = 1u << 8, kEferLma = 1u << 10;
constexpr uint64_t kRflagsFixed = 1u << 1, kRflagsIf = 1u << 9, kRflagsDf = 1u << 10;

// A segment descriptor's fields ([intel/vol3] 3.4.5, figure 3-8).
struct SegDesc {
  uint64_t raw;
  uint32_t base() const {
    return static_cast<uint32_t>(((raw >> 16) & 0xffffff) | (((raw >> 56) & 0xff) << 24));
  }
  uint32_t limit() const {
    return static_cast<uint32_t>((raw & 0xffff) | (((raw >> 48) & 0xf) << 16));
  }
  unsigned type() const { return (raw >> 40) & 0xf; }
  bool s() const { return (raw >> 44) & 1; }
  unsigned dpl() const { return (raw >> 45) & 3; }
  bool p() const { return (raw >> 47) & 1; }
  bool l() const { return (raw >> 53) & 1; }
  bool db() const { return (raw >> 54) & 1; }
  bool g() const { return (raw >> 55) & 1; }
  bool present_ring0() const { return p() && s() && dpl() == 0; }
  bool code_readable() const { return (type() & 0xe) == 0xa; }  // code, not conforming, readable
  bool data_writable() const { return (type() & 0xe) == 0x2; }  // data, expand-up, writable
  bool flat_4g() const { return base() == 0 && limit() == 0xfffff && g(); }
};

uint64_t gdtr_base(const Saved& s) {
  uint64_t base = 0;
  charon::mem_copy(&base, s.gdtr + 2, s.entry_bits == 64 ? 8 : 4);
  return base;
}
uint16_t limit_of(const uint8_t* pseudo) {
  return static_cast<uint16_t>(pseudo[0] | pseudo[1] << 8);
}

// Reads GDT[sel] as the CPU would have: through the handed-over tables
// after a 64-bit handoff, by physical address after a 32-bit one.
bool read_descriptor(Report& r, const Saved& s, uint16_t sel, const char* item, SegDesc* out) {
  if (limit_of(s.gdtr) < sel + 7)
    return r.fail(item, "GDTR limit 0x%x does not cover selector 0x%x", limit_of(s.gdtr), sel);
  uint64_t addr = gdtr_base(s) + sel;
  if (s.entry_bits == 64) {
    const Translation t = translate(live_tables(s), addr);
    if (!t.ok) return r.fail(item, "GDT entry at 0x%lx unmapped: %s", addr, t.error);
    addr = t.phys;
  }
  out->raw = *reinterpret_cast<const volatile uint64_t*>(addr);
  return true;
}

void check_gdt(Report& r, const Saved& s, bool long_mode) {
  SegDesc code, data;
  const char* code_item = long_mode ? "gdt-0x10-is-64bit-code" : "gdt-0x10-is-flat-32bit-code";
  if (read_descriptor(r, s, 0x10, code_item, &code)) {
    const bool ok = code.present_ring0() && code.code_readable() &&
                    (long_mode ? code.l() && !code.db() : !code.l() && code.db() && code.flat_4g());
    if (ok)
      r.pass(code_item);
    else
      r.fail(code_item, "got 0x%016lx, want P=1 DPL=0 execute/read %s", code.raw,
             long_mode ? "L=1 D=0" : "D=1 L=0 base 0 limit 4 GiB");
  }
  const char* data_item = "gdt-0x18-is-flat-data";
  if (read_descriptor(r, s, 0x18, data_item, &data)) {
    const bool ok =
        data.present_ring0() && data.data_writable() && data.flat_4g() && (long_mode || data.db());
    if (ok)
      r.pass(data_item);
    else
      r.fail(data_item, "got 0x%016lx, want P=1 DPL=0 read/write base 0 limit 4 GiB%s", data.raw,
             long_mode ? "" : " B=1");
  }
}

// kexec-tools' elf-x86 frame (kexec/arch/i386/kexec-elf-x86.c): ESP was
// given as the address of stack_arg32_2; the payload must find the two
// words as a cdecl frame, on a stack that has room below it (not the
// parameter block, which kexec-tools' loader pointed at).
void check_stack_args(Report& r, const Saved& s, const Descriptor& d) {
  const uint64_t esp = s.regs.rsp;
  if (esp > d.stack_lo && esp + 8 <= d.stack_hi && esp >= d.free_stack_lo + 4096)
    r.pass("esp-on-purgatory-stack-4k-free");
  else
    r.fail("esp-on-purgatory-stack-4k-free",
           "got 0x%lx, want in (0x%lx, 0x%lx - 8] with 4 KiB free above 0x%lx", esp, d.stack_lo,
           d.stack_hi, d.free_stack_lo);
  r.eq("stack-arg32-2-at-esp", s.stack[0], d.stack_arg32_2);
  r.eq("stack-arg32-1-at-esp-plus-4", s.stack[1], d.stack_arg32_1);
}

}  // namespace

void check_control_registers(Report& r, const Saved& s, const Descriptor& d) {
  if (is_64bit_kind(d.handoff)) {
    const uint64_t la57 = d.expect_la57 ? kCr4La57 : 0;
    r.eq("cr0-is-pg-et-pe", s.cr0, kCr0Pg | kCr0Et | kCr0Pe);
    r.eq(d.expect_la57 ? "cr4-is-pae-la57" : "cr4-is-pae", s.cr4, kCr4Pae | la57);
    r.eq("efer-is-lme-lma", s.efer, kEferLme | kEferLma);
    r.eq(d.expect_la57 ? "paging-5-level" : "paging-4-level", s.cr4 & kCr4La57, la57);
    const uint64_t cr3 = s.cr3 & ~0xfffull;
    if (cr3 >= d.cr3_lo && cr3 < d.cr3_hi)
      r.pass("cr3-in-scratch");
    else
      r.fail("cr3-in-scratch", "got 0x%lx, want in [0x%lx, 0x%lx)", s.cr3, d.cr3_lo, d.cr3_hi);
    r.eq("idtr-limit-zero", limit_of(s.idtr), 0);
  } else {
    r.eq("cr0-is-et-pe-paging-off", s.cr0, kCr0Et | kCr0Pe);
    r.eq("cr4-is-zero", s.cr4, 0);
    r.eq("efer-is-zero", s.efer, 0);
  }
}

void check_segments(Report& r, const Saved& s, const Descriptor& d) {
  r.eq("cs-is-0x10", s.cs, 0x10);
  r.eq("ds-is-0x18", s.ds, 0x18);
  r.eq("es-is-0x18", s.es, 0x18);
  r.eq("ss-is-0x18", s.ss, 0x18);
  r.eq("fs-is-0x18", s.fs, 0x18);
  r.eq("gs-is-0x18", s.gs, 0x18);
  check_gdt(r, s, is_64bit_kind(d.handoff));
}

void check_rflags(Report& r, const Saved& s) {
  r.eq("if-clear", s.rflags & kRflagsIf, 0);
  r.eq("df-clear", s.rflags & kRflagsDf, 0);
  r.eq("rflags-is-0x2", s.rflags, kRflagsFixed);
}

void check_gprs(Report& r, const Saved& s, const Descriptor& d) {
  static constexpr const char* kNames64[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi",
                                               "rsp", "rbp", "r8",  "r9",  "r10", "r11",
                                               "r12", "r13", "r14", "r15"};
  static constexpr const char* kNames32[8] = {"eax", "ebx", "ecx", "edx",
                                              "esi", "edi", "esp", "ebp"};
  constexpr int kRsi = 4, kRsp = 6;
  const bool wide = is_64bit_kind(d.handoff);
  const int n = wide ? 16 : 8;
  const char* const* names = wide ? kNames64 : kNames32;
  const uint64_t* got = &s.regs.rax;
  char item[32];
  auto name_item = [&](const char* reg, const char* what) {
    int i = 0;
    for (const char* p = reg; *p;) item[i++] = *p++;
    for (const char* p = what; *p && i < 31;) item[i++] = *p++;
    item[i] = 0;
    return item;
  };
  for (int i = 0; i < n; ++i) {
    if (d.handoff == CHARON_HANDOFF_GENERIC32 && d.stack_args && i == kRsp) {
      check_stack_args(r, s, d);
    } else if (d.handoff == CHARON_HANDOFF_GENERIC64) {
      r.eq(name_item(names[i], "-is-regs64"), got[i], (&d.regs64.rax)[i]);
    } else if (d.handoff == CHARON_HANDOFF_GENERIC32) {
      r.eq(name_item(names[i], "-is-regs32"), got[i], (&d.regs32.eax)[i]);
    } else if (i == kRsi) {
      r.eq(name_item(names[i], "-is-boot-params"), got[i], d.boot_params);
    } else if (i == kRsp) {
      const bool ok = got[i] > d.stack_lo && got[i] <= d.stack_hi;
      if (ok)
        r.pass(name_item(names[i], "-in-purgatory-stack"));
      else
        r.fail(name_item(names[i], "-in-purgatory-stack"), "got 0x%lx, want in (0x%lx, 0x%lx]",
               got[i], d.stack_lo, d.stack_hi);
    } else {
      r.eq(name_item(names[i], "-is-zero"), got[i], 0);
    }
  }
  const uint64_t want_rip =
      wide ? (d.handoff == CHARON_HANDOFF_GENERIC64 ? d.regs64.rip : kProbeAddr + 0x200)
           : (d.handoff == CHARON_HANDOFF_GENERIC32 ? d.regs32.eip : kProbeAddr);
  r.eq(wide ? "rip-is-entry" : "eip-is-entry", s.regs.rip, want_rip);
}

void check_real_mode(Report& r, const Saved& s, const Descriptor& d) {
  const charon_regs16& w = d.regs16;
  // Real mode: PE and PG clear (ET is what the 32-bit handoff left), and
  // the addressing proved by the stub (ES = CS - 1 reads 16 bytes on).
  r.eq("cr0-is-et-pe-pg-clear", s.cr0, kCr0Et);
  r.eq("real-mode-segment-arithmetic", s.rm_arith, 1);
  r.eq("cr4-is-zero", s.cr4, 0);
  r.eq("efer-is-zero", s.efer, 0);
  // The real-mode IVT: 256 four-byte vectors at 0.
  uint32_t idt_base = 0;
  charon::mem_copy(&idt_base, s.idtr + 2, 4);
  r.eq("idtr-limit-is-ivt-0x3ff", limit_of(s.idtr), 0x3ff);
  r.eq("idtr-base-is-zero", idt_base, 0);
  r.eq("cs-is-regs16", s.cs, w.cs);
  r.eq("ds-is-regs16", s.ds, w.ds);
  r.eq("es-is-regs16", s.es, w.es);
  r.eq("ss-is-regs16", s.ss, w.ss);
  r.eq("fs-is-regs16", s.fs, w.fs);
  r.eq("gs-is-regs16", s.gs, w.gs);
  check_rflags(r, s);
  static constexpr const char* kNames[8] = {"eax-is-regs16", "ebx-is-regs16", "ecx-is-regs16",
                                            "edx-is-regs16", "esi-is-regs16", "edi-is-regs16",
                                            "esp-is-regs16", "ebp-is-regs16"};
  for (int i = 0; i < 8; ++i) r.eq(kNames[i], (&s.regs.rax)[i], (&w.eax)[i]);
  if (d.debug_hooks) {
    // kexec-tools --real-mode --debug hooks a Linux setup code:
    // realmode_swtch (a far call that must return with IF clear) and
    // code32_start (which must keep the registers and come back here).
    r.eq("realmode-swtch-hook-returned", s.hook_called, 1);
    r.eq("if-clear-after-realmode-swtch-hook", s.hook_rflags & kRflagsIf, 0);
    r.eq("code32-start-hook-kept-registers", s.first32_kept, 1);
  }
}

}  // namespace probe
