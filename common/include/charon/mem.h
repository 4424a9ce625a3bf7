// Memory primitives for freestanding code. The purgatory links
// common/libc_shim.cpp, which exports them as memcpy/memset/memcmp/memmove
// for the code the compiler generates; host builds use these names only,
// so they never clash with libc.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace charon {

void* mem_copy(void* dst, const void* src, size_t n);  // regions must not overlap
void* mem_move(void* dst, const void* src, size_t n);  // any overlap
void* mem_fill(void* dst, int value, size_t n);
int mem_compare(const void* a, const void* b, size_t n);

}  // namespace charon
