// The C API: the same image as the C++ library, errors as one sentence.
#include <charon/loader.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstring>

#include "testdata/test_util.h"

namespace {

using namespace charon::boot;

namespace t = charon::loader::testing;

TEST(CApi, BuildsAnImageAndDescribesItsSegments) {
  t::TempDir d;
  t::write_file(d.path() / "proc/iomem", t::qemu_iomem(511ull << 20, 0));
  t::write_bytes(d.path() / "bzImage", t::make_bzimage({}));
  t::write_bytes(d.path() / "initrd", std::vector<uint8_t>(5000, 3));
  const std::string kernel = (d.path() / "bzImage").string();
  const std::string initrd = (d.path() / "initrd").string();
  const std::string root = d.path().string();
  charon_load_options o{};
  o.kernel_path = kernel.c_str();
  o.initrd_path = initrd.c_str();
  o.cmdline = "quiet";
  o.purgatory_path = CHARON_REAL_PURGATORY;
  o.sysroot = root.c_str();
  o.console_serial = 1;
  charon_image* img = nullptr;
  char err[256] = "";
  ASSERT_EQ(charon_image_build(&o, &img, err, sizeof(err)), 0) << err;
  ASSERT_NE(img, nullptr);
  ASSERT_EQ(charon_image_segment_count(img), 5u);
  bool saw_purgatory = false;
  for (size_t i = 0; i < 5; ++i) {
    charon_segment_info s;
    ASSERT_EQ(charon_image_segment(img, i, &s), 0);
    EXPECT_EQ(s.mem % 4096, 0u);
    EXPECT_LE(s.bufsz, s.memsz);
    if (std::strcmp(s.what, "purgatory") == 0) {
      saw_purgatory = true;
      EXPECT_GE(charon_image_entry(img), s.mem);
      EXPECT_LT(charon_image_entry(img), s.mem + s.memsz);
    }
  }
  EXPECT_TRUE(saw_purgatory);
  EXPECT_EQ(charon_image_segment(img, 5, nullptr), -1);
  const charon_params* p = charon_image_params(img);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->handoff, CHARON_HANDOFF_LINUX64);
  EXPECT_EQ(p->console_serial, 1);
  EXPECT_EQ(p->serial_base, 0x3f8);
  charon_image_free(img);
}

TEST(CApi, FailureWritesOneSentenceAndNoImage) {
  t::TempDir d;
  const std::string missing = (d.path() / "missing").string();
  charon_load_options o{};
  o.kernel_path = missing.c_str();
  o.purgatory_path = CHARON_REAL_PURGATORY;
  charon_image* img = reinterpret_cast<charon_image*>(1);
  char err[16];
  ASSERT_EQ(charon_image_build(&o, &img, err, sizeof(err)), -1);
  EXPECT_EQ(img, nullptr);
  EXPECT_EQ(std::strlen(err), sizeof(err) - 1) << "truncated to the buffer, NUL-terminated";
  EXPECT_EQ(charon_image_build(nullptr, &img, nullptr, 0), -1);
}

TEST(CApi, IdmapBytesCoverAtLeastTheRootAndSlackAndGrowWithRanges) {
  const charon_region four_g[] = {{0, 4ull << 30}};
  const charon_region spread[] = {{0, 4ull << 30}, {1ull << 40, 4096}, {1ull << 47, 4096}};
  const uint64_t a = charon_idmap_bytes_needed(four_g, 1);
  const uint64_t b = charon_idmap_bytes_needed(spread, 3);
  EXPECT_EQ(a % 4096, 0u);
  EXPECT_GT(b, a);
}

}  // namespace
