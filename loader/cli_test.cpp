// charon-kexec's command line over a fake system: every error gets one
// message and a non-zero status, and nothing reaches kexec_load.
#include <charon/loader/cli.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include "testdata/fake_kexec_sys.h"
#include "testdata/test_util.h"

namespace charon::loader {
namespace {

using namespace charon::boot;

constexpr uint64_t kM = 1ull << 20;

using CliRun = testing::ToolRun;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() / "root";
    testing::write_file(root_ / "proc/iomem", testing::qemu_iomem(3072 * kM - kM, 3072 * kM));
    testing::write_file(root_ / "proc/cmdline",
                        "BOOT_IMAGE=/vmlinuz-6.1 root=/dev/vda1 ro quiet\n");
    kernel_ = (tmp_.path() / "bzImage").string();
    testing::write_bytes(kernel_, testing::make_bzimage({}));
    initrd_ = (tmp_.path() / "initrd").string();
    testing::write_bytes(initrd_, std::vector<uint8_t>(100000, 7));
    purgatory_ = testing::read_bytes(CHARON_REAL_PURGATORY);
  }

  CliRun run(std::vector<std::string> args) {
    return testing::run_tool("charon-kexec", std::move(args),
                             [&](int argc, char** argv, FILE* fo, FILE* fe) {
                               const CliEnv env{&sys_, root_.string(), purgatory_, fo, fe};
                               return run_cli(argc, argv, env);
                             });
  }

  // A failure: non-zero, exactly one line on stderr containing `text`,
  // and kexec_load never called.
  void expect_refused(const CliRun& r, const std::string& text) {
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  testing::TempDir tmp_;
  std::filesystem::path root_;
  std::string kernel_, initrd_;
  std::vector<uint8_t> purgatory_;
  testing::FakeKexecSys sys_;
};

TEST_F(Cli, DryRunPrintsTheLayoutAndDigestAndLoadsNothing) {
  CliRun r =
      run({"-c", "-l", kernel_, "--initrd=" + initrd_, "--append=console=ttyS0", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(sys_.calls.empty());
  for (const char* what : {"kernel", "initrd", "boot_params + cmdline", "purgatory",
                           "page-table scratch", "sha256:", "entry: 0x", "linux64"})
    EXPECT_NE(r.out.find(what), std::string::npos) << what << "\n" << r.out;
}

TEST_F(Cli, LoadCallsKexecLoadOnceWithTheBuiltImage) {
  CliRun r = run({"-c", "-l", kernel_, "--initrd=" + initrd_, "--append=console=ttyS0"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(sys_.loads.size(), 1u);
  EXPECT_EQ(sys_.loads[0].segs.size(), 5u);
  EXPECT_EQ(sys_.loads[0].flags, 62ul << 16);
}

TEST_F(Cli, ReuseCmdlineDropsBootImageAndAppendsAfterIt) {
  CliRun r = run({"-c", "-l", kernel_, "--reuse-cmdline", "--append=console=ttyS0", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  // The command line's length shows in the boot_params segment's bytes.
  const std::string want = "root=/dev/vda1 ro quiet console=ttyS0";
  char buf[64];
  // boot_params, the line and its NUL, then the 8-aligned SETUP_RNG_SEED node.
  const size_t cmdline_end = (4096 + want.size() + 1 + 7) / 8 * 8;
  std::snprintf(buf, sizeof(buf), "(0x%zx bytes", cmdline_end + 16 + kRngSeedBytes);
  EXPECT_NE(r.out.find(buf), std::string::npos) << r.out;
}

TEST_F(Cli, NoPrivilegeIsOneClearErrorAfterOneAttempt) {
  sys_.load_errno = EPERM;
  CliRun r = run({"-c", "-l", kernel_});
  expect_refused(r, "CAP_SYS_BOOT");
  EXPECT_EQ(sys_.loads.size(), 1u);
}

TEST_F(Cli, LockdownIsNamed) {
  sys_.load_errno = EPERM;
  testing::write_file(root_ / "sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
  expect_refused(run({"-c", "-l", kernel_}), "lockdown forbids kexec_load");
}

TEST_F(Cli, NoKexecSupportIsNamed) {
  sys_.load_errno = ENOSYS;
  expect_refused(run({"-c", "-l", kernel_}), "CONFIG_KEXEC");
}

TEST_F(Cli, MissingKernel) {
  expect_refused(run({"-l", (tmp_.path() / "nope").string()}), "cannot open");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, TruncatedKernel) {
  auto k = testing::make_bzimage({});
  k.resize(k.size() / 2);
  testing::write_bytes(kernel_, k);
  expect_refused(run({"-c", "-l", kernel_}), "truncated");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, NotAKernel) {
  testing::write_bytes(kernel_, std::vector<uint8_t>(100000, 0x90));
  expect_refused(run({"-c", "-l", kernel_}), "not a bzImage");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, KernelTooOld) {
  testing::BzSpec s;
  s.version = 0x0208;
  testing::write_bytes(kernel_, testing::make_bzimage(s));
  expect_refused(run({"-c", "-l", kernel_}), "2.08 is too old");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, KernelNotRelocatable) {
  testing::BzSpec s;
  s.relocatable = 0;
  testing::write_bytes(kernel_, testing::make_bzimage(s));
  expect_refused(run({"-c", "-l", kernel_}), "relocatable_kernel is 0");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, MissingOrEmptyInitrd) {
  expect_refused(run({"-c", "-l", kernel_, "--initrd=" + (tmp_.path() / "nope").string()}),
                 "initrd");
  testing::write_bytes(initrd_, {});
  expect_refused(run({"-c", "-l", kernel_, "--initrd=" + initrd_}), "empty");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, Entry32WhenTheKernelMustSitAbove4G) {
  // 12 MiB of RAM below 4 GiB, 3 GiB above: a 64-bit load fits, a 32-bit
  // one cannot.
  testing::write_file(root_ / "proc/iomem", testing::qemu_iomem(12 * kM, 3072 * kM));
  EXPECT_EQ(run({"-c", "-l", kernel_, "--dry-run"}).status, 0);
  expect_refused(run({"-c", "-l", kernel_, "--entry-32bit"}), "below 4 GiB");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, Entry32WhenTheInitrdMustSitAbove4G) {
  testing::write_file(root_ / "proc/iomem", testing::qemu_iomem(40 * kM, 3072 * kM));
  testing::write_bytes(initrd_, std::vector<uint8_t>(30 * kM, 1));
  EXPECT_EQ(run({"-c", "-l", kernel_, "--initrd=" + initrd_, "--dry-run"}).status, 0);
  expect_refused(run({"-c", "-l", kernel_, "--initrd=" + initrd_, "--entry-32bit"}),
                 "cannot take it above 4 GiB");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, SegmentsThatDoNotFit) {
  testing::write_file(root_ / "proc/iomem", testing::qemu_iomem(8 * kM, 0));
  expect_refused(run({"-c", "-l", kernel_}), "segments do not fit");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, CrashLoadWithoutReservation) {
  expect_refused(run({"-c", "-p", kernel_}), "crashkernel=");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, CrashLoadUsesKexecOnCrash) {
  testing::write_file(
      root_ / "proc/iomem",
      testing::qemu_iomem(3072 * kM - kM, 0, "  20000000-2fffffff : Crash kernel\n"));
  testing::write_crash_sysfs(root_, 2);
  CliRun r = run({"-c", "-p", kernel_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sys_.loads.at(0).flags, (62ul << 16) | 1);
  // Kernel, boot_params, backup, elfcorehdr, purgatory, page tables.
  EXPECT_EQ(sys_.loads.at(0).segs.size(), 6u);
}

TEST_F(Cli, CrashDryRunShowsTheBackupAndTheElfcorehdr) {
  testing::write_file(
      root_ / "proc/iomem",
      testing::qemu_iomem(3072 * kM - kM, 0, "  20000000-2fffffff : Crash kernel\n"));
  testing::write_crash_sysfs(root_, 1);
  CliRun r = run({"-c", "-p", kernel_, "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("backup of [0, 640 KiB)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("elfcorehdr"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backup: [0x0, 0xa0000) -> 0x"), std::string::npos) << r.out;
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, CrashReuseCmdlineDropsCrashkernelAndKeepsWhatTheUserAppended) {
  testing::write_file(
      root_ / "proc/iomem",
      testing::qemu_iomem(3072 * kM - kM, 0, "  20000000-2fffffff : Crash kernel\n"));
  testing::write_file(root_ / "proc/cmdline",
                      "BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=256M ro\n");
  testing::write_crash_sysfs(root_, 1);
  CliRun r = run({"-c", "-p", kernel_, "--reuse-cmdline", "--append=crashkernel=64M irqpoll",
                  "--dry-run", "--elf32-core-headers"});
  ASSERT_EQ(r.status, 0) << r.err;
  // The running kernel's crashkernel= goes; what the user appended stays,
  // even a crashkernel= (their choice); acpi_rsdp= only when it is known.
  EXPECT_NE(r.out.find("cmdline: root=/dev/vda1 ro crashkernel=64M irqpoll elfcorehdr="),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("elfcorehdr: ELF32"), std::string::npos) << r.out;
  EXPECT_EQ(without_arg("BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=256M ro", "crashkernel"),
            "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro");
  EXPECT_EQ(without_arg("a crashkernel=1G,high crashkernel=72M,low \"b=c d\"", "crashkernel"),
            "a \"b=c d\"");
  EXPECT_EQ(without_arg("crashkernel_x=1 crashkernel", "crashkernel"), "crashkernel_x=1");
}

TEST_F(Cli, CrashLoadWithoutCrashNotes) {
  testing::write_file(
      root_ / "proc/iomem",
      testing::qemu_iomem(3072 * kM - kM, 0, "  20000000-2fffffff : Crash kernel\n"));
  expect_refused(run({"-c", "-p", kernel_}), "vmcoreinfo: cannot read");
  testing::write_file(root_ / "sys/kernel/vmcoreinfo", "0x253a000 1024\n");
  expect_refused(run({"-c", "-p", kernel_}), "no CPU has crash_notes");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, CrashReservationTooSmall) {
  testing::write_file(
      root_ / "proc/iomem",
      testing::qemu_iomem(3072 * kM - kM, 0, "  20000000-203fffff : Crash kernel\n"));
  testing::write_crash_sysfs(root_, 1);
  expect_refused(run({"-c", "-p", kernel_, "--initrd=" + initrd_}), "reservation is too small");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, CrashKernelThatDoesNotFit) {
  testing::write_file(
      root_ / "proc/iomem",
      testing::qemu_iomem(3072 * kM - kM, 3072 * kM, "  100000000-10fffffff : Crash kernel\n"));
  testing::write_crash_sysfs(root_, 1);
  expect_refused(run({"-c", "-p", kernel_, "--entry-32bit"}), "in the crash kernel reservation");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, UnloadAndExecute) {
  EXPECT_EQ(run({"-c", "-u"}).status, 0);
  ASSERT_EQ(sys_.loads.size(), 1u);
  EXPECT_TRUE(sys_.loads[0].segs.empty());
  sys_.reboot_errno = EINVAL;
  expect_refused(run({"-e"}), "no kexec image is loaded");
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run({}).status, 2);
  EXPECT_EQ(run({"-c", "-l", kernel_, "-e"}).status, 2);
  EXPECT_EQ(run({"-c", "-l", kernel_, "--serial=ttyS9"}).status, 2);
  EXPECT_EQ(run({"-c", "-l", kernel_, "--serial-baud=1234"}).status, 2);
  EXPECT_EQ(run({"-c", "-l", kernel_, "--bogus"}).status, 2);
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(Cli, SerialOptionsFollowKexecTools) {
  CliRun r =
      run({"-c", "-l", kernel_, "--console-serial", "--serial=ttyS1", "--serial-baud=57600"});
  ASSERT_EQ(r.status, 0) << r.err;
  CliRun r2 = run({"-c", "-l", kernel_, "--serial=0x2e8", "--debugcon", "--dry-run"});
  EXPECT_EQ(r2.status, 0) << r2.err;
}

TEST_F(Cli, HelpAndVersion) {
  CliRun h = run({"--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("--entry-32bit"), std::string::npos);
  CliRun v = run({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("charon-kexec"), std::string::npos);
}

}  // namespace
}  // namespace charon::loader

namespace charon::loader {
namespace {

// The same machine as Cli's, for the system-call choice.
class CliSyscall : public Cli {
 protected:
  using Out = CliRun;
};

TEST_F(CliSyscall, AutoIsTheDefaultAndHandsTheFilesToKexecFileLoad) {
  const Out r = run({"-l", kernel_, "--initrd=" + initrd_, "--append=console=ttyS0"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(sys_.calls, (std::vector<std::string>{"file_load"}));
  const auto& f = sys_.file_loads[0];
  EXPECT_TRUE(f.kernel_open && f.initrd_open);
  EXPECT_EQ(f.cmdline, "console=ttyS0");
  EXPECT_EQ(f.cmdline_len, 14u) << "the length counts the NUL";
  EXPECT_EQ(f.flags, 0u);
  EXPECT_NE(r.out.find("kexec_file_load"), std::string::npos) << "says which call loaded";
}

TEST_F(CliSyscall, FileLoadFlagsForCrashAndNoInitrd) {
  ASSERT_EQ(run({"-s", "-p", kernel_}).status, 0);
  EXPECT_EQ(sys_.file_loads.at(0).flags, KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS);
  EXPECT_FALSE(sys_.file_loads.at(0).initrd_open);
  EXPECT_EQ(sys_.file_loads.at(0).cmdline_len, 0u);
}

TEST_F(CliSyscall, AutoFallsBackToKexecLoadOnlyWhereThatCanWork) {
  // No CONFIG_KEXEC_FILE, or no loader for the format: kexec_load works.
  for (int e : {ENOSYS, ENOEXEC}) {
    sys_ = {};
    sys_.file_load_errno = e;
    const Out r = run({"-l", kernel_});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(sys_.calls, (std::vector<std::string>{"file_load", "load"})) << e;
    EXPECT_NE(r.out.find("falling back"), std::string::npos) << r.out;
  }
  // A rejected signature, or lockdown: kexec_load would step around the
  // policy (and lockdown refuses it anyway), so no fallback.
  for (int e : {EKEYREJECTED, EBADMSG, EPERM}) {
    sys_ = {};
    sys_.file_load_errno = e;
    const Out r = run({"-l", kernel_});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(sys_.calls, (std::vector<std::string>{"file_load"})) << e;
    EXPECT_NE(r.err.find("kexec_file_load:"), std::string::npos) << r.err;
  }
}

TEST_F(CliSyscall, EachFileLoadErrorHasItsReasonInWords) {
  const struct {
    int err;
    const char* want;
  } cases[] = {{EKEYREJECTED, "signature (EKEYREJECTED)"},
               {EBADMSG, "no valid signature (EBADMSG)"},
               {ENOEXEC, "no loader for this image (ENOEXEC)"},
               {ENOSYS, "CONFIG_KEXEC_FILE"}};
  for (const auto& c : cases) {
    sys_ = {};
    sys_.file_load_errno = c.err;
    const Out r = run({"-s", "-l", kernel_});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(c.want), std::string::npos) << r.err;
    EXPECT_EQ(sys_.calls, (std::vector<std::string>{"file_load"})) << "-s never falls back";
  }
  testing::write_file(root_ / "sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
  sys_ = {};
  sys_.file_load_errno = EPERM;
  EXPECT_NE(run({"-s", "-l", kernel_}).err.find("lockdown mode and could not verify"),
            std::string::npos);
  // kexec_load under lockdown points at -s.
  sys_ = {};
  sys_.load_errno = EPERM;
  EXPECT_NE(run({"-c", "-l", kernel_}).err.find("use -s"), std::string::npos);
}

TEST_F(CliSyscall, CharonOnlyOptionsChooseKexecLoadUnderAutoAndAreRefusedWithS) {
  const Out r = run({"-l", kernel_, "--console-serial"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sys_.calls, (std::vector<std::string>{"load"}));
  EXPECT_NE(r.out.find("--console-serial needs charon's purgatory"), std::string::npos) << r.out;
  const Out s = run({"-s", "-l", kernel_, "--entry-32bit"});
  EXPECT_EQ(s.status, 2);
  EXPECT_NE(s.err.find("--entry-32bit needs charon's purgatory"), std::string::npos) << s.err;
}

TEST_F(CliSyscall, DryRunSaysWhichCallWouldBeUsedAndWhy) {
  EXPECT_NE(run({"-l", kernel_, "--dry-run"}).out.find("syscall: kexec_file_load first (-a"),
            std::string::npos);
  EXPECT_NE(run({"-s", "-l", kernel_, "--dry-run"}).out.find("syscall: kexec_file_load (-s)"),
            std::string::npos);
  EXPECT_NE(run({"-c", "-l", kernel_, "--dry-run"}).out.find("syscall: kexec_load (-c)"),
            std::string::npos);
  EXPECT_NE(run({"-l", kernel_, "--debugcon", "--dry-run"})
                .out.find("syscall: kexec_load with charon's purgatory (--debugcon needs"),
            std::string::npos);
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(CliSyscall, UnloadThroughEitherCall) {
  ASSERT_EQ(run({"-u"}).status, 0);
  EXPECT_EQ(sys_.calls, (std::vector<std::string>{"file_load"}));
  EXPECT_EQ(sys_.file_loads.at(0).flags, KEXEC_FILE_UNLOAD);
  sys_ = {};
  ASSERT_EQ(run({"-u", "-p", "-s"}).status, 0);
  EXPECT_EQ(sys_.file_loads.at(0).flags, KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH);
  // A kernel without kexec_file_load: -a unloads through kexec_load.
  sys_ = {};
  sys_.file_load_errno = ENOSYS;
  ASSERT_EQ(run({"-u"}).status, 0);
  EXPECT_EQ(sys_.calls, (std::vector<std::string>{"file_load", "load"}));
}

TEST_F(CliSyscall, StatusReadsKexecLoadedAndKexecCrashLoaded) {
  testing::write_file(root_ / "sys/kernel/kexec_loaded", "1\n");
  testing::write_file(root_ / "sys/kernel/kexec_crash_loaded", "0\n");
  const Out a = run({"-S"});
  EXPECT_EQ(a.status, 0);
  EXPECT_NE(a.out.find("kexec kernel: loaded"), std::string::npos) << a.out;
  const Out b = run({"-S", "-p"});
  EXPECT_EQ(b.status, 1);
  EXPECT_NE(b.out.find("crash kernel: not loaded"), std::string::npos) << b.out;
  std::filesystem::remove(root_ / "sys/kernel/kexec_loaded");
  const Out c = run({"-S"});
  EXPECT_EQ(c.status, 1);
  EXPECT_NE(c.err.find("kexec_loaded: cannot read"), std::string::npos) << c.err;
  EXPECT_TRUE(sys_.calls.empty());
}

}  // namespace
}  // namespace charon::loader
