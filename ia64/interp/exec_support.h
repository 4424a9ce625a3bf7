// Shared set-up for the tests that execute the control block: the state
// an old kernel (Linux, or Xen-ia64) is in when it calls into the block,
// stale control registers included.
#pragma once

#include <cstdint>

#include "ia64/control_abi.h"
#include "interp/control_image.h"
#include "interp/machine.h"

namespace charon::ia64 {

// Where physical memory is mapped: Linux's region 7, Xen-ia64's 0xf000...
inline constexpr uint64_t kRegion7 = uint64_t{7} << 61;
inline constexpr uint64_t kXenDirectMap = uint64_t{0xf} << 60;

// Kernel mode, virtual everything, interrupts and collection on, bank 1
// ([ia64/vol2] Table 3-2): what relocate_new_kernel must get out of.
inline constexpr uint64_t kKernelPsr =
    (uint64_t{1} << IA64_PSR_IC_BIT) | (uint64_t{1} << IA64_PSR_I_BIT) |
    (uint64_t{1} << IA64_PSR_DT_BIT) | (uint64_t{1} << IA64_PSR_RT_BIT) |
    (uint64_t{1} << IA64_PSR_IT_BIT) | (uint64_t{1} << IA64_PSR_BN_BIT);

// Physical mode with interrupts and collection on: Xen-ia64 after its own
// switch, before it enters the control page.
inline constexpr uint64_t kPhysicalCallerPsr = (uint64_t{1} << IA64_PSR_IC_BIT) |
                                               (uint64_t{1} << IA64_PSR_I_BIT) |
                                               (uint64_t{1} << IA64_PSR_BN_BIT);

inline uint64_t psr_bit(unsigned n) {
  return uint64_t{1} << n;
}

// Stale state the old kernel leaves: an interrupted frame in cr.ifs (valid),
// TPR masking every class, a vector in service, and a scratch register
// that is not zero.
inline constexpr uint64_t kStaleIfs = (uint64_t{1} << 63) | (10u << 7) | 20u;
inline constexpr uint64_t kStaleTpr = 0xf0;  // mic = 15
inline constexpr uint8_t kStaleInService = 0xfe;

// Copies the real .text to code_phys and prepares a call to the routine at
// offset: ip on the direct map at map_base (0 for a caller in physical
// mode), the caller's eight outputs as the frame, the RSE eager with older
// frames still dirty, as after a br.call in Linux.
inline void enter_control(Memory& mem, Machine& m, uint64_t code_phys, uint64_t offset,
                          uint64_t map_base = kRegion7) {
  const auto code = control_code();
  mem.write(code_phys, code.data(), code.size());
  m.set_direct_map(map_base == 0 ? kRegion7 : map_base);
  m.set_psr(map_base == 0 ? kPhysicalCallerPsr : kKernelPsr);
  m.set_ip(map_base | (code_phys + offset));
  m.set_frame(8, 0);
  m.set_ar(ar::kRsc, 3);  // eager
  m.set_ar(ar::kBspstore, map_base | 0x7f0000);
  m.set_ar(ar::kBsp, map_base | 0x7f0240);  // 72 slots of caller frames not yet stored
  m.set_ar(ar::kRnat, 0x5a5a0000a5a5ull);
  m.set_ar(ar::kPfs, 0x8000000000000c03ull);
  m.set_ar(ar::kLc, 0x77);
  m.set_gr(12, map_base | 0x7e0000);  // the old kernel stack
  m.set_gr(16, 0x5555aaaa5555aaaaull);
  m.set_cr(cr::kIfs, kStaleIfs);
  m.set_cr(cr::kTpr, kStaleTpr);
  m.interrupts().put_in_service(kStaleInService);
}

}  // namespace charon::ia64
