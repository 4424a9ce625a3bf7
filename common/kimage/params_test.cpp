// The parameter block for a Linux handoff, and its digests, as every
// loader now fills them.
#include <charon/kimage/image.h>
#include <charon/sha256.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace charon::kimage {
namespace {

charon_params fresh() {
  charon_params p{};
  p.magic = CHARON_PARAMS_MAGIC;
  p.version = CHARON_PARAMS_VERSION;
  p.size = sizeof p;
  return p;
}

ImagePlan linux64_plan() {
  ImagePlan plan{};
  plan.kernel.init_size = 0x3000000;
  plan.handoff = HandoffKind::kLinux64;
  plan.kernel_seg = {0x1000000, 0x4000000};
  plan.kernel_entry = 0x1000200;
  plan.setup = {0x3fe7f000, 0x3fe81000};
  plan.scratch = {0x3fe00000, 0x3fe09000};
  plan.memory[0] = {0x100000, 0x3ff00000};
  plan.memory[1] = {1ull << 32, 1ull << 30};
  plan.nmemory = 2;
  return plan;
}

TEST(Params, EveryFieldOfTheLinuxHandoffAndStaleValuesCleared) {
  ImageInput in;
  in.console.serial = true;
  in.flags = CHARON_F_SCALAR_ONLY;
  charon_params p = fresh();
  p.backup_dst = 0x1234;  // stale values from the image are cleared
  p.skip_checks = 1;
  ASSERT_EQ(fill_params(in, linux64_plan(), p), Status::kOk);
  EXPECT_EQ(p.magic, CHARON_PARAMS_MAGIC);
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_LINUX64);
  EXPECT_EQ(p.flags, CHARON_F_SCALAR_ONLY);
  EXPECT_EQ(p.kernel_entry, 0x1000200u);
  EXPECT_EQ(p.boot_params, 0x3fe7f000u);
  EXPECT_EQ(p.regs64.rsi, 0x3fe7f000u);
  EXPECT_EQ(p.regs64.rip, 0x1000200u);
  EXPECT_EQ(p.regs32.esi, 0x3fe7f000u);
  p.idmap_limit = 1ull << 32;  // the image's default: replaced by the typed memory
  ASSERT_EQ(fill_params(in, linux64_plan(), p), Status::kOk);
  EXPECT_EQ(p.idmap_limit, 0u);
  EXPECT_EQ(p.memory[0].start, 0x100000u);
  EXPECT_EQ(p.memory[0].len, 0x3ff00000u);
  EXPECT_EQ(p.memory[1].start, 1ull << 32);
  EXPECT_EQ(p.memory[2].len, 0u);
  EXPECT_EQ(p.scratch_base, 0x3fe00000u);
  EXPECT_EQ(p.scratch_size, 0x9000u);
  EXPECT_EQ(p.map_ranges[0].start, 0x1000000u);
  EXPECT_EQ(p.map_ranges[0].len, 0x3000000u);
  EXPECT_EQ(p.map_ranges[1].len, 0u);
  EXPECT_EQ(p.backup_dst, 0u);
  EXPECT_EQ(p.panic_kernel, 0);
  EXPECT_EQ(p.skip_checks, 0);
  EXPECT_EQ(p.console_serial, 1);
  EXPECT_EQ(p.console_debugcon, 0);
  EXPECT_EQ(p.serial_base, 0x3f8);
  EXPECT_EQ(p.debugcon_port, 0xe9);
}

TEST(Params, BaudZeroMeansKeepTheDivisorForEveryLoader) {
  ImageInput in;
  charon_params p = fresh();
  ASSERT_EQ(fill_params(in, linux64_plan(), p), Status::kOk);
  EXPECT_EQ(p.serial_baud, 0u) << "the default keeps the UART as the firmware or kernel left it";
  in.console.serial_baud = 9600;
  in.console.serial_base = 0x2f8;
  ASSERT_EQ(fill_params(in, linux64_plan(), p), Status::kOk);
  EXPECT_EQ(p.serial_baud, 9600u);
  EXPECT_EQ(p.serial_base, 0x2f8);
}

TEST(Params, CrashLoadsCarryTheBackupAndExtraMapRangesFollowTheKernel) {
  ImageInput in;
  in.crash = {true, 0, 640 * 1024, 0x200};
  const Range extra[] = {{0x7e000000, 0x7e003000}};
  in.extra_map = extra;
  in.nextra_map = 1;
  ImagePlan plan = linux64_plan();
  plan.backup = {0x5000000, 0x50a0000};
  charon_params p = fresh();
  ASSERT_EQ(fill_params(in, plan, p), Status::kOk);
  EXPECT_EQ(p.panic_kernel, 1);
  EXPECT_EQ(p.backup_dst, 0x5000000u);
  EXPECT_EQ(p.backup_src, 0u);
  EXPECT_EQ(p.backup_size, 640u * 1024);
  EXPECT_EQ(p.map_ranges[1].start, 0x7e000000u);
  EXPECT_EQ(p.map_ranges[1].len, 0x3000u);
}

TEST(Params, ABlockOfAnotherAbiIsRefusedAndLeftAlone) {
  ImageInput in;
  charon_params p = fresh();
  p.version = CHARON_PARAMS_VERSION + 1;
  p.flags = 77;
  EXPECT_EQ(fill_params(in, linux64_plan(), p), Status::kBadParamsIdentity);
  EXPECT_EQ(p.flags, 77u);
}

TEST(Digests, CombinedAndPerRegionDigestsMatchWhatThePurgatoryComputesAtTheDestinations) {
  // Sources here, "destinations" elsewhere: the purgatory hashes what was
  // copied there, so hash the copies as it would.
  std::vector<uint8_t> a(100000), b(4096 + 77), c(5);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i ^ 0x5a);
  std::vector<uint8_t> a2 = a, b2 = b, c2 = c;
  const DigestRegion regions[] = {{a.data(), reinterpret_cast<uint64_t>(a2.data()), a.size()},
                                  {b.data(), reinterpret_cast<uint64_t>(b2.data()), b.size()},
                                  {c.data(), reinterpret_cast<uint64_t>(c2.data()), 0}};
  for (Sha256Impl impl : {Sha256Impl::Scalar, sha256_choose(CpuFeatures::detect(), true)}) {
    charon_params p = fresh();
    p.regions[5] = {1, 2};  // stale entries are cleared
    ASSERT_EQ(fill_digests(regions, 3, impl, p), Status::kOk);
    EXPECT_EQ(p.regions[0].len, a.size());
    EXPECT_EQ(p.regions[5].len, 0u);
    uint8_t want[32];
    sha256_regions(p.regions, CHARON_MAX_REGIONS, Sha256Impl::Scalar, want);
    EXPECT_EQ(std::memcmp(p.digest, want, 32), 0);
    for (int i = 0; i < 2; ++i) {
      sha256_regions(&p.regions[i], 1, Sha256Impl::Scalar, want);
      EXPECT_EQ(std::memcmp(p.region_digests[i], want, 32), 0) << i;
    }
    // One flipped byte at a destination is what the purgatory then finds,
    // and the per-region digest names the region.
    a2[a2.size() / 2] ^= 1;
    sha256_regions(p.regions, CHARON_MAX_REGIONS, Sha256Impl::Scalar, want);
    EXPECT_NE(std::memcmp(p.digest, want, 32), 0);
    sha256_regions(&p.regions[0], 1, Sha256Impl::Scalar, want);
    EXPECT_NE(std::memcmp(p.region_digests[0], want, 32), 0);
    a2[a2.size() / 2] ^= 1;
  }
}

TEST(Digests, MoreRegionsThanTheBlockHoldsIsAnError) {
  std::vector<DigestRegion> r(CHARON_MAX_REGIONS + 1, DigestRegion{nullptr, 0, 0});
  charon_params p = fresh();
  EXPECT_EQ(fill_digests(r.data(), r.size(), Sha256Impl::Scalar, p), Status::kTooManyRegions);
}

}  // namespace
}  // namespace charon::kimage
