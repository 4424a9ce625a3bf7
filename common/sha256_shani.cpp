// The SHA-256 block function for the SHA extensions ([intel/vol2c]:
// SHA256RNDS2, SHA256MSG1, SHA256MSG2; also Intel's "New Instructions
// Supporting the Secure Hash Algorithm on Intel Architecture Processors",
// 2013). The one unit built with -msse4.1 -msha; everything else in charon
// stays in general-purpose registers, so the purgatory touches SSE only
// after it has enabled it and sha256_choose() picked this function.
#include <charon/sha256.h>
#include <immintrin.h>

namespace charon {
namespace {

// SHA256RNDS2 keeps the working variables as two vectors, {A,B,E,F} and
// {C,D,G,H}, each with its first-named variable in the top lane.
struct Abef {
  __m128i abef, cdgh;
};

[[gnu::always_inline]] inline Abef state_to_abef(const uint32_t state[8]) {
  const __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  const __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);  // lanes (low first) B A D C
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);  // lanes H G F E
  return {_mm_alignr_epi8(cdab, efgh, 8),              // F E B A
          _mm_blend_epi16(efgh, cdab, 0xf0)};          // H G D C
}

[[gnu::always_inline]] inline void abef_to_state(Abef v, uint32_t state[8]) {
  const __m128i feba = _mm_shuffle_epi32(v.abef, 0x1b);  // A B E F
  const __m128i dchg = _mm_shuffle_epi32(v.cdgh, 0xb1);  // G H C D
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

// `Lanes` independent streams, each over its own blocks, advanced round
// group by round group together. SHA256RNDS2 is bound by its latency (each
// takes the previous one's result); a second stream's rounds fill the
// cycles in between, so two streams cost little more than one.
template <int Lanes>
[[gnu::always_inline]] inline void blocks(uint32_t* const state[Lanes], const uint8_t* p[Lanes],
                                          size_t nblocks) {
  // PSHUFB control that byte-swaps each 32-bit lane: message words are
  // big-endian (FIPS 180-4 3.1).
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  const auto* k = reinterpret_cast<const __m128i*>(sha256_detail::kK);
  Abef v[Lanes], saved[Lanes];
#pragma clang loop unroll(full)
  for (int l = 0; l < Lanes; ++l) v[l] = state_to_abef(state[l]);

  for (; nblocks; --nblocks) {
    // m[l][i % 4] holds W[4i..4i+3] for the group of four rounds i. Each
    // group runs two SHA256RNDS2 (two rounds each, W+K in the low 64 bits
    // of its third operand) and advances the schedule between them, in
    // the order of Intel's paper: the next group's words are finished
    // with SHA256MSG2 while the rounds of this one run, and SHA256MSG1
    // starts the words three groups ahead. FIPS 180-4 6.2.2 step 1:
    // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]; MSG1 adds
    // s0(W[t-15]) to W[t-16], the PALIGNR supplies W[t-7], and MSG2 adds
    // s1(W[t-2]).
    __m128i m[Lanes][4];
#pragma clang loop unroll(full)
    for (int l = 0; l < Lanes; ++l) saved[l] = v[l];
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; ++i) {
#pragma clang loop unroll(full)
      for (int l = 0; l < Lanes; ++l) {
        if (i < 4)
          m[l][i] = _mm_shuffle_epi8(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[l] + 16 * i)), bswap);
        __m128i wk = _mm_add_epi32(m[l][i % 4], _mm_load_si128(k + i));
        v[l].cdgh = _mm_sha256rnds2_epu32(v[l].cdgh, v[l].abef, wk);
        if (i >= 3 && i < 15) {
          __m128i& next = m[l][(i + 1) % 4];
          next = _mm_add_epi32(next, _mm_alignr_epi8(m[l][i % 4], m[l][(i + 3) % 4], 4));
          next = _mm_sha256msg2_epu32(next, m[l][i % 4]);
        }
        wk = _mm_shuffle_epi32(wk, 0x0e);  // the upper two W+K into the low half
        v[l].abef = _mm_sha256rnds2_epu32(v[l].abef, v[l].cdgh, wk);
        if (i >= 1 && i < 13)
          m[l][(i + 3) % 4] = _mm_sha256msg1_epu32(m[l][(i + 3) % 4], m[l][i % 4]);
      }
    }
#pragma clang loop unroll(full)
    for (int l = 0; l < Lanes; ++l) {
      v[l].abef = _mm_add_epi32(v[l].abef, saved[l].abef);
      v[l].cdgh = _mm_add_epi32(v[l].cdgh, saved[l].cdgh);
      p[l] += kSha256BlockBytes;
    }
  }
#pragma clang loop unroll(full)
  for (int l = 0; l < Lanes; ++l) abef_to_state(v[l], state[l]);
}

}  // namespace

void sha256_blocks_shani(uint32_t state[8], const uint8_t* p, size_t nblocks) {
  uint32_t* const states[1] = {state};
  const uint8_t* ps[1] = {p};
  blocks<1>(states, ps, nblocks);
}

void sha256_blocks_shani2(uint32_t state_a[8], const uint8_t* pa, uint32_t state_b[8],
                          const uint8_t* pb, size_t nblocks) {
  uint32_t* const states[2] = {state_a, state_b};
  const uint8_t* ps[2] = {pa, pb};
  blocks<2>(states, ps, nblocks);
}

}  // namespace charon
