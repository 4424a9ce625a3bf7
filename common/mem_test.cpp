// Memory primitives: the purgatory's memcpy/memmove/memset/memcmp.
#include <charon/mem.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace charon {
namespace {

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(Mem, CopyCopiesExactlyNBytesAtEveryAlignmentAndReturnsDst) {
  const std::vector<uint8_t> src = pattern(300, 1);
  for (size_t sa = 0; sa < 8; ++sa)
    for (size_t da = 0; da < 8; ++da)
      for (size_t n : {0, 1, 7, 8, 15, 64, 255, 291}) {
        std::vector<uint8_t> dst(300 + 16, 0xee);
        EXPECT_EQ(mem_copy(dst.data() + da, src.data() + sa, n), dst.data() + da);
        for (size_t i = 0; i < dst.size(); ++i) {
          const bool inside = i >= da && i < da + n;
          ASSERT_EQ(dst[i], inside ? src[sa + i - da] : 0xee)
              << "byte " << i << " n=" << n << " src+" << sa << " dst+" << da;
        }
      }
}

// Reference for an overlapping move: go through a separate copy.
std::vector<uint8_t> moved(std::vector<uint8_t> buf, size_t dst, size_t src, size_t n) {
  const std::vector<uint8_t> tmp(buf.begin() + src, buf.begin() + src + n);
  std::copy(tmp.begin(), tmp.end(), buf.begin() + dst);
  return buf;
}

TEST(Mem, MoveHandlesOverlapWithDstBelowSrc) {
  for (size_t n : {1, 2, 16, 100, 1000})
    for (size_t shift : {1, 3, 8, 63}) {
      std::vector<uint8_t> buf = pattern(1100, static_cast<uint32_t>(n + shift));
      const std::vector<uint8_t> want = moved(buf, 10, 10 + shift, n);
      EXPECT_EQ(mem_move(buf.data() + 10, buf.data() + 10 + shift, n), buf.data() + 10);
      ASSERT_EQ(buf, want) << "n=" << n << " dst=src-" << shift;
    }
}

TEST(Mem, MoveHandlesOverlapWithDstAboveSrc) {
  for (size_t n : {1, 2, 16, 100, 1000})
    for (size_t shift : {1, 3, 8, 63}) {
      std::vector<uint8_t> buf = pattern(1100, static_cast<uint32_t>(n * shift));
      const std::vector<uint8_t> want = moved(buf, 10 + shift, 10, n);
      EXPECT_EQ(mem_move(buf.data() + 10 + shift, buf.data() + 10, n), buf.data() + 10 + shift);
      ASSERT_EQ(buf, want) << "n=" << n << " dst=src+" << shift;
    }
}

TEST(Mem, MoveOfDisjointOrIdenticalRangesIsACopy) {
  std::vector<uint8_t> buf = pattern(600, 9);
  std::vector<uint8_t> want = moved(buf, 400, 0, 150);
  mem_move(buf.data() + 400, buf.data(), 150);
  EXPECT_EQ(buf, want);
  want = buf;
  mem_move(buf.data() + 5, buf.data() + 5, 100);
  EXPECT_EQ(buf, want);
  mem_move(buf.data(), buf.data() + 1, 0);
  EXPECT_EQ(buf, want);
}

TEST(Mem, FillWritesTheLowByteOfValueToExactlyNBytes) {
  for (size_t n : {0, 1, 5, 64, 333}) {
    std::vector<uint8_t> buf(400, 0x11);
    EXPECT_EQ(mem_fill(buf.data() + 3, 0x1ab, n), buf.data() + 3);
    for (size_t i = 0; i < buf.size(); ++i)
      ASSERT_EQ(buf[i], i >= 3 && i < 3 + n ? 0xab : 0x11) << "byte " << i << " n=" << n;
  }
}

TEST(Mem, CompareOrdersByTheFirstDifferingByteAsUnsigned) {
  const uint8_t a[] = {1, 2, 3, 0x7f, 9};
  const uint8_t b[] = {1, 2, 3, 0x80, 0};
  EXPECT_EQ(mem_compare(a, a, sizeof a), 0);
  EXPECT_EQ(mem_compare(a, b, 3), 0);
  EXPECT_LT(mem_compare(a, b, 4), 0) << "0x7f sorts below 0x80";
  EXPECT_GT(mem_compare(b, a, 4), 0);
  EXPECT_GT(mem_compare(b, a, 5), 0) << "the first difference decides, not the last";
  EXPECT_EQ(mem_compare(a, b, 0), 0);
}

}  // namespace
}  // namespace charon
