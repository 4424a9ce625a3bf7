// peak-anon on a child whose anonymous memory rises and falls: the figure
// must be the high point, not what is left at exit, and the command's exit
// status must come through.
#include "peak_anon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <cstring>

#include "../testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kMiB = 1024;  // in KiB

// Touches `mib` MiB of fresh anonymous memory and returns it.
void* touch(size_t mib) {
  void* p = mmap(nullptr, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) _exit(90);
  std::memset(p, 0x5a, mib << 20);
  return p;
}

TEST(PeakAnon, ThePeakIsTheHighPointNotWhatIsLeftAtExit) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    void* big = touch(48);
    munmap(big, 48 << 20);
    touch(8);
    _exit(7);
  }
  const AnonTrace t = trace_anon(pid, false);
  ASSERT_EQ(t.error, "");
  ASSERT_TRUE(WIFEXITED(t.wait_status));
  EXPECT_EQ(WEXITSTATUS(t.wait_status), 7);
  EXPECT_GE(t.peak_kib, t.first_kib + 48 * kMiB) << "the 48 MiB that was touched, then unmapped";
  EXPECT_LT(t.peak_kib, t.first_kib + 64 * kMiB);
  EXPECT_GE(t.last_kib, t.first_kib + 8 * kMiB) << "the 8 MiB still held at exit";
  EXPECT_LT(t.last_kib, t.first_kib + 16 * kMiB);
  EXPECT_GT(t.stops, 4u);
}

TEST(PeakAnon, RunsTheCommandAndPassesItsStatusOn) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "peak").string();
  auto r = testing::run_tool(
      "peak-anon", {"-o", out, "/bin/sh", "-c", "exit 3"},
      [](int argc, char** argv, FILE*, FILE* err) { return peak_anon_main(argc, argv, err); });
  EXPECT_EQ(r.status, 3) << r.err;
  std::ifstream f(out);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line.rfind("peak_anon_kib=", 0), 0u) << line;
  EXPECT_NE(line.find(" stops="), std::string::npos) << line;
}

}  // namespace
}  // namespace charon::loader
