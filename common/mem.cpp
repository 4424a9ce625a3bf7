// String instructions are the fastest portable copy on every x86_64 that
// has ERMS and are never slow elsewhere. The caller guarantees DF=0 (the
// SysV ABI; the purgatory entry executes cld before any C++ runs).
#include <charon/mem.h>

namespace charon {

void* mem_copy(void* dst, const void* src, size_t n) {
  void* d = dst;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void* mem_move(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  auto* s = static_cast<const uint8_t*>(src);
  if (d <= s || d >= s + n) return mem_copy(dst, src, n);
  // Overlapping with dst above src: copy from the top down.
  while (n--) d[n] = s[n];
  return dst;
}

void* mem_fill(void* dst, int value, size_t n) {
  void* d = dst;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(value) : "memory");
  return dst;
}

int mem_compare(const void* a, const void* b, size_t n) {
  auto* x = static_cast<const uint8_t*>(a);
  auto* y = static_cast<const uint8_t*>(b);
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

}  // namespace charon
