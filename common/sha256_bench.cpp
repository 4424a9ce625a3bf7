// `make bench`: SHA-256 throughput of charon's scalar and SHA-NI block
// functions next to OpenSSL's default path and its integer-only path, over
// one 256 MiB buffer, median of several runs each.
//
// OpenSSL reads OPENSSL_ia32cap once, when libcrypto initialises, so the
// integer-only figure comes from a child: this binary re-executed with
// OPENSSL_ia32cap=0:0 (every CPUID.1 and CPUID.7 feature bit cleared,
// which leaves the plain x86_64 code), reporting back through a pipe.
//
// Each ratio compares two figures measured in alternation in one process
// (SHA-NI with OpenSSL default here, scalar with OpenSSL integer in the
// child), so a burst of load from elsewhere on a shared machine slows
// both sides of a ratio, not one.
#include <charon/cpuid.h>
#include <charon/sha256.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace {

constexpr size_t kBytes = size_t{256} << 20;
constexpr int kRuns = 7;
constexpr const char* kChildArg = "--openssl-integer-child";

using HashFn = void (*)(const uint8_t* p, size_t n, uint8_t out[32]);

double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

[[noreturn]] void die(const char* what) {
  fprintf(stderr, "sha256_bench: %s\n", what);
  exit(1);
}

// Median MB/s (10^6 bytes per second) of kRuns hashes of `buf` by each of
// `a` and `b`, taking turns. Every digest must equal `want`, so a broken
// path cannot post a figure.
void median_pair(const std::vector<uint8_t>& buf, const uint8_t want[32], HashFn a, HashFn b,
                 double* mbps_a, double* mbps_b) {
  std::vector<double> rates[2];
  const HashFn fns[2] = {a, b};
  for (int r = 0; r < kRuns; ++r) {
    for (int i = 0; i < 2; ++i) {
      uint8_t out[32];
      const double t0 = now();
      fns[i](buf.data(), buf.size(), out);
      const double t1 = now();
      if (memcmp(out, want, 32) != 0) die("a digest differs from OpenSSL's");
      rates[i].push_back(static_cast<double>(buf.size()) / 1e6 / (t1 - t0));
    }
  }
  for (auto& v : rates) std::sort(v.begin(), v.end());
  *mbps_a = rates[0][kRuns / 2];
  *mbps_b = rates[1][kRuns / 2];
}

void charon_hash(charon::Sha256Impl impl, const uint8_t* p, size_t n, uint8_t out[32]) {
  charon::Sha256 s;
  charon::sha256_init(s, impl);
  charon::sha256_update(s, p, n);
  charon::sha256_final(s, out);
}

void charon_scalar(const uint8_t* p, size_t n, uint8_t out[32]) {
  charon_hash(charon::Sha256Impl::Scalar, p, n, out);
}

void charon_shani(const uint8_t* p, size_t n, uint8_t out[32]) {
  charon_hash(charon::Sha256Impl::ShaNi, p, n, out);
}

void openssl_hash(const uint8_t* p, size_t n, uint8_t out[32]) {
  unsigned len = 0;
  if (!EVP_Digest(p, n, out, &len, EVP_sha256(), nullptr) || len != 32) die("EVP_Digest failed");
}

std::vector<uint8_t> make_buffer() {
  std::vector<uint8_t> buf(kBytes);
  uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift64: cheap, and not all zeros
  for (auto& b : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return buf;
}

// The child, under OPENSSL_ia32cap=0:0: charon scalar and OpenSSL integer,
// printed as "SCALAR OPENSSL" MB/s to stdout (the pipe).
int child_main() {
  const std::vector<uint8_t> buf = make_buffer();
  uint8_t want[32];
  openssl_hash(buf.data(), buf.size(), want);
  double scalar, ossl_int;
  median_pair(buf, want, charon_scalar, openssl_hash, &scalar, &ossl_int);
  printf("%.1f %.1f\n", scalar, ossl_int);
  return 0;
}

// Runs the child; false if it failed. Its digests were checked against
// its own OpenSSL, so a wrong integer path would have failed it.
bool run_integer_child(double* scalar, double* ossl_int) {
  int fd[2];
  if (pipe(fd) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(fd[1], STDOUT_FILENO);
    close(fd[0]);
    close(fd[1]);
    setenv("OPENSSL_ia32cap", "0:0", 1);
    execl("/proc/self/exe", "sha256_bench", kChildArg, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fd[1]);
  char text[128] = {};
  size_t got = 0;
  for (ssize_t n;
       got < sizeof text - 1 && (n = read(fd[0], text + got, sizeof text - 1 - got)) > 0;)
    got += static_cast<size_t>(n);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  return sscanf(text, "%lf %lf", scalar, ossl_int) == 2;
}

void cpu_model(char* out, size_t size) {
  snprintf(out, size, "unknown");
  FILE* f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    if (const char* v = strchr(line, ':')) snprintf(out, size, "%s", v + 1 + strspn(v + 1, " \t"));
    out[strcspn(out, "\n")] = 0;
    break;
  }
  fclose(f);
}

void row(const char* name, double mbps) {
  if (mbps > 0)
    printf("  %-32s %8.0f\n", name, mbps);
  else
    printf("  %-32s %8s\n", name, "n/a");
}

void ratio(const char* name, double num, double den, double target) {
  if (num > 0 && den > 0) {
    const double r = num / den;
    printf("  %-36s %5.3f  target >= %.2f  %s\n", name, r, target, r >= target ? "met" : "MISSED");
  } else {
    printf("  %-36s   n/a  target >= %.2f  not measured\n", name, target);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], kChildArg) == 0) return child_main();

  const charon::CpuFeatures cpu = charon::CpuFeatures::detect();
  const bool shani = charon::sha256_choose(cpu, true) == charon::Sha256Impl::ShaNi;

  double ni = 0, ossl = 0;
  {
    const std::vector<uint8_t> buf = make_buffer();
    uint8_t want[32];
    openssl_hash(buf.data(), buf.size(), want);
    if (shani) {
      median_pair(buf, want, charon_shani, openssl_hash, &ni, &ossl);
    } else {
      double unused;
      median_pair(buf, want, charon_scalar, openssl_hash, &unused, &ossl);
    }
  }  // the buffer is freed before the child makes its own
  double scalar = 0, ossl_int = 0;
  if (!run_integer_child(&scalar, &ossl_int)) die("the OPENSSL_ia32cap=0:0 child failed");

  char model[256], date[64];
  cpu_model(model, sizeof model);
  const time_t t = time(nullptr);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));

  printf("SHA-256 over one %zu MiB buffer, MB/s = 10^6 bytes/s, median of %d runs\n", kBytes >> 20,
         kRuns);
  printf("CPU: %s (SHA-NI %s)\nDate: %s\n\n", model, shani ? "yes" : "no", date);
  row("charon scalar", scalar);
  row("charon SHA-NI", ni);
  row("OpenSSL default (EVP)", ossl);
  row("OpenSSL integer (ia32cap=0:0)", ossl_int);
  printf("\n");
  // A missed target is reported, not fatal: figures wobble on a shared
  // machine, and `make bench` should still run its other steps.
  ratio("charon SHA-NI / OpenSSL default", ni, ossl, 0.95);
  ratio("charon scalar / OpenSSL integer", scalar, ossl_int, 0.90);
  return 0;
}
