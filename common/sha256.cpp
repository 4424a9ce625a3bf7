// SHA-256, FIPS 180-4 section 6.2: the streaming layer and the scalar
// block function. Built with -mgeneral-regs-only for baseline x86-64 (no
// BMI2, no SSE): it must run on any x86_64, and before SSE is enabled.
#include <charon/mem.h>
#include <charon/sha256.h>

namespace charon {
namespace {

using sha256_detail::kK;

// FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the
// square roots of the first 8 primes.
constexpr uint32_t kH0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

[[gnu::always_inline]] inline uint32_t rotr(uint32_t x, unsigned n) {
  return (x >> n) | (x << (32 - n));
}

// FIPS 180-4 3.1: words are big-endian. A fixed-size __builtin_memcpy is
// one unaligned load even under -fno-builtin (it never becomes a call),
// and the byte swap one bswap; movbe is not baseline x86-64.
[[gnu::always_inline]] inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

[[gnu::always_inline]] inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// FIPS 180-4 4.1.2. The round is bound by latency, not by issue width:
// e of one round feeds Sigma1 of the next. Three independent rotations
// and two XORs are three steps deep where the nested form
// ROTR^6(e ^ ROTR^5(e ^ ROTR^14(e))) is five, which measured about 10%
// faster on the bench despite the extra moves; the same holds for a.
[[gnu::always_inline]] inline uint32_t big_sigma0(uint32_t a) {
  return rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
}
[[gnu::always_inline]] inline uint32_t big_sigma1(uint32_t e) {
  return rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
}
// Off the critical path: here the nested form saves instructions.
[[gnu::always_inline]] inline uint32_t small_sigma0(uint32_t x) {
  return rotr(x ^ rotr(x, 11), 7) ^ (x >> 3);
}
[[gnu::always_inline]] inline uint32_t small_sigma1(uint32_t x) {
  return rotr(x ^ rotr(x, 2), 17) ^ (x >> 10);
}

// One round of FIPS 180-4 6.2.2 step 3, with the eight working variables
// renamed by the caller instead of shifted. Ch(e,f,g) = ((f^g)&e)^g, and
// Maj(a,b,c) = ((a^b)&(b^c))^b: this round's a^b is the next round's b^c,
// so `bc` carries it forward and Maj costs two operations.
[[gnu::always_inline]] inline void round(uint32_t a, uint32_t b, uint32_t& d, uint32_t e,
                                         uint32_t f, uint32_t g, uint32_t& h, uint32_t& bc,
                                         uint32_t kw) {
  const uint32_t t1 = h + big_sigma1(e) + (((f ^ g) & e) ^ g) + kw;
  const uint32_t ab = a ^ b;
  d += t1;
  h = t1 + big_sigma0(a) + ((ab & bc) ^ b);
  bc = ab;
}

// Message schedule, FIPS 180-4 6.2.2 step 1, kept as a rolling window of
// the last 16 words: W[t] replaces W[t-16] in place.
[[gnu::always_inline]] inline uint32_t schedule(uint32_t* w, unsigned t) {
  uint32_t& wt = w[t & 15];
  wt += small_sigma1(w[(t - 2) & 15]) + w[(t - 7) & 15] + small_sigma0(w[(t - 15) & 15]);
  return wt;
}

}  // namespace

void sha256_blocks_scalar(uint32_t state[8], const uint8_t* p, size_t nblocks) {
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (; nblocks; --nblocks, p += kSha256BlockBytes) {
    uint32_t w[16];
    uint32_t bc = b ^ c;
    // Rounds 0-15 take the message words; eight rounds per step bring the
    // variable names back to where they started.
#pragma clang loop unroll(full)
    for (unsigned t = 0; t < 16; t += 8) {
#pragma clang loop unroll(full)
      for (unsigned i = 0; i < 8; ++i) w[t + i] = load_be32(p + 4 * (t + i));
      round(a, b, d, e, f, g, h, bc, kK[t + 0] + w[t + 0]);
      round(h, a, c, d, e, f, g, bc, kK[t + 1] + w[t + 1]);
      round(g, h, b, c, d, e, f, bc, kK[t + 2] + w[t + 2]);
      round(f, g, a, b, c, d, e, bc, kK[t + 3] + w[t + 3]);
      round(e, f, h, a, b, c, d, bc, kK[t + 4] + w[t + 4]);
      round(d, e, g, h, a, b, c, bc, kK[t + 5] + w[t + 5]);
      round(c, d, f, g, h, a, b, bc, kK[t + 6] + w[t + 6]);
      round(b, c, e, f, g, h, a, bc, kK[t + 7] + w[t + 7]);
    }
    // Rounds 16-63 as three passes of sixteen: half the code of a full
    // unroll (the purgatory's size budget) for about 4% of the speed.
#pragma clang loop unroll_count(2)
    for (unsigned t = 16; t < 64; t += 8) {
      round(a, b, d, e, f, g, h, bc, kK[t + 0] + schedule(w, t + 0));
      round(h, a, c, d, e, f, g, bc, kK[t + 1] + schedule(w, t + 1));
      round(g, h, b, c, d, e, f, bc, kK[t + 2] + schedule(w, t + 2));
      round(f, g, a, b, c, d, e, bc, kK[t + 3] + schedule(w, t + 3));
      round(e, f, h, a, b, c, d, bc, kK[t + 4] + schedule(w, t + 4));
      round(d, e, g, h, a, b, c, bc, kK[t + 5] + schedule(w, t + 5));
      round(c, d, f, g, h, a, b, bc, kK[t + 6] + schedule(w, t + 6));
      round(b, c, e, f, g, h, a, bc, kK[t + 7] + schedule(w, t + 7));
    }
    a = state[0] += a;
    b = state[1] += b;
    c = state[2] += c;
    d = state[3] += d;
    e = state[4] += e;
    f = state[5] += f;
    g = state[6] += g;
    h = state[7] += h;
  }
}

void sha256_init(Sha256& s, Sha256Impl impl) {
  for (int i = 0; i < 8; ++i) s.state[i] = kH0[i];
  s.length = 0;
  s.impl = impl;
}

namespace {

void compress(Sha256& s, const uint8_t* blocks, size_t nblocks) {
  if (s.impl == Sha256Impl::ShaNi)
    sha256_blocks_shani(s.state, blocks, nblocks);
  else
    sha256_blocks_scalar(s.state, blocks, nblocks);
}

}  // namespace

void sha256_update(Sha256& s, const void* data, size_t len) {
  auto* p = static_cast<const uint8_t*>(data);
  size_t used = s.length % kSha256BlockBytes;
  s.length += len;
  if (used) {
    const size_t take = len < kSha256BlockBytes - used ? len : kSha256BlockBytes - used;
    mem_copy(s.buffer + used, p, take);
    p += take;
    len -= take;
    if (used + take < kSha256BlockBytes) return;
    compress(s, s.buffer, 1);
  }
  // Whole blocks straight from the caller's memory: no copy on the long path.
  if (const size_t n = len / kSha256BlockBytes) {
    compress(s, p, n);
    p += n * kSha256BlockBytes;
    len -= n * kSha256BlockBytes;
  }
  if (len) mem_copy(s.buffer, p, len);
}

void sha256_final(Sha256& s, uint8_t out[kSha256DigestBytes]) {
  // FIPS 180-4 5.1.1: append 0x80, zeros up to 56 mod 64, then the
  // message length in bits as a big-endian 64-bit number.
  const uint64_t bits = s.length * 8;
  size_t used = s.length % kSha256BlockBytes;
  s.buffer[used++] = 0x80;
  if (used > kSha256BlockBytes - 8) {
    mem_fill(s.buffer + used, 0, kSha256BlockBytes - used);
    compress(s, s.buffer, 1);
    used = 0;
  }
  mem_fill(s.buffer + used, 0, kSha256BlockBytes - 8 - used);
  store_be32(s.buffer + 56, static_cast<uint32_t>(bits >> 32));
  store_be32(s.buffer + 60, static_cast<uint32_t>(bits));
  compress(s, s.buffer, 1);
  for (int i = 0; i < 8; ++i) store_be32(out + 4 * i, s.state[i]);
}

void sha256_update2(Sha256& a, Sha256& b, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (a.impl != Sha256Impl::ShaNi || b.impl != Sha256Impl::ShaNi) {
    sha256_update(a, p, len);
    sha256_update(b, p, len);
    return;
  }
  // Each stream up to its own block boundary, then the whole blocks of
  // both together, each from its own offset in `data`, then the tails.
  const auto head = [len](const Sha256& s) {
    const size_t h = (kSha256BlockBytes - s.length % kSha256BlockBytes) % kSha256BlockBytes;
    return h < len ? h : len;
  };
  const size_t ha = head(a), hb = head(b);
  sha256_update(a, p, ha);
  sha256_update(b, p, hb);
  const size_t na = (len - ha) / kSha256BlockBytes, nb = (len - hb) / kSha256BlockBytes;
  const size_t n = na < nb ? na : nb;
  if (n) {
    sha256_blocks_shani2(a.state, p + ha, b.state, p + hb, n);
    a.length += n * kSha256BlockBytes;
    b.length += n * kSha256BlockBytes;
  }
  const size_t done_a = ha + n * kSha256BlockBytes, done_b = hb + n * kSha256BlockBytes;
  sha256_update(a, p + done_a, len - done_a);
  sha256_update(b, p + done_b, len - done_b);
}

Sha256Impl sha256_choose(const CpuFeatures& cpu, bool sse_enabled) {
  const bool usable = cpu.sha && cpu.sse41 && cpu.ssse3 && sse_enabled;
  return usable ? Sha256Impl::ShaNi : Sha256Impl::Scalar;
}

void sha256_regions(const charon_region* regions, size_t count, Sha256Impl impl,
                    uint8_t out[kSha256DigestBytes]) {
  Sha256 s;
  sha256_init(s, impl);
  for (size_t i = 0; i < count; ++i) {
    if (regions[i].len == 0) continue;
    // An identity map makes the physical address the pointer.
    const auto* p = reinterpret_cast<const void*>(static_cast<uintptr_t>(regions[i].start));
    sha256_update(s, p, regions[i].len);
  }
  sha256_final(s, out);
}

}  // namespace charon
