// peak-anon: see peak_anon.h for what it measures and why the measure is
// exact.
#include "peak_anon.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace charon::loader {

namespace {

// "Anonymous:    1234 kB" from smaps_rollup; false if it cannot be read
// (the process is gone).
bool read_anon_kib(pid_t pid, uint64_t& kib) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (f >> key) {
    if (key == "Anonymous:" && f >> value >> unit) {
      kib = value;
      return true;
    }
    std::getline(f, unit);  // the rest of a line we do not need
  }
  return false;
}

}  // namespace

AnonTrace trace_anon(pid_t pid, bool from_exec) {
  AnonTrace t;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
    t.error = "the child did not stop for the tracer";
    t.wait_status = status;
    return t;
  }
  // EXITKILL: if the tracer dies, so does the command (no stray tracee).
  const long opts =
      PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void*>(opts)) != 0) {
    t.error = std::string("PTRACE_SETOPTIONS: ") + std::strerror(errno);
    kill(pid, SIGKILL);
    waitpid(pid, &t.wait_status, 0);
    return t;
  }
  bool counting = !from_exec;
  auto sample = [&] {
    uint64_t kib = 0;
    if (!counting || !read_anon_kib(pid, kib)) return;
    if (t.stops++ == 0) t.first_kib = kib;
    t.last_kib = kib;
    if (kib > t.peak_kib) t.peak_kib = kib;
  };
  sample();
  int inject = 0;
  for (;;) {
    if (ptrace(PTRACE_SYSCALL, pid, nullptr, reinterpret_cast<void*>(intptr_t{inject})) != 0 &&
        errno != ESRCH) {
      t.error = std::string("PTRACE_SYSCALL: ") + std::strerror(errno);
      kill(pid, SIGKILL);
    }
    inject = 0;
    if (waitpid(pid, &status, __WALL) != pid) {
      t.error = std::string("waitpid: ") + std::strerror(errno);
      return t;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    if (!WIFSTOPPED(status)) continue;
    const int sig = WSTOPSIG(status), event = status >> 16;
    if (sig == (SIGTRAP | 0x80)) {
      sample();  // a system call's entry or exit
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
      counting = true;  // the command's own image from here on
      sample();
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
      sample();  // its memory as it exits, before the kernel frees it
    } else if (event == 0) {
      inject = sig;  // a signal for the command: deliver it
    }
  }
  t.wait_status = status;
  return t;
}

int peak_anon_main(int argc, char** argv, FILE* err) {
  int first = 1;
  const char* out_path = nullptr;
  if (argc > 2 && std::strcmp(argv[1], "-o") == 0) {
    out_path = argv[2];
    first = 3;
  }
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::fputs("usage: peak-anon [-o FILE] COMMAND [ARG]...\n", err);
    return 2;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(err, "peak-anon: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    execvp(argv[first], argv + first);
    std::fprintf(stderr, "peak-anon: %s: %s\n", argv[first], std::strerror(errno));
    _exit(127);
  }
  const AnonTrace t = trace_anon(pid, true);
  if (!t.error.empty()) {
    std::fprintf(err, "peak-anon: %s\n", t.error.c_str());
    return 1;
  }
  FILE* out = out_path ? std::fopen(out_path, "w") : err;
  if (!out) {
    std::fprintf(err, "peak-anon: %s: %s\n", out_path, std::strerror(errno));
    return 1;
  }
  std::fprintf(out, "peak_anon_kib=%llu stops=%llu\n", static_cast<unsigned long long>(t.peak_kib),
               static_cast<unsigned long long>(t.stops));
  if (out != err) std::fclose(out);
  if (WIFSIGNALED(t.wait_status)) return 128 + WTERMSIG(t.wait_status);
  return WEXITSTATUS(t.wait_status);
}

}  // namespace charon::loader
