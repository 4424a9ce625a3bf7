// peak-anon: the peak anonymous memory of a command, for `make bench`'s
// loader figures (charon-kexec and kexec-tools side by side). File-backed
// pages (a mapped initrd in the page cache) are not counted: they are the
// page cache's, shared, and dropped under pressure; anonymous memory is
// what a loader costs a small machine.
//
// Exact, not sampled on a timer: the command runs under ptrace, stopped at
// the entry and the exit of every system call and at its exit, and each
// stop reads "Anonymous:" from /proc/PID/smaps_rollup (a page-table walk,
// not the kernel's approximate RSS counters). Anonymous memory grows in
// page faults, anywhere; it shrinks only inside a system call (munmap,
// brk, madvise, mremap, exit), or by reclaim, which needs swap. So on a
// machine without swap, the largest value seen at the stops is the peak.
// One thread: threads the command starts are not traced.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace charon::loader {

struct AnonTrace {
  uint64_t peak_kib = 0;   // the largest "Anonymous:" seen
  uint64_t first_kib = 0;  // at the first stop that counted
  uint64_t last_kib = 0;   // at the last (its exit)
  uint64_t stops = 0;      // how many stops were read
  int wait_status = 0;     // as waitpid(2) gave it at the end
  std::string error;       // empty, or why the trace failed
};

// Traces `pid`, a child that called PTRACE_TRACEME and then stopped
// itself, until it ends. With `from_exec`, stops before its execve(2)
// returns are not counted (the forked copy of the caller is not the
// command's memory).
AnonTrace trace_anon(pid_t pid, bool from_exec);

// Usage: peak-anon [-o FILE] COMMAND [ARG]...
// Runs COMMAND with the same stdin, stdout and stderr, then writes
// "peak_anon_kib=N stops=M" to FILE (default stderr) and exits with
// COMMAND's status (128 + the signal if one killed it).
int peak_anon_main(int argc, char** argv, FILE* err);

}  // namespace charon::loader
