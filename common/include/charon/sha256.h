// SHA-256 (FIPS 180-4), streaming, with two block functions: a scalar one
// that runs on any x86_64 with general-purpose registers only, and one for
// the SHA extensions. No heap, no libc, no static constructors: the same
// code runs in the purgatory and in the host unit tests.
#pragma once
#include <charon/cpuid.h>
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon {

enum class Sha256Impl : uint32_t { Scalar, ShaNi };

inline constexpr size_t kSha256BlockBytes = 64;
inline constexpr size_t kSha256DigestBytes = 32;

namespace sha256_detail {
// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes. Shared by both block functions; aligned so
// that the SHA-NI code can add four at a time straight from memory.
alignas(64) inline constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
}  // namespace sha256_detail

// Streaming state. Plain data: zero-initialisable and copyable, so a
// caller may keep one in constinit storage or on the stack.
struct Sha256 {
  uint32_t state[8];                  // H0..H7, FIPS 180-4 5.3.3
  uint64_t length;                    // bytes hashed so far
  uint8_t buffer[kSha256BlockBytes];  // a partial block, `length % 64` bytes
  Sha256Impl impl;
};

void sha256_init(Sha256& s, Sha256Impl impl);
void sha256_update(Sha256& s, const void* data, size_t len);
// Feeds the same `len` bytes to two streams, which may stand at different
// offsets within a block (the loader's combined digest and one region's):
// with SHA-NI in both, their whole blocks go through sha256_blocks_shani2
// in one pass; otherwise one stream after the other.
void sha256_update2(Sha256& a, Sha256& b, const void* data, size_t len);
// Pads, writes the big-endian digest, and leaves `s` to be re-initialised.
void sha256_final(Sha256& s, uint8_t out[kSha256DigestBytes]);

// Compress `nblocks` whole 64-byte blocks into `state`; `blocks` needs no
// alignment. sha256_blocks_shani is defined only in sha256_shani.cpp, the
// one unit built with SSE, and may be called only when sha256_choose()
// picked it.
void sha256_blocks_scalar(uint32_t state[8], const uint8_t* blocks, size_t nblocks);
void sha256_blocks_shani(uint32_t state[8], const uint8_t* blocks, size_t nblocks);
// The same for two independent streams at once, state_a over blocks_a and
// state_b over blocks_b, `nblocks` each: nearly twice the throughput of
// one, since SHA256RNDS2 waits on its own latency (sha256_update2).
void sha256_blocks_shani2(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                          const uint8_t* blocks_b, size_t nblocks);

// SHA-NI only if CPUID reports SHA, SSE4.1 and SSSE3 (the instructions the
// block function uses) and the caller has enabled SSE itself (CR0.EM=0,
// CR0.MP=1, CR4.OSFXSR=1); otherwise the scalar code.
Sha256Impl sha256_choose(const CpuFeatures& cpu, bool sse_enabled);

// Hash regions in order, as kexec-tools' purgatory does: zero-length
// entries contribute nothing. Each start is an identity-mapped physical
// address.
void sha256_regions(const charon_region* regions, size_t count, Sha256Impl impl,
                    uint8_t out[kSha256DigestBytes]);

}  // namespace charon
