// Shared set-up for the tests that execute the control block: the state
// an old Linux kernel is in when it calls into the block.
#pragma once

#include <cstdint>

#include "ia64/control_abi.h"
#include "interp/control_image.h"
#include "interp/machine.h"

namespace charon::ia64 {

inline constexpr uint64_t kRegion7 = uint64_t{7} << 61;

// Kernel mode, virtual everything, interrupts and collection on, bank 1
// ([ia64/vol2] Table 3-2): what relocate_new_kernel must get out of.
inline constexpr uint64_t kKernelPsr =
    (uint64_t{1} << IA64_PSR_IC_BIT) | (uint64_t{1} << IA64_PSR_I_BIT) |
    (uint64_t{1} << IA64_PSR_DT_BIT) | (uint64_t{1} << IA64_PSR_RT_BIT) |
    (uint64_t{1} << IA64_PSR_IT_BIT) | (uint64_t{1} << IA64_PSR_BN_BIT);

inline uint64_t psr_bit(unsigned n) {
  return uint64_t{1} << n;
}

// Copies the real .text to code_phys and prepares a call to the routine at
// offset: ip in region 7, the caller's eight outputs as the frame, the RSE
// eager with older frames still dirty, as after a br.call in Linux.
inline void enter_control(Memory& mem, Machine& m, uint64_t code_phys, uint64_t offset) {
  const auto code = control_code();
  mem.write(code_phys, code.data(), code.size());
  m.set_psr(kKernelPsr);
  m.set_ip(kRegion7 | (code_phys + offset));
  m.set_frame(8, 0);
  m.set_ar(ar::kRsc, 3);  // eager
  m.set_ar(ar::kBspstore, kRegion7 | 0x7f0000);
  m.set_ar(ar::kBsp, kRegion7 | 0x7f0240);  // 72 slots of caller frames not yet stored
  m.set_ar(ar::kRnat, 0x5a5a0000a5a5ull);
  m.set_ar(ar::kPfs, 0x8000000000000c03ull);
  m.set_ar(ar::kLc, 0x77);
  m.set_gr(12, kRegion7 | 0x7e0000);  // the old kernel stack
}

}  // namespace charon::ia64
