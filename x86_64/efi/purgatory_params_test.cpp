#include "purgatory_params.h"

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

TEST(PurgatoryParams, DigestsMatchWhatThePurgatoryComputesAtTheDestinations) {
  // Sources here, "destinations" elsewhere: the purgatory hashes what the
  // trampoline copied there, so hash the copies as it would.
  std::vector<uint8_t> a(100000), b(4096 + 77), c(5);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i ^ 0x5a);
  std::vector<uint8_t> a2 = a, b2 = b, c2 = c;
  const DigestRegion regions[] = {{a.data(), reinterpret_cast<uint64_t>(a2.data()), a.size()},
                                  {b.data(), reinterpret_cast<uint64_t>(b2.data()), b.size()},
                                  {c.data(), reinterpret_cast<uint64_t>(c2.data()), 0}};
  const charon_region map = {0x1000000, 0x3000000};
  const HandoffInput in{CHARON_HANDOFF_LINUX64,
                        0x1000200,
                        0x3fe7f000,
                        1ull << 30,
                        0x3fe00000,
                        0x9000,
                        &map,
                        1,
                        true,
                        false,
                        CHARON_F_SCALAR_ONLY};
  charon_params p{};
  p.magic = CHARON_PARAMS_MAGIC;
  p.version = CHARON_PARAMS_VERSION;
  p.size = sizeof p;
  p.backup_dst = 0x1234;  // stale values from the image are cleared
  ASSERT_EQ(fill_params(in, regions, 3, p), PurgStatus::kOk);

  uint8_t want[32];
  sha256_regions(p.regions, CHARON_MAX_REGIONS, Sha256Impl::Scalar, want);
  EXPECT_EQ(std::memcmp(p.digest, want, 32), 0);
  for (int i = 0; i < 2; ++i) {
    sha256_regions(&p.regions[i], 1, Sha256Impl::Scalar, want);
    EXPECT_EQ(std::memcmp(p.region_digests[i], want, 32), 0) << i;
  }
  EXPECT_EQ(p.magic, CHARON_PARAMS_MAGIC);
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_LINUX64);
  EXPECT_EQ(p.flags, CHARON_F_SCALAR_ONLY);
  EXPECT_EQ(p.kernel_entry, 0x1000200u);
  EXPECT_EQ(p.boot_params, 0x3fe7f000u);
  EXPECT_EQ(p.regs64.rsi, 0x3fe7f000u);
  EXPECT_EQ(p.regs32.esi, 0x3fe7f000u);
  EXPECT_EQ(p.idmap_limit, 1ull << 30);
  EXPECT_EQ(p.scratch_base, 0x3fe00000u);
  EXPECT_EQ(p.map_ranges[0].start, 0x1000000u);
  EXPECT_EQ(p.map_ranges[1].len, 0u);
  EXPECT_EQ(p.backup_dst, 0u);
  EXPECT_EQ(p.console_serial, 1);
  EXPECT_EQ(p.console_debugcon, 0);
  EXPECT_EQ(p.skip_checks, 0);

  // One flipped byte at a destination is what the purgatory then finds.
  a2[a2.size() / 2] ^= 1;
  sha256_regions(p.regions, CHARON_MAX_REGIONS, Sha256Impl::Scalar, want);
  EXPECT_NE(std::memcmp(p.digest, want, 32), 0);
}

TEST(PurgatoryParams, MoreRegionsThanTheBlockHoldsIsAnError) {
  std::vector<DigestRegion> r(CHARON_MAX_REGIONS + 1, DigestRegion{nullptr, 0, 0});
  const HandoffInput in{CHARON_HANDOFF_LINUX32, 0, 0, 0, 0, 0, nullptr, 0, false, false, 0};
  charon_params p{};
  EXPECT_EQ(fill_params(in, r.data(), r.size(), p), PurgStatus::kTooManyRegions);
}

}  // namespace
}  // namespace charon::efi
