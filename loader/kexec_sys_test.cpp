#include <charon/loader/kexec_sys.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include "testdata/fake_kexec_sys.h"
#include "testdata/test_util.h"

namespace charon::loader {
namespace {

using namespace charon::boot;

using testing::FakeKexecSys;
using testing::TempDir;
using testing::write_file;

KexecImage small_image() {
  LoadRequest r;
  r.kernel = testing::make_bzimage({});
  r.kernel_name = "bzImage";
  r.purgatory = testing::read_bytes(CHARON_REAL_PURGATORY);
  r.purgatory_name = "purgatory.ro";
  SystemInfo s;
  s.memory = testing::qemu_map(512ull << 20, 0);
  auto img = build_kexec_image(r, s);
  EXPECT_TRUE(img.ok()) << img.error();
  return *img;
}

TEST(KexecLoad, PassesArchFlagEntryAndPageAlignedSegments) {
  FakeKexecSys sys;
  TempDir t;
  const KexecImage img = small_image();
  ASSERT_TRUE(kexec_load_image(sys, img, false, t.path()).ok());
  ASSERT_EQ(sys.loads.size(), 1u);
  const auto& call = sys.loads[0];
  EXPECT_EQ(call.flags, 62ul << 16) << "KEXEC_ARCH_X86_64, no KEXEC_ON_CRASH";
  EXPECT_EQ(call.entry, img.entry);
  ASSERT_EQ(call.segs.size(), img.segments.size());
  for (size_t i = 0; i < call.segs.size(); ++i) {
    const auto mem = reinterpret_cast<uintptr_t>(call.segs[i].mem);
    EXPECT_EQ(mem % 4096, 0u);
    EXPECT_EQ(call.segs[i].memsz % 4096, 0u);
    EXPECT_LE(call.segs[i].bufsz, call.segs[i].memsz);
    EXPECT_EQ(mem, img.segments[i].mem);
    EXPECT_EQ(call.segs[i].bufsz, img.segments[i].data.size());
  }
}

TEST(KexecLoad, CrashLoadAddsKexecOnCrash) {
  FakeKexecSys sys;
  TempDir t;
  ASSERT_TRUE(kexec_load_image(sys, small_image(), true, t.path()).ok());
  EXPECT_EQ(sys.loads.at(0).flags, (62ul << 16) | 1);
}

struct ErrCase {
  int err;
  const char* lockdown;
  const char* expect;
};
class KexecLoadError : public ::testing::TestWithParam<ErrCase> {};
TEST_P(KexecLoadError, GetsOneClearSentence) {
  FakeKexecSys sys;
  sys.load_errno = GetParam().err;
  TempDir t;
  if (*GetParam().lockdown)
    write_file(t.path() / "sys/kernel/security/lockdown", GetParam().lockdown);
  auto st = kexec_load_image(sys, small_image(), false, t.path());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find(GetParam().expect), std::string::npos) << st.error();
  EXPECT_EQ(st.error().find('\n'), std::string::npos);
}
INSTANTIATE_TEST_SUITE_P(
    Errno, KexecLoadError,
    ::testing::Values(ErrCase{EPERM, "", "CAP_SYS_BOOT"},
                      ErrCase{EPERM, "[none] integrity confidentiality\n", "CAP_SYS_BOOT"},
                      ErrCase{EPERM, "none [integrity] confidentiality\n",
                              "lockdown mode (integrity): lockdown forbids kexec_load"},
                      ErrCase{EPERM, "none integrity [confidentiality]\n",
                              "lockdown mode (confidentiality)"},
                      ErrCase{ENOSYS, "", "no kexec support"}, ErrCase{EBUSY, "", "busy"},
                      ErrCase{EINVAL, "", "rejected"}, ErrCase{ENOMEM, "", "not enough memory"},
                      ErrCase{EADDRNOTAVAIL, "", "EADDRNOTAVAIL"}));

TEST(KexecLoad, DisabledKexecIsNamedWhenTheSysctlSaysSo) {
  FakeKexecSys sys;
  sys.load_errno = EPERM;
  TempDir t;
  write_file(t.path() / "proc/sys/kernel/kexec_load_disabled", "1\n");
  auto st = kexec_load_image(sys, small_image(), false, t.path());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("kexec_load_disabled is 1"), std::string::npos) << st.error();
}

TEST(KexecUnload, PassesNoSegments) {
  FakeKexecSys sys;
  TempDir t;
  ASSERT_TRUE(kexec_unload(sys, true, t.path()).ok());
  ASSERT_EQ(sys.loads.size(), 1u);
  EXPECT_TRUE(sys.loads[0].segs.empty());
  EXPECT_EQ(sys.loads[0].entry, 0u);
  EXPECT_EQ(sys.loads[0].flags, (62ul << 16) | 1);
}

TEST(KexecExecute, SyncsBeforeRebootAndReportsNothingLoaded) {
  FakeKexecSys sys;
  TempDir t;
  auto st = kexec_execute(sys, t.path());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("no kexec image is loaded"), std::string::npos) << st.error();
  const std::vector<std::string> want = {"sync", "reboot"};
  EXPECT_EQ(sys.calls, want);
}

TEST(KexecExecute, RefusesBeforeRebootWhenSysfsSaysNothingIsLoaded) {
  FakeKexecSys sys;
  TempDir t;
  write_file(t.path() / "sys/kernel/kexec_loaded", "0\n");
  auto st = kexec_execute(sys, t.path());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(sys.calls.empty()) << "neither sync nor reboot";
}

}  // namespace
}  // namespace charon::loader
