// The four symbols clang may emit calls to in freestanding code (struct
// copies, zero-initialisation). Linked only into bare-metal images.
#include <charon/mem.h>

extern "C" {
void* memcpy(void* d, const void* s, size_t n) {
  return charon::mem_copy(d, s, n);
}
void* memmove(void* d, const void* s, size_t n) {
  return charon::mem_move(d, s, n);
}
void* memset(void* d, int c, size_t n) {
  return charon::mem_fill(d, c, n);
}
int memcmp(const void* a, const void* b, size_t n) {
  return charon::mem_compare(a, b, n);
}
}
