// The probe payload: plays the new kernel. It prints one PASS/FAIL line per
// item of the handoff contract on debugcon 0xE9, one verdict line, and
// exits QEMU through isa-debug-exit with a pass or a fail code.
#include <charon/console.h>
#include <charon/io.h>

#include "checks.h"

namespace probe {
namespace {

[[noreturn]] void exit_qemu(uint32_t code) {
  charon::io::out32(kDebugExitPort, code);
  for (;;) asm volatile("cli; hlt");  // no isa-debug-exit device: stop here
}

void run_checks(Report& r, const Saved& s, const Descriptor& d) {
  const bool wide = is_64bit_kind(d.handoff);
  if (is_real_mode_kind(d.handoff)) {
    if (!r.eq("entered-via-16bit-entry", s.entry_bits, 16)) return;
    check_real_mode(r, s, d);
    check_backup(r, d);
    return;
  }
  if (!r.eq(wide ? "entered-via-64bit-entry" : "entered-via-32bit-entry", s.entry_bits,
            wide ? 64 : 32))
    return;  // the rest would judge the wrong mode's rules
  check_control_registers(r, s, d);
  check_segments(r, s, d);
  check_rflags(r, s);
  check_gprs(r, s, d);
  check_boot_params(r, d);
  check_backup(r, d);
  if (wide) check_identity_map(r, s, d);
}

}  // namespace
}  // namespace probe

extern "C" [[noreturn]] void probe_main(const probe::Saved* saved) {
  using namespace probe;
  charon::DebugCon dc{0xe9};
  charon::Console con;
  con.add(dc.sink());
  const Descriptor& d = *reinterpret_cast<const Descriptor*>(kDescriptorAddr);
  if (d.magic != kDescriptorMagic) {
    con.printf("PROBE-VERDICT: ? FAIL (no descriptor at 0x%lx: magic 0x%x)\n", kDescriptorAddr,
               d.magic);
    exit_qemu(kExitFail);
  }
  con.printf("PROBE: %s reached via the %u-bit entry\n", d.case_name, saved->entry_bits);
  Report r(con, d.case_name);
  run_checks(r, *saved, d);
  if (r.failed() == 0) {
    con.printf("PROBE-VERDICT: %s PASS (%d items)\n", d.case_name, r.items());
    exit_qemu(kExitPass);
  }
  con.printf("PROBE-VERDICT: %s FAIL (%d of %d items failed)\n", d.case_name, r.failed(),
             r.items());
  exit_qemu(kExitFail);
}
