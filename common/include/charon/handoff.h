// The handoff kind as a type. params.h keeps the CHARON_HANDOFF_* numbers,
// which are the C ABI; C++ code converts once, at the boundary, and asks
// the predicates instead of comparing numbers.
#pragma once
#include <charon/params.h>
#include <stdint.h>

namespace charon {

enum class HandoffKind : uint32_t {
  kGeneric64 = CHARON_HANDOFF_GENERIC64,  // regs64 exactly, paging on
  kLinux64 = CHARON_HANDOFF_LINUX64,      // boot.rst 64-bit entry
  kLinux32 = CHARON_HANDOFF_LINUX32,      // boot.rst 32-bit entry, paging off
  kGeneric32 = CHARON_HANDOFF_GENERIC32,  // regs32 exactly, paging off
  kGeneric16 = CHARON_HANDOFF_GENERIC16,  // real mode: regs16 exactly, jump cs:ip
};

constexpr bool is_valid_handoff(uint32_t raw) {
  return raw < CHARON_HANDOFF_COUNT;
}
// Only for a value is_valid_handoff() accepted.
constexpr HandoffKind handoff_kind(uint32_t raw) {
  return static_cast<HandoffKind>(raw);
}
constexpr uint32_t handoff_abi(HandoffKind k) {
  return static_cast<uint32_t>(k);
}

// boot_params and kernel_entry are meaningful (boot.rst protocols).
constexpr bool is_linux(HandoffKind k) {
  return k == HandoffKind::kLinux64 || k == HandoffKind::kLinux32;
}
// The purgatory leaves long mode and turns paging off (generic16 goes
// on to real mode from there).
constexpr bool is_32bit(HandoffKind k) {
  return k == HandoffKind::kLinux32 || k == HandoffKind::kGeneric32 || k == HandoffKind::kGeneric16;
}

// The real-mode tail [start, end) of entry16/entry16_debug (the code after
// the drop to real mode and the data it reads) can run: real mode reaches
// it through one segment, start >> 4, so the segment must fit 16 bits
// and the whole tail must lie within 64 KiB of its base; and everything
// must lie below 1 MiB, where real mode addresses memory without A20
// (README, "The generic16 handoff").
constexpr bool real_mode_reachable(uint64_t start, uint64_t end) {
  constexpr uint64_t k1MiB = 1u << 20, k64KiB = 1u << 16;
  const uint64_t base = start & ~uint64_t{0xf};
  return start <= end && end <= k1MiB && (start >> 4) <= 0xffff && end - base <= k64KiB;
}

constexpr const char* handoff_name(HandoffKind k) {
  switch (k) {
    case HandoffKind::kGeneric64:
      return "generic64";
    case HandoffKind::kLinux64:
      return "linux64";
    case HandoffKind::kLinux32:
      return "linux32";
    case HandoffKind::kGeneric32:
      return "generic32";
    case HandoffKind::kGeneric16:
      return "generic16";
  }
  return "?";
}

}  // namespace charon
