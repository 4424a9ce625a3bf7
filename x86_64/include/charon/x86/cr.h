// Typed CR0, CR4 and IA32_EFER. The value types are plain data and can be
// tested on the host; the accessors at the bottom are the only part that
// touches the machine, and only the purgatory calls them (CPL 0).
// x86_64/paging/gen_x86.cpp prints every named bit for nasm (x86.inc): a
// bit added here goes into its list too.
#pragma once
#include <stdint.h>

namespace charon::x86 {

// Shared by the three register types: raw value, one bit per accessor.
template <class Self>
class RegisterValue {
 public:
  constexpr RegisterValue() = default;
  constexpr explicit RegisterValue(uint64_t raw) : raw_(raw) {}
  constexpr uint64_t raw() const { return raw_; }
  friend constexpr bool operator==(RegisterValue, RegisterValue) = default;

 protected:
  constexpr bool bit(unsigned n) const { return (raw_ >> n) & 1; }
  constexpr Self& set(unsigned n, bool v) {
    raw_ = (raw_ & ~(uint64_t{1} << n)) | (uint64_t{v} << n);
    return static_cast<Self&>(*this);
  }

 private:
  uint64_t raw_ = 0;
};

#define CHARON_REG_BIT(name, n)        \
  constexpr bool name() const {        \
    return bit(n);                     \
  }                                    \
  constexpr auto& set_##name(bool v) { \
    return set(n, v);                  \
  }

// [intel/vol3]: 2.5, figure 2-7.
class Cr0 : public RegisterValue<Cr0> {
 public:
  using RegisterValue::RegisterValue;
  CHARON_REG_BIT(pe, 0)   // protection enable
  CHARON_REG_BIT(mp, 1)   // monitor coprocessor
  CHARON_REG_BIT(em, 2)   // x87 emulation; must be 0 for SSE
  CHARON_REG_BIT(ts, 3)   // task switched: next x87/SSE use faults (#NM)
  CHARON_REG_BIT(et, 4)   // extension type, hardwired to 1
  CHARON_REG_BIT(ne, 5)   // native x87 error reporting
  CHARON_REG_BIT(wp, 16)  // write protect applies to supervisor writes
  CHARON_REG_BIT(am, 18)  // alignment mask, with EFLAGS.AC at CPL 3
  CHARON_REG_BIT(nw, 29)  // not write-through
  CHARON_REG_BIT(cd, 30)  // cache disable
  CHARON_REG_BIT(pg, 31)  // paging
};

// [intel/vol3]: 2.5, figure 2-7. Setting a bit the CPU lacks faults
// (#GP), so callers check CPUID first.
class Cr4 : public RegisterValue<Cr4> {
 public:
  using RegisterValue::RegisterValue;
  CHARON_REG_BIT(vme, 0)          // virtual-8086 mode extensions
  CHARON_REG_BIT(pvi, 1)          // protected-mode virtual interrupts
  CHARON_REG_BIT(tsd, 2)          // RDTSC restricted to CPL 0
  CHARON_REG_BIT(de, 3)           // debugging extensions
  CHARON_REG_BIT(pse, 4)          // 4 MiB pages in 32-bit paging
  CHARON_REG_BIT(pae, 5)          // PAE; required for long mode
  CHARON_REG_BIT(mce, 6)          // machine-check exceptions
  CHARON_REG_BIT(pge, 7)          // global pages
  CHARON_REG_BIT(pce, 8)          // RDPMC at any CPL
  CHARON_REG_BIT(osfxsr, 9)       // FXSAVE/FXRSTOR and SSE enabled
  CHARON_REG_BIT(osxmmexcpt, 10)  // unmasked SIMD FP exceptions raise #XM
  CHARON_REG_BIT(umip, 11)        // SGDT, SIDT, ... restricted to CPL 0
  CHARON_REG_BIT(la57, 12)        // 5-level paging; changes only with paging off
  CHARON_REG_BIT(fsgsbase, 16)    // RDFSBASE and friends
  CHARON_REG_BIT(pcide, 17)       // PCIDs; CR3[11:0] is then a PCID
  CHARON_REG_BIT(osxsave, 18)     // XSAVE and XCR0
  CHARON_REG_BIT(smep, 20)        // supervisor-mode execution prevention
  CHARON_REG_BIT(smap, 21)        // supervisor-mode access prevention
  CHARON_REG_BIT(pke, 22)         // protection keys for user pages
  CHARON_REG_BIT(cet, 23)         // control-flow enforcement
};

// IA32_EFER: [intel/vol3]: 2.2.1, table 2-1 ("IA32_EFER MSR information");
// MSR index from [intel/vol4]: table 2-2.
inline constexpr uint32_t kMsrEfer = 0xC000'0080;

class Efer : public RegisterValue<Efer> {
 public:
  using RegisterValue::RegisterValue;
  CHARON_REG_BIT(sce, 0)   // SYSCALL/SYSRET
  CHARON_REG_BIT(lme, 8)   // long mode enable
  CHARON_REG_BIT(lma, 10)  // long mode active, read-only: set by CR0.PG with LME
  CHARON_REG_BIT(nxe, 11)  // the XD bit in page-table entries is honoured
};

#undef CHARON_REG_BIT

// ---------------------------------------------------------------- accessors
// MOV to/from CRn and RDMSR/WRMSR are CPL-0 instructions. Writes carry a
// memory clobber: they can change how memory is mapped or cached, so the
// compiler must not move loads and stores across them.

inline Cr0 read_cr0() {
  uint64_t v;
  asm volatile("mov %%cr0, %0" : "=r"(v));
  return Cr0(v);
}
inline void write_cr0(Cr0 v) {
  asm volatile("mov %0, %%cr0" : : "r"(v.raw()) : "memory");
}

inline Cr4 read_cr4() {
  uint64_t v;
  asm volatile("mov %%cr4, %0" : "=r"(v));
  return Cr4(v);
}
inline void write_cr4(Cr4 v) {
  asm volatile("mov %0, %%cr4" : : "r"(v.raw()) : "memory");
}

// CR3 stays a raw physical address with flag bits: charon loads a root
// table address with PCD=PWT=0. [intel/vol3]: 4.5, table 4-12.
inline uint64_t read_cr3() {
  uint64_t v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
inline void write_cr3(uint64_t v) {
  asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr"
               :
               : "c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32))
               : "memory");
}

inline Efer read_efer() {
  return Efer(rdmsr(kMsrEfer));
}
inline void write_efer(Efer v) {
  wrmsr(kMsrEfer, v.raw());
}

}  // namespace charon::x86
