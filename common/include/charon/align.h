// The one page size and the one set of alignment helpers. Every target
// (purgatory, charon.efi, the trampoline's callers, the hosted loader and
// the tests) uses these; only the protocol probe keeps its own arithmetic,
// so that it stays an independent oracle.
#pragma once
#include <stdint.h>

namespace charon {

// x86's base page ([intel/vol3]: 4.5) and EFI's page ([uefi/2.10]: 7.2).
inline constexpr uint64_t kPageSize = 4096;

inline constexpr uint64_t k1MiB = uint64_t{1} << 20;
inline constexpr uint64_t k2MiB = uint64_t{1} << 21;
inline constexpr uint64_t k1GiB = uint64_t{1} << 30;
inline constexpr uint64_t k2GiB = uint64_t{1} << 31;
inline constexpr uint64_t k4GiB = uint64_t{1} << 32;

constexpr bool is_pow2(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

// `a` must be a power of two. align_up wraps for v > 2^64 - a: callers
// that take untrusted values check `v <= UINT64_MAX - (a - 1)` first.
constexpr uint64_t align_down(uint64_t v, uint64_t a) {
  return v & ~(a - 1);
}
constexpr uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}
constexpr bool is_aligned(uint64_t v, uint64_t a) {
  return (v & (a - 1)) == 0;
}

}  // namespace charon
