// The items the probe checks, grouped by what they read: the recorded CPU
// state (checks_cpu.cpp) and memory (checks_mem.cpp).
#pragma once
#include "descriptor.h"
#include "pagewalk.h"
#include "report.h"
#include "saved.h"

namespace probe {

inline bool is_64bit_kind(uint32_t handoff) {
  return handoff == CHARON_HANDOFF_LINUX64 || handoff == CHARON_HANDOFF_GENERIC64;
}
inline bool is_real_mode_kind(uint32_t handoff) {
  return handoff == CHARON_HANDOFF_GENERIC16;
}
inline bool is_linux_kind(uint32_t handoff) {
  return handoff == CHARON_HANDOFF_LINUX64 || handoff == CHARON_HANDOFF_LINUX32;
}

// The handed-over tables; meaningful only after a 64-bit handoff.
inline Tables live_tables(const Saved& s) {
  return Tables{s.cr3, ((s.cr4 >> 12) & 1) != 0, ((s.efer >> 11) & 1) != 0};
}

void check_control_registers(Report& r, const Saved& s, const Descriptor& d);
void check_segments(Report& r, const Saved& s, const Descriptor& d);
void check_rflags(Report& r, const Saved& s);
void check_gprs(Report& r, const Saved& s, const Descriptor& d);
// generic16: real mode with regs16's segments and registers, the IVT as
// IDT, CR0.PE/PG clear, and the debug hooks when the descriptor asks.
void check_real_mode(Report& r, const Saved& s, const Descriptor& d);

void check_boot_params(Report& r, const Descriptor& d);
void check_backup(Report& r, const Descriptor& d);
void check_identity_map(Report& r, const Saved& s, const Descriptor& d);

}  // namespace probe
