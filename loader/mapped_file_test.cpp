// Zero-copy loading: the kernel and the initrd are mapped, hashed in place
// and handed to kexec_load as the mapped pages; kexec_file_load never reads
// them; and a file that shrinks or changes underneath is one clear error,
// never a SIGBUS or a digest over bytes the file no longer holds.
#include <charon/loader/cli.h>
#include <charon/loader/image.h>
#include <charon/loader/kexec_sys.h>
#include <charon/loader/mapped_file.h>
#include <charon/sha256.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "testdata/fake_kexec_sys.h"
#include "testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kM = 1ull << 20;

// Which file a user address is mapped from, and at what offset, from
// /proc/self/maps: "PATH@OFFSET", or "" for memory no file backs.
std::string mapping_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    const size_t dash = range.find('-');
    const uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (a < start || a >= end) continue;
    if (inode == "0") return "";
    return path + "@" + std::to_string(std::stoull(offset, nullptr, 16) + (a - start));
  }
  return "";
}

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// SHA-256 over bytes read with read(2), by the scalar code: nothing in
// common with the mapped, SHA-NI path but the definition.
std::vector<uint8_t> digest_of_file(const std::string& path) {
  const std::vector<uint8_t> b = testing::read_bytes(path);
  Sha256 s;
  sha256_init(s, Sha256Impl::Scalar);
  sha256_update(s, b.data(), b.size());
  std::vector<uint8_t> d(32);
  sha256_final(s, d.data());
  return d;
}

std::shared_ptr<const MappedFile> map(const std::string& path, const char* what) {
  auto f = MappedFile::open(path, what, UINT64_MAX);
  EXPECT_TRUE(f.ok()) << f.error();
  return f.ok() ? *f : nullptr;
}

class Mapped : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel_ = (tmp_.path() / "bzImage").string();
    testing::write_bytes(kernel_, testing::make_bzimage({}));
    initrd_ = (tmp_.path() / "initrd").string();
    testing::write_bytes(initrd_, random_bytes(3 * kM + 123, 3));
    purgatory_ = testing::read_bytes(CHARON_REAL_PURGATORY);
    sys_.memory = testing::qemu_map(512 * kM, 0);
  }

  LoadRequest request() {
    LoadRequest r;
    r.kernel = Bytes(map(kernel_, "kernel"));
    r.kernel_name = kernel_;
    r.initrd = Bytes(map(initrd_, "initrd"));
    r.initrd_name = initrd_;
    r.cmdline = "console=ttyS0";
    r.purgatory = purgatory_;
    r.purgatory_name = "purgatory.ro";
    r.rng_seed.assign(kRngSeedBytes, 0x11);
    return r;
  }

  static const Segment& seg(const KexecImage& img, const char* what) {
    for (const Segment& s : img.segments)
      if (s.what == what) return s;
    ADD_FAILURE() << "no segment " << what;
    return img.segments.front();
  }

  testing::TempDir tmp_;
  std::string kernel_, initrd_;
  std::vector<uint8_t> purgatory_;
  SystemInfo sys_;
};

TEST_F(Mapped, KernelAndInitrdSegmentsAreViewsOfTheMappingsNotCopies) {
  const LoadRequest req = request();
  auto img = build_kexec_image(req, sys_);
  ASSERT_TRUE(img.ok()) << img.error();
  const Segment& initrd = seg(*img, "initrd");
  const Segment& kernel = seg(*img, "kernel");
  EXPECT_EQ(initrd.data.data(), req.initrd->data());
  EXPECT_EQ(initrd.data.size(), req.initrd->size());
  EXPECT_EQ(kernel.data.data(), req.kernel.data() + img->kernel.payload_offset);
  EXPECT_EQ(kernel.data.size(), img->kernel.payload_size);
  // And the kernel's own view agrees: the bytes are the files' pages.
  EXPECT_EQ(mapping_of(initrd.data.data()), initrd_ + "@0");
  EXPECT_EQ(mapping_of(kernel.data.data()),
            kernel_ + "@" + std::to_string(img->kernel.payload_offset));
  EXPECT_EQ(mapping_of(seg(*img, "boot_params + cmdline").data.data()), "")
      << "boot_params is built in memory";
}

TEST_F(Mapped, TheDigestIsTheDigestOfTheFileBytes) {
  auto img = build_kexec_image(request(), sys_);
  ASSERT_TRUE(img.ok()) << img.error();
  const charon_params& p = img->params;
  int at = -1;
  for (int i = 0; i < CHARON_MAX_REGIONS; ++i)
    if (p.regions[i].start == seg(*img, "initrd").mem) at = i;
  ASSERT_GE(at, 0) << "the initrd is a digest region";
  EXPECT_EQ(p.regions[at].len, 3 * kM + 123);
  // Its own digest: with SHA-NI (which the loader uses where CPUID has it);
  // the scalar code takes none for a region this large.
  if (sha256_choose(CpuFeatures::detect(), true) == Sha256Impl::ShaNi)
    EXPECT_EQ(std::vector<uint8_t>(p.region_digests[at], p.region_digests[at] + 32),
              digest_of_file(initrd_));

  // The combined digest over the regions in order, with the files' parts
  // read with read(2) and hashed by the scalar code.
  const std::vector<uint8_t> kfile = testing::read_bytes(kernel_),
                             ifile = testing::read_bytes(initrd_);
  Sha256 all;
  sha256_init(all, Sha256Impl::Scalar);
  for (const charon_region& r : p.regions) {
    if (!r.len) continue;
    if (r.start == seg(*img, "initrd").mem) {
      sha256_update(all, ifile.data(), ifile.size());
    } else if (r.start == seg(*img, "kernel").mem) {
      sha256_update(all, kfile.data() + img->kernel.payload_offset, img->kernel.payload_size);
    } else {
      for (const Segment& s : img->segments)
        if (s.mem == r.start) sha256_update(all, s.data.data(), s.data.size());
    }
  }
  uint8_t want[32];
  sha256_final(all, want);
  EXPECT_EQ(std::memcmp(p.digest, want, 32), 0);

  // The whole image the same as one built from buffers read with read(2).
  LoadRequest copied = request();
  copied.kernel = testing::read_bytes(kernel_);
  copied.initrd = testing::read_bytes(initrd_);
  auto ref = build_kexec_image(copied, sys_);
  ASSERT_TRUE(ref.ok()) << ref.error();
  EXPECT_EQ(std::memcmp(p.digest, ref->params.digest, 32), 0);
  EXPECT_EQ(std::memcmp(p.region_digests, ref->params.region_digests, sizeof p.region_digests), 0);
}

TEST_F(Mapped, KexecLoadIsHandedTheMappedPages) {
  // A kernel that looks at the buffers while the call runs.
  struct Sys final : KexecSys {
    std::vector<std::string> where;
    std::vector<size_t> sizes;
    int kexec_load(uint64_t, std::span<const kexec_segment_abi> segs, unsigned long) override {
      for (const auto& s : segs) {
        where.push_back(s.buf ? mapping_of(s.buf) : "none");
        sizes.push_back(s.bufsz);
      }
      return 0;
    }
    int kexec_file_load(int, int, const char*, size_t, unsigned long) override { return ENOSYS; }
    int reboot_kexec() override { return EINVAL; }
    void sync() override {}
  } sys;
  testing::TempDir root;
  testing::write_file(root.path() / "proc/iomem", testing::qemu_iomem(512 * kM, 0));
  auto r = testing::run_tool(
      "charon-kexec", {"-c", "-l", kernel_, "--initrd=" + initrd_, "--append=quiet"},
      [&](int argc, char** argv, FILE* fo, FILE* fe) {
        return run_cli(argc, argv, CliEnv{&sys, root.path().string(), purgatory_, fo, fe});
      });
  ASSERT_EQ(r.status, 0) << r.err;
  int from_initrd = 0, from_kernel = 0;
  for (size_t i = 0; i < sys.where.size(); ++i) {
    if (sys.where[i] == initrd_ + "@0") {
      ++from_initrd;
      EXPECT_EQ(sys.sizes[i], 3 * kM + 123);
    }
    if (sys.where[i].rfind(kernel_ + "@", 0) == 0) ++from_kernel;
  }
  EXPECT_EQ(from_initrd, 1) << "the initrd segment's buffer is the mapped initrd";
  EXPECT_EQ(from_kernel, 1) << "the kernel segment's buffer is the mapped bzImage";
}

// Pages of `path` in the page cache now (mincore over a fresh mapping,
// which itself reads nothing).
size_t resident_pages(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  struct stat st {};
  fstat(fd, &st);
  const size_t len = static_cast<size_t>(st.st_size);
  void* m = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
  std::vector<unsigned char> vec((len + 4095) / 4096);
  const int rc = mincore(m, len, vec.data());
  munmap(m, len);
  close(fd);
  EXPECT_EQ(rc, 0);
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

// Out of the page cache: written back, then dropped.
bool evict(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  return resident_pages(path) == 0;
}

TEST_F(Mapped, KexecFileLoadLeavesTheInitrdUnread) {
  testing::write_bytes(initrd_, random_bytes(4 * kM, 4));
  if (!evict(initrd_))
    GTEST_SKIP() << "the temporary directory's file system keeps pages in memory (tmpfs?), so "
                    "what was read cannot be told";
  testing::TempDir root;
  testing::write_file(root.path() / "proc/iomem", testing::qemu_iomem(512 * kM, 0));
  testing::FakeKexecSys sys;
  auto cli = [&](std::vector<std::string> args) {
    return testing::run_tool(
        "charon-kexec", std::move(args), [&](int argc, char** argv, FILE* fo, FILE* fe) {
          return run_cli(argc, argv, CliEnv{&sys, root.path().string(), purgatory_, fo, fe});
        });
  };
  for (const char* call : {"-s", "-a"}) {
    auto r = cli({call, "-l", kernel_, "--initrd=" + initrd_, "--append=quiet"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(resident_pages(initrd_), 0u) << call << ": kexec_file_load reads the file itself";
  }
  ASSERT_EQ(sys.file_loads.size(), 2u);
  EXPECT_TRUE(sys.file_loads[0].initrd_open);
  // The control: the kexec_load path does read (and hash) every page.
  auto r = cli({"-c", "-l", kernel_, "--initrd=" + initrd_, "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(resident_pages(initrd_), 4 * kM / 4096);
}

TEST_F(Mapped, AFileThatShrinksReadsAsZerosAndIsNamedNotASignal) {
  auto f = map(initrd_, "initrd");
  const volatile uint8_t* p = f->bytes().data();
  const uint8_t before = p[100];
  ASSERT_EQ(truncate(initrd_.c_str(), 1 * kM), 0);
  // Past the new end: without the guard, SIGBUS kills the test here.
  EXPECT_EQ(p[2 * kM], 0);
  EXPECT_EQ(p[100], before) << "pages still in the file are still the file's";
  const Status st = f->check_unchanged();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "initrd " + initrd_ + ": the file shrank from " +
                            std::to_string(3 * kM + 123) + " to " + std::to_string(1 * kM) +
                            " bytes while it was being loaded");
}

TEST_F(Mapped, AnInitrdTruncatedBeforeItIsHashedIsOneClearError) {
  const LoadRequest req = request();
  ASSERT_EQ(truncate(initrd_.c_str(), 2 * kM), 0);
  auto img = build_kexec_image(req, sys_);
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("initrd " + initrd_ + ": the file shrank"), std::string::npos)
      << img.error();
  EXPECT_EQ(img.error().find('\n'), std::string::npos);
}

TEST_F(Mapped, AKernelTruncatedBeforeItIsParsedIsNamedAsShrunk) {
  const LoadRequest req = request();
  ASSERT_EQ(truncate(kernel_.c_str(), 0), 0);
  auto img = build_kexec_image(req, sys_);
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("kernel " + kernel_ + ": the file shrank"), std::string::npos)
      << img.error();
}

TEST_F(Mapped, AFileChangedAfterItsDigestIsRefusedBeforeKexecLoad) {
  auto img = build_kexec_image(request(), sys_);
  ASSERT_TRUE(img.ok()) << img.error();
  {
    std::fstream f(initrd_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('!');
  }
  testing::FakeKexecSys sys;
  testing::TempDir root;
  const Status st = kexec_load_image(sys, *img, false, root.path().string());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "initrd " + initrd_ + ": the file changed while it was being loaded");
  EXPECT_TRUE(sys.calls.empty()) << "kexec_load never called";
}

// The kernel's copy can race with a truncate: an EFAULT then names the
// file, and a load that went through with the file changed is undone.
TEST_F(Mapped, AFileThatShrinksDuringKexecLoadIsNamedAndNothingStaysLoaded) {
  struct Sys final : KexecSys {
    std::string path;
    int answer = 0;
    std::vector<size_t> nsegs;
    int kexec_load(uint64_t, std::span<const kexec_segment_abi> segs, unsigned long) override {
      nsegs.push_back(segs.size());
      if (segs.size()) EXPECT_EQ(truncate(path.c_str(), 4096), 0);
      return segs.empty() ? 0 : answer;
    }
    int kexec_file_load(int, int, const char*, size_t, unsigned long) override { return ENOSYS; }
    int reboot_kexec() override { return EINVAL; }
    void sync() override {}
  };
  testing::TempDir root;
  for (int answer : {EFAULT, 0}) {
    testing::write_bytes(initrd_, random_bytes(3 * kM + 123, 3));  // as it was hashed
    auto fresh = build_kexec_image(request(), sys_);
    ASSERT_TRUE(fresh.ok()) << fresh.error();
    Sys sys;
    sys.path = initrd_;
    sys.answer = answer;
    const Status st = kexec_load_image(sys, *fresh, false, root.path().string());
    ASSERT_FALSE(st.ok()) << "answer " << answer;
    EXPECT_NE(st.error().find("initrd " + initrd_ + ": the file shrank"), std::string::npos)
        << st.error();
    if (answer == 0) {
      ASSERT_EQ(sys.nsegs.size(), 2u) << "loaded, then unloaded";
      EXPECT_EQ(sys.nsegs[1], 0u);
      EXPECT_NE(st.error().find("; unloaded"), std::string::npos) << st.error();
    } else {
      EXPECT_EQ(sys.nsegs.size(), 1u);
    }
  }
}

TEST(MappedFile, InputsThatCannotBeMappedAreOneClearError) {
  testing::TempDir t;
  const std::string dir = t.path().string(), fifo = (t.path() / "fifo").string(),
                    empty = (t.path() / "empty").string(), big = (t.path() / "big").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  testing::write_file(empty, "");
  testing::write_bytes(big, std::vector<uint8_t>(8192, 1));
  struct Case {
    std::string path, want;
  };
  for (const Case& c : {Case{dir + "/missing", "initrd " + dir + "/missing: cannot open: "},
                        Case{dir, "initrd " + dir + ": is a directory"},
                        Case{fifo, "initrd " + fifo + ": not a regular file"},
                        Case{big, "initrd " + big + ": 8192 bytes is larger than the"}}) {
    // O_RDONLY on a FIFO waits for a writer; the test must not.
    const int keep = c.path == fifo ? open(fifo.c_str(), O_RDWR | O_NONBLOCK) : -1;
    auto f = MappedFile::open(c.path, "initrd", 4096);
    if (keep >= 0) close(keep);
    ASSERT_FALSE(f.ok()) << c.path;
    EXPECT_EQ(f.error().rfind(c.want, 0), 0u) << f.error();
    EXPECT_EQ(f.error().find('\n'), std::string::npos);
  }
  auto e = MappedFile::open(empty, "initrd", 4096);
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_TRUE((*e)->bytes().empty()) << "an empty file is no bytes, for the caller to judge";
}

}  // namespace
}  // namespace charon::loader
