// The flat GDT layout every charon stub uses: the purgatory (gdt64 and
// gdt32), the relocation trampoline and the protocol harness. nasm gets
// these numbers from the generated x86.inc, never by hand.
#pragma once
#include <stdint.h>

namespace charon::x86 {

// boot.rst ("32-bit boot protocol", "64-bit boot protocol"): the kernel is
// entered with __BOOT_CS(0x10) as flat code and __BOOT_DS(0x18) as flat
// read/write data.
inline constexpr uint16_t kBootCs = 0x10;
inline constexpr uint16_t kBootDs = 0x18;

// Selectors of charon's own GDT. 0x10 and 0x18 are boot.rst's, so that a
// 64-bit handoff needs no GDT of its own; 0x08 is the 32-bit code segment
// the mode switches run on.
inline constexpr uint16_t kSelCode32 = 0x08;
inline constexpr uint16_t kSelCode64 = kBootCs;
inline constexpr uint16_t kSelData = kBootDs;

// [intel/vol3]: 3.4.5, figure 3-8. Base 0, limit 0xfffff with G=1 (4 GiB),
// P=1, DPL=0, S=1. Types: 0xa execute/read code, 0x2 read/write data.
inline constexpr uint64_t kDescCode32 = 0x00cf'9a00'0000'ffff;  // D=1: 32-bit code
inline constexpr uint64_t kDescCode64 = 0x00af'9a00'0000'ffff;  // L=1, D=0: 64-bit code
inline constexpr uint64_t kDescData = 0x00cf'9200'0000'ffff;    // flat read/write data
// The way down to real mode ([intel/vol3]: 10.9.2): 16-bit segments (D=0,
// G=0) with limit 0xffff, the limits real mode keeps using. Base 0 here;
// entry16.asm puts its own base into the code descriptor at run time.
inline constexpr uint64_t kDescCode16 = 0x0000'9a00'0000'ffff;  // 16-bit execute/read
inline constexpr uint64_t kDescData16 = 0x0000'9200'0000'ffff;  // 16-bit read/write, 64 KiB

}  // namespace charon::x86
