// x86 port I/O: the only place common/ touches the machine directly.
#pragma once
#include <stdint.h>

namespace charon::io {

inline void out8(uint16_t port, uint8_t v) {
  asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
inline uint8_t in8(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
inline void out16(uint16_t port, uint16_t v) {
  asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
inline void out32(uint16_t port, uint32_t v) {
  asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

}  // namespace charon::io
