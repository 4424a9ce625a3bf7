// charon-kexec in a Xen dom0 (fake tree, fake hypervisor): every action
// goes through the kexec hypercall and none through the Linux syscalls;
// a domU is refused; -p takes Xen's crash area and notes.
#include <charon/loader/cli.h>
#include <elf.h>
#include <gtest/gtest.h>

#include "testdata/fake_kexec_sys.h"
#include "testdata/fake_xen.h"
#include "testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kM = 1ull << 20;

class XenCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() / "root";
    // dom0's own, pseudo-physical view: 512 MiB, no crashkernel=.
    testing::write_file(root_ / "proc/iomem", testing::qemu_iomem(511 * kM, 0));
    testing::write_file(root_ / "proc/xen/capabilities", "control_d\n");
    testing::write_file(root_ / "sys/kernel/vmcoreinfo", "0x000000003e1c2000 400\n");
    kernel_ = (tmp_.path() / "bzImage").string();
    testing::write_bytes(kernel_, testing::make_bzimage({}));
    initrd_ = (tmp_.path() / "initrd").string();
    testing::write_bytes(initrd_, std::vector<uint8_t>(100000, 7));
    purgatory_ = testing::read_bytes(CHARON_REAL_PURGATORY);
  }

  testing::ToolRun run(std::vector<std::string> args) {
    return testing::run_tool(
        "charon-kexec", std::move(args), [&](int argc, char** argv, FILE* fo, FILE* fe) {
          CliEnv env{&sys_, root_.string(), purgatory_, fo, fe};
          env.open_xen = [&](const std::string&) -> Result<std::unique_ptr<XenHypercall>> {
            ++opened_;
            return std::unique_ptr<XenHypercall>(new Proxy(xen_));
          };
          return run_cli(argc, argv, env);
        });
  }

  // The CLI owns what open_xen returns; the test keeps the fake.
  struct Proxy final : XenHypercall {
    explicit Proxy(testing::FakeXen& x) : x(x) {}
    uint8_t* buffer(size_t n) override { return x.buffer(n); }
    long call(unsigned op, uint64_t a, uint64_t b) override { return x.call(op, a, b); }
    testing::FakeXen& x;
  };

  testing::TempDir tmp_;
  std::filesystem::path root_;
  std::string kernel_, initrd_;
  std::vector<uint8_t> purgatory_;
  testing::FakeKexecSys sys_;
  testing::FakeXen xen_;
  int opened_ = 0;
};

TEST_F(XenCli, LoadGoesThroughXenBelowTheDmaBoundaryAndNeverTheSyscalls) {
  auto r = run({"-l", kernel_, "--initrd=" + initrd_, "--append=console=ttyS0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(sys_.calls.empty());
  ASSERT_EQ(xen_.loads.size(), 1u);
  const auto& l = xen_.loads[0];
  EXPECT_EQ(l.arg.type, KEXEC_TYPE_DEFAULT);
  EXPECT_EQ(l.arg.arch, kEmX86_64);
  ASSERT_GE(l.segs.size(), 5u);
  for (size_t i = 0; i + 1 < l.segs.size(); ++i) {
    // Xen's 1 GiB machine: dma_bitsize 28. Not over Xen itself.
    EXPECT_LE(l.segs[i].dest_maddr + l.segs[i].dest_size, 256 * kM) << i;
    EXPECT_GE(l.segs[i].dest_maddr, kM) << i;
    EXPECT_EQ(l.data[i].size(), l.segs[i].buf_size);
  }
  EXPECT_EQ(l.segs.back().buf, 0u);
  EXPECT_EQ(l.segs.back().dest_size, kM);
  EXPECT_NE(r.out.find("Xen's kexec hypercall"), std::string::npos) << r.out;
}

TEST_F(XenCli, Entry32IsAnEm386LoadAtCharonEntry32) {
  auto r64 = run({"-l", kernel_, "--dry-run"});
  auto r = run({"-l", kernel_, "--entry-32bit"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(xen_.loads.size(), 1u);
  EXPECT_EQ(xen_.loads[0].arg.arch, kEm386);
  // Not purgatory_start (the 64-bit entry the dry run names).
  char entry64[40];
  std::snprintf(entry64, sizeof entry64, "entry: 0x%016llx",
                static_cast<unsigned long long>(xen_.loads[0].arg.entry_maddr));
  EXPECT_EQ(r64.out.find(entry64), std::string::npos) << entry64 << "\n" << r64.out;
  bool inside = false;
  for (const auto& s : xen_.loads[0].segs)
    inside |= s.buf && xen_.loads[0].arg.entry_maddr >= s.dest_maddr &&
              xen_.loads[0].arg.entry_maddr < s.dest_maddr + s.dest_size;
  EXPECT_TRUE(inside);
}

TEST_F(XenCli, DryRunShowsTheBackendAndXensRanges) {
  auto r = run({"-p", kernel_, "--initrd=" + initrd_, "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(xen_.loads.empty());
  for (const char* want : {"KEXEC_TYPE_CRASH", "crash area [0x8000000-0x10000000)",
                           "Xen [0x3f600000-0x3fa00000)", "2 CPU crash notes"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
}

TEST_F(XenCli, CrashLoadFillsXensAreaWithAnElfcorehdrOfXensNotes) {
  auto r = run({"-p", kernel_, "--initrd=" + initrd_, "--append=console=ttyS0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(sys_.calls.empty());
  ASSERT_EQ(xen_.loads.size(), 1u);
  const auto& l = xen_.loads[0];
  EXPECT_EQ(l.arg.type, KEXEC_TYPE_CRASH);
  const xen_kexec_segment_t* hdr = nullptr;
  for (size_t i = 0; i + 1 < l.segs.size(); ++i) {
    EXPECT_GE(l.segs[i].dest_maddr, xen_.crash.start) << i;
    EXPECT_LE(l.segs[i].dest_maddr + l.segs[i].dest_size, xen_.crash.start + xen_.crash.size);
    if (l.data[i].size() > 4 && !std::memcmp(l.data[i].data(), ELFMAG, SELFMAG)) hdr = &l.segs[i];
  }
  ASSERT_NE(hdr, nullptr);
  const auto& h = l.data[size_t(hdr - l.segs.data())];
  Elf64_Ehdr eh;
  std::memcpy(&eh, h.data(), sizeof eh);
  std::vector<uint64_t> notes;
  bool crash_area_dumped = false;
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, h.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type == PT_NOTE) notes.push_back(ph.p_offset);
    // Old memory by physical address (the low 640 KiB is read from its
    // backup inside the area, which is right).
    if (ph.p_type == PT_LOAD && ph.p_paddr < xen_.crash.start + xen_.crash.size &&
        ph.p_paddr + ph.p_filesz > xen_.crash.start)
      crash_area_dumped = true;
  }
  // Xen's two CPUs, Xen's vmcoreinfo, dom0's vmcoreinfo.
  EXPECT_EQ(notes, (std::vector<uint64_t>{0x3f5fe000, 0x3f5ff000, 0x3f5fd000, 0x3e1c2000}));
  EXPECT_FALSE(crash_area_dumped);
  // The command line names the header's machine address.
  EXPECT_NE(r.out.find("loaded through Xen"), std::string::npos);
}

TEST_F(XenCli, CrashLoadWithoutXensCrashkernelSaysSoNotIomem) {
  xen_.crash = {};
  auto r = run({"-p", kernel_});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("boot Xen, not dom0, with crashkernel="), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/proc/iomem"), std::string::npos) << r.err;
  EXPECT_TRUE(xen_.loads.empty());
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(XenCli, StatusUnloadAndExecAreHypercalls) {
  EXPECT_EQ(run({"-S"}).status, 1);
  EXPECT_EQ(xen_.calls.back(), "status 0");
  xen_.loaded[KEXEC_TYPE_CRASH] = true;
  auto s = run({"-S", "-p"});
  EXPECT_EQ(s.status, 0);
  EXPECT_NE(s.out.find("crash kernel: loaded"), std::string::npos);
  EXPECT_EQ(run({"-u", "-p"}).status, 0);
  EXPECT_EQ(xen_.calls.back(), "unload 1");
  xen_.loaded[KEXEC_TYPE_DEFAULT] = true;
  auto e = run({"-e"});
  EXPECT_EQ(e.status, 1);
  EXPECT_EQ(xen_.calls.back(), "kexec 0");
  EXPECT_TRUE(sys_.calls.empty());
}

TEST_F(XenCli, FileLoadIsRefusedInDom0) {
  auto r = run({"-s", "-l", kernel_});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no kexec_file_load"), std::string::npos) << r.err;
  EXPECT_TRUE(sys_.calls.empty());
  EXPECT_EQ(opened_, 0);
}

TEST_F(XenCli, APvDomUIsRefusedWithOneLineAndTouchesNothing) {
  std::filesystem::remove_all(root_ / "proc/xen");
  testing::write_file(root_ / "sys/hypervisor/type", "xen\n");
  testing::write_file(root_ / "sys/hypervisor/uuid", "5b0ee1d0-3f4e-4b8a-9a55-0d7f6c1b2a33\n");
  testing::write_file(root_ / "sys/hypervisor/guest_type", "PV\n");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-l", kernel_}, {"-p", kernel_}, {"-e"}, {"-u"}, {"-S"}}) {
    auto r = run(args);
    EXPECT_EQ(r.status, 1) << args[0];
    EXPECT_NE(r.err.find("not dom0"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_TRUE(sys_.calls.empty());
  EXPECT_EQ(opened_, 0);
}

}  // namespace
}  // namespace charon::loader
