#include "purgatory_bin.h"

#include <charon/sha256.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace charon::efi {
namespace {

std::vector<uint8_t> real_purgatory() {
  std::ifstream f(CHARON_PURGATORY_BIN, std::ios::binary);
  EXPECT_TRUE(f) << CHARON_PURGATORY_BIN;
  return {std::istreambuf_iterator<char>(f), {}};
}

TEST(PurgatoryBin, TheBuiltPurgatoryBinPassesTheChecks) {
  std::vector<uint8_t> bin = real_purgatory();
  const charon_bin_header* h = nullptr;
  charon_params* p = nullptr;
  ASSERT_EQ(check_purgatory_bin(bin.data(), bin.size(), h, p), PurgStatus::kOk);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(p), bin.data() + h->params);
  EXPECT_GE(h->mem_size, bin.size());
}

TEST(PurgatoryBin, EachDamageIsRefused) {
  const std::vector<uint8_t> good = real_purgatory();
  const charon_bin_header* h = nullptr;
  charon_params* p = nullptr;
  auto check = [&](std::vector<uint8_t> b) {
    return check_purgatory_bin(b.data(), b.size(), h, p);
  };
  EXPECT_EQ(check({good.begin(), good.begin() + 16}), PurgStatus::kTooShort);
  std::vector<uint8_t> b = good;
  b[0] ^= 1;
  EXPECT_EQ(check(b), PurgStatus::kBadMagic);
  b = good;
  b[4] ^= 1;
  EXPECT_EQ(check(b), PurgStatus::kBadVersion);
  b = good;
  b.pop_back();  // file_size no longer matches
  EXPECT_EQ(check(b), PurgStatus::kBadOffsets);
  b = good;
  uint32_t params_off;
  std::memcpy(&params_off, good.data() + offsetof(charon_bin_header, params), 4);
  b[params_off] ^= 1;  // the block's magic
  EXPECT_EQ(check(b), PurgStatus::kBadParams);
}

}  // namespace
}  // namespace charon::efi
