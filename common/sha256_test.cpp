// SHA-256: FIPS 180-4 example vectors, and both block functions checked
// against OpenSSL (a host test dependency only) over every length and
// alignment that reaches a different path through the buffering code.
#include <charon/sha256.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#include <random>
#include <string>
#include <vector>

namespace charon {

const char* name(Sha256Impl impl) {
  return impl == Sha256Impl::ShaNi ? "ShaNi" : "Scalar";
}
// GoogleTest finds this by argument lookup when it prints a parameter.
void PrintTo(Sha256Impl impl, std::ostream* os) {
  *os << name(impl);
}

namespace {

using Digest = std::vector<uint8_t>;

Digest hex(const char* s) {
  Digest d;
  for (; s[0] && s[1]; s += 2)
    d.push_back(static_cast<uint8_t>(std::stoi(std::string(s, 2), nullptr, 16)));
  return d;
}

Digest openssl(const void* p, size_t n) {
  Digest d(32);
  SHA256(static_cast<const uint8_t*>(p), n, d.data());
  return d;
}

Digest charon_oneshot(Sha256Impl impl, const void* p, size_t n) {
  Sha256 s;
  sha256_init(s, impl);
  sha256_update(s, p, n);
  Digest d(32);
  sha256_final(s, d.data());
  return d;
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// What this machine can run; the SHA-NI cases skip, saying so, only when
// CPUID lacks the SHA extensions (a Linux host has SSE enabled).
bool cpu_has_shani() {
  return sha256_choose(CpuFeatures::detect(), true) == Sha256Impl::ShaNi;
}

class Sha256Each : public ::testing::TestWithParam<Sha256Impl> {
 protected:
  void SetUp() override {
    if (GetParam() == Sha256Impl::ShaNi && !cpu_has_shani())
      GTEST_SKIP() << "this CPU has no SHA-NI (CPUID.(7,0):EBX[29] or SSE4.1/SSSE3 clear)";
  }
  Digest hash(const void* p, size_t n) { return charon_oneshot(GetParam(), p, n); }
};

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
TEST_P(Sha256Each, Fips180ExampleVectorsGiveThePublishedDigests) {
  const std::string msg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string msg896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
      "opqrsmnopqrstnopqrstu";
  const std::string million(1000000, 'a');
  EXPECT_EQ(hash("abc", 3),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(hash("", 0), hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_EQ(hash(msg448.data(), msg448.size()),
            hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  EXPECT_EQ(hash(msg896.data(), msg896.size()),
            hex("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
  EXPECT_EQ(hash(million.data(), million.size()),
            hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

// The block function alone, called directly: one padded block of "abc"
// from H(0) leaves H(1), which is the digest (FIPS 180-4 example B.1).
// For the SHA-NI case this proves the SHA instructions themselves ran.
TEST_P(Sha256Each, BlockFunctionTurnsThePaddedAbcBlockIntoItsDigest) {
  uint8_t block[64] = {'a', 'b', 'c', 0x80};
  block[63] = 24;  // message length in bits
  uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  if (GetParam() == Sha256Impl::ShaNi)
    sha256_blocks_shani(state, block, 1);
  else
    sha256_blocks_scalar(state, block, 1);
  const uint32_t want[8] = {0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223,
                            0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(state[i], want[i]) << "H" << i;
}

// Lengths 0..1100 cross every padding case (55/56/63/64 mod 64) many
// times; alignments 0..15 cover every offset an unaligned load can see.
TEST_P(Sha256Each, EveryLengthUpTo1100AtEveryAlignmentMatchesOpenSsl) {
  std::mt19937_64 rng(1100);
  const std::vector<uint8_t> data = random_bytes(rng, 1100);
  std::vector<uint8_t> buf(1100 + 16);
  for (size_t align = 0; align < 16; ++align) {
    memcpy(buf.data() + align, data.data(), data.size());
    for (size_t len = 0; len <= 1100; ++len) {
      ASSERT_EQ(hash(buf.data() + align, len), openssl(data.data(), len))
          << "length " << len << ", alignment " << align;
    }
  }
}

TEST_P(Sha256Each, UpdatesSplitAtRandomPointsEqualOneShot) {
  std::mt19937_64 rng(20240501);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = rng() % 4000;
    const std::vector<uint8_t> msg = random_bytes(rng, n);
    Sha256 s;
    sha256_init(s, GetParam());
    size_t done = 0;
    while (done < n) {
      // Zero-length pieces included: they must change nothing.
      const size_t piece = std::min<size_t>(n - done, rng() % 150);
      sha256_update(s, msg.data() + done, piece);
      done += piece;
    }
    Digest d(32);
    sha256_final(s, d.data());
    ASSERT_EQ(d, hash(msg.data(), n)) << "trial " << trial << ", length " << n;
    ASSERT_EQ(d, openssl(msg.data(), n)) << "trial " << trial << ", length " << n;
  }
}

TEST_P(Sha256Each, RandomDataOfRandomLengthMatchesOpenSsl) {
  std::mt19937_64 rng(180);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = rng() % 70000;
    const std::vector<uint8_t> msg = random_bytes(rng, n);
    ASSERT_EQ(hash(msg.data(), n), openssl(msg.data(), n)) << "trial " << trial << ", length " << n;
  }
}

// kexec-tools' rule: regions are hashed in order as one message, and a
// zero-length region contributes nothing, wherever its start points.
TEST_P(Sha256Each, RegionsHashLikeTheirConcatenationAndSkipZeroLengthOnes) {
  std::mt19937_64 rng(16);
  const std::vector<uint8_t> r0 = random_bytes(rng, 1000), r1 = random_bytes(rng, 63),
                             r2 = random_bytes(rng, 4096 + 7), r3 = random_bytes(rng, 1);
  auto region = [](const std::vector<uint8_t>& v) {
    return charon_region{reinterpret_cast<uintptr_t>(v.data()), v.size()};
  };
  // Zero-length entries point at nothing mapped: reading one would fault.
  const charon_region regions[] = {{0, 0},     region(r0), {1, 0},     region(r1),
                                   region(r2), {0, 0},     region(r3), {~0ull, 0}};
  std::vector<uint8_t> all;
  for (const auto* v : {&r0, &r1, &r2, &r3}) all.insert(all.end(), v->begin(), v->end());
  Digest d(32);
  sha256_regions(regions, sizeof regions / sizeof regions[0], GetParam(), d.data());
  EXPECT_EQ(d, openssl(all.data(), all.size()));

  sha256_regions(regions, 0, GetParam(), d.data());
  EXPECT_EQ(d, openssl("", 0)) << "no regions is the empty message";
}

// Two streams fed the same bytes, each starting at its own offset within
// a block (the loader's combined digest runs ahead of a region's), come
// out as each stream's own message: the two-lane block function keeps the
// lanes apart and each lane at its own phase.
TEST_P(Sha256Each, TwoStreamsAtDifferentPhasesEachHashTheirOwnMessage) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t pre_a = rng() % 200, pre_b = rng() % 200;
    const size_t n = trial < 200 ? rng() % 700 : rng() % 20000;
    const std::vector<uint8_t> a_head = random_bytes(rng, pre_a), b_head = random_bytes(rng, pre_b);
    const std::vector<uint8_t> shared = random_bytes(rng, n);
    Sha256 a, b;
    sha256_init(a, GetParam());
    sha256_init(b, GetParam());
    sha256_update(a, a_head.data(), pre_a);
    sha256_update(b, b_head.data(), pre_b);
    // In pieces, so that both phases move between calls as well.
    for (size_t done = 0; done < n;) {
      const size_t piece = std::min<size_t>(n - done, 1 + rng() % 3000);
      sha256_update2(a, b, shared.data() + done, piece);
      done += piece;
    }
    std::vector<uint8_t> ma = a_head, mb = b_head;
    ma.insert(ma.end(), shared.begin(), shared.end());
    mb.insert(mb.end(), shared.begin(), shared.end());
    Digest da(32), db(32);
    sha256_final(a, da.data());
    sha256_final(b, db.data());
    ASSERT_EQ(da, openssl(ma.data(), ma.size())) << "trial " << trial << ", stream a";
    ASSERT_EQ(db, openssl(mb.data(), mb.size())) << "trial " << trial << ", stream b";
  }
}

INSTANTIATE_TEST_SUITE_P(Impl, Sha256Each, ::testing::Values(Sha256Impl::Scalar, Sha256Impl::ShaNi),
                         [](const ::testing::TestParamInfo<Sha256Impl>& info) {
                           return std::string(name(info.param));
                         });

// 1 GiB in uneven chunks, so the bit length needs more than 32 bits and
// the partial-block buffer is used at every chunk boundary. SHA-NI keeps
// this to a few seconds under ASan; without it the test runs the scalar
// code, which is slower but checks the same thing.
TEST(Sha256, OneGibStreamMatchesOpenSslOverTheSameChunks) {
  const Sha256Impl impl = cpu_has_shani() ? Sha256Impl::ShaNi : Sha256Impl::Scalar;
  RecordProperty("impl", name(impl));
  std::mt19937_64 rng(1u << 30);
  std::vector<uint8_t> chunk = random_bytes(rng, (1u << 20) + 4093);
  Sha256 s;
  sha256_init(s, impl);
  EVP_MD_CTX* ref = EVP_MD_CTX_new();
  ASSERT_TRUE(ref && EVP_DigestInit_ex(ref, EVP_sha256(), nullptr));
  const uint64_t total = uint64_t{1} << 30;
  uint64_t done = 0;
  for (uint64_t i = 0; done < total; ++i) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(total - done, chunk.size() - i % 61));
    memcpy(chunk.data(), &i, sizeof i);  // no two chunks alike
    sha256_update(s, chunk.data() + i % 61, n);
    ASSERT_TRUE(EVP_DigestUpdate(ref, chunk.data() + i % 61, n));
    done += n;
  }
  ASSERT_EQ(s.length, total);
  Digest got(32), want(32);
  sha256_final(s, got.data());
  unsigned want_len = 0;
  ASSERT_TRUE(EVP_DigestFinal_ex(ref, want.data(), &want_len));
  EVP_MD_CTX_free(ref);
  EXPECT_EQ(got, want);
}

TEST(Sha256, ChoosesShaNiOnlyWithShaSse41Ssse3AndSseEnabled) {
  for (unsigned bits = 0; bits < 16; ++bits) {
    CpuFeatures cpu;
    cpu.sha = bits & 1;
    cpu.sse41 = bits & 2;
    cpu.ssse3 = bits & 4;
    const bool sse_enabled = bits & 8;
    // Features that have nothing to do with SHA must not matter.
    cpu.la57 = bits & 1;
    cpu.pdpe1gb = bits & 2;
    const Sha256Impl want = bits == 15 ? Sha256Impl::ShaNi : Sha256Impl::Scalar;
    EXPECT_EQ(sha256_choose(cpu, sse_enabled), want)
        << "sha=" << cpu.sha << " sse4.1=" << cpu.sse41 << " ssse3=" << cpu.ssse3
        << " sse_enabled=" << sse_enabled;
  }
}

}  // namespace
}  // namespace charon
