// CPUID, and the few features charon decides on. Code that depends on a
// feature takes a CpuFeatures value, so host tests can pass a fake one.
#pragma once
#include <stdint.h>

namespace charon {

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};

inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid"
               : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
               : "a"(leaf), "c"(subleaf));
  return r;
}

struct CpuFeatures {
  bool sse41 = false;      // CPUID.1:ECX[19]
  bool ssse3 = false;      // CPUID.1:ECX[9]
  bool sha = false;        // CPUID.(7,0):EBX[29], the SHA extensions
  bool la57 = false;       // CPUID.(7,0):ECX[16], 5-level paging
  bool pdpe1gb = false;    // CPUID.80000001h:EDX[26], 1 GiB pages
  uint8_t phys_bits = 36;  // CPUID.80000008h:EAX[7:0]

  // [intel/vol2a]: CPUID, tables 3-8 and 3-17.
  static CpuFeatures detect() {
    CpuFeatures f;
    const uint32_t max_leaf = cpuid(0).eax;
    const CpuidResult l1 = cpuid(1);
    f.sse41 = (l1.ecx >> 19) & 1;
    f.ssse3 = (l1.ecx >> 9) & 1;
    if (max_leaf >= 7) {
      const CpuidResult l7 = cpuid(7, 0);
      f.sha = (l7.ebx >> 29) & 1;
      f.la57 = (l7.ecx >> 16) & 1;
    }
    const uint32_t max_ext = cpuid(0x80000000).eax;
    if (max_ext >= 0x80000001) f.pdpe1gb = (cpuid(0x80000001).edx >> 26) & 1;
    if (max_ext >= 0x80000008) f.phys_bits = static_cast<uint8_t>(cpuid(0x80000008).eax & 0xff);
    return f;
  }
};

}  // namespace charon
