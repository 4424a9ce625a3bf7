// `make bench`: SHA-256 throughput of charon's scalar and SHA-NI block
// functions next to OpenSSL's default path and its integer-only path, over
// one 256 MiB buffer, median of several runs each.
//
// OpenSSL reads OPENSSL_ia32cap once, when libcrypto initialises, so the
// integer-only figure comes from a child: this binary re-executed with
// OPENSSL_ia32cap=0:0 (every CPUID.1 and CPUID.7 feature bit cleared,
// which leaves the plain x86_64 code), reporting back through a pipe.
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
constexpr const char* kChildArg = "--openssl-child";

double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Median MB/s (10^6 bytes per second) of kRuns hashes of `buf`; every
// digest must equal the first, so a broken path cannot post a figure.
template <typename Hash>
double median_mbps(const std::vector<uint8_t>& buf, Hash hash) {
  std::vector<double> rates;
  uint8_t first[32], out[32];
  for (int r = 0; r < kRuns; ++r) {
    const double t0 = now();
    hash(buf.data(), buf.size(), r == 0 ? first : out);
    const double t1 = now();
    if (r && memcmp(first, out, 32) != 0) {
      fprintf(stderr, "sha256_bench: digest changed between runs\n");
      exit(1);
    }
    rates.push_back(static_cast<double>(buf.size()) / 1e6 / (t1 - t0));
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

void charon_hash(charon::Sha256Impl impl, const uint8_t* p, size_t n, uint8_t out[32]) {
  charon::Sha256 s;
  charon::sha256_init(s, impl);
  charon::sha256_update(s, p, n);
  charon::sha256_final(s, out);
}

void openssl_hash(const uint8_t* p, size_t n, uint8_t out[32]) {
  unsigned len = 0;
  if (!EVP_Digest(p, n, out, &len, EVP_sha256(), nullptr) || len != 32) {
    fprintf(stderr, "sha256_bench: EVP_Digest failed\n");
    exit(1);
  }
}

std::vector<uint8_t> make_buffer() {
  std::vector<uint8_t> buf(kBytes);
  uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift64: cheap, not all zeros
  for (auto& b : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return buf;
}

// The child: OpenSSL only, figure and digest printed to stdout (the pipe).
int child_main() {
  const std::vector<uint8_t> buf = make_buffer();
  uint8_t d[32];
  openssl_hash(buf.data(), buf.size(), d);
  printf("%.1f", median_mbps(buf, openssl_hash));
  for (uint8_t b : d) printf(" %02x", b);
  printf("\n");
  return 0;
}

// Runs this binary again under OPENSSL_ia32cap=0:0; returns its MB/s and
// the digest it computed, or -1 if it failed.
double openssl_integer_only(uint8_t digest[32]) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(fd[1], STDOUT_FILENO);
    close(fd[0]);
    close(fd[1]);
    setenv("OPENSSL_ia32cap", "0:0", 1);
    execl("/proc/self/exe", "sha256_bench", kChildArg, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fd[1]);
  char text[256] = {};
  size_t got = 0;
  for (ssize_t n;
       got < sizeof text - 1 && (n = read(fd[0], text + got, sizeof text - 1 - got)) > 0;)
    got += static_cast<size_t>(n);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  double mbps = -1;
  int used = 0;
  if (sscanf(text, "%lf%n", &mbps, &used) != 1) return -1;
  for (int i = 0; i < 32; ++i) {
    unsigned v;
    int more = 0;
    if (sscanf(text + used, " %2x%n", &v, &more) != 1) return -1;
    digest[i] = static_cast<uint8_t>(v);
    used += more;
  }
  return mbps;
}

void cpu_model(char* out, size_t size) {
  snprintf(out, size, "unknown");
  FILE* f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    const char* v = strchr(line, ':');
    if (v) snprintf(out, size, "%s", v + 2 + strspn(v + 2, " "));
    out[strcspn(out, "\n")] = 0;
    break;
  }
  fclose(f);
}

const char* verdict(double ratio, double target) {
  return ratio >= target ? "met" : "MISSED";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], kChildArg) == 0) return child_main();

  const charon::CpuFeatures cpu = charon::CpuFeatures::detect();
  const bool shani = charon::sha256_choose(cpu, true) == charon::Sha256Impl::ShaNi;
  const std::vector<uint8_t> buf = make_buffer();

  uint8_t want[32], got[32];
  openssl_hash(buf.data(), buf.size(), want);
  charon_hash(charon::Sha256Impl::Scalar, buf.data(), buf.size(), got);
  if (memcmp(want, got, 32) != 0) return fprintf(stderr, "sha256_bench: scalar digest wrong\n"), 1;
  if (shani) {
    charon_hash(charon::Sha256Impl::ShaNi, buf.data(), buf.size(), got);
    if (memcmp(want, got, 32) != 0)
      return fprintf(stderr, "sha256_bench: SHA-NI digest wrong\n"), 1;
  }

  const double scalar = median_mbps(buf, [](const uint8_t* p, size_t n, uint8_t* out) {
    charon_hash(charon::Sha256Impl::Scalar, p, n, out);
  });
  const double ni = shani ? median_mbps(buf,
                                        [](const uint8_t* p, size_t n, uint8_t* out) {
                                          charon_hash(charon::Sha256Impl::ShaNi, p, n, out);
                                        })
                          : 0;
  const double ossl = median_mbps(buf, openssl_hash);
  uint8_t child_digest[32];
  const double ossl_int = openssl_integer_only(child_digest);
  if (ossl_int > 0 && memcmp(child_digest, want, 32) != 0)
    return fprintf(stderr, "sha256_bench: integer-only OpenSSL digest differs\n"), 1;

  char model[256], date[64];
  cpu_model(model, sizeof model);
  const time_t t = time(nullptr);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));

  printf("SHA-256 over %zu MiB, median of %d runs\n", kBytes >> 20, kRuns);
  printf("CPU: %s (sha_ni %s)\nDate: %s\n\n", model, cpu.sha ? "yes" : "no", date);
  printf("  %-34s %10s\n", "implementation", "MB/s");
  printf("  %-34s %10.0f\n", "charon scalar", scalar);
  if (shani)
    printf("  %-34s %10.0f\n", "charon SHA-NI", ni);
  else
    printf("  %-34s %10s\n", "charon SHA-NI", "no SHA-NI");
  printf("  %-34s %10.0f\n", "OpenSSL default (EVP)", ossl);
  if (ossl_int > 0)
    printf("  %-34s %10.0f\n", "OpenSSL integer (ia32cap=0:0)", ossl_int);
  else
    printf("  %-34s %10s\n", "OpenSSL integer (ia32cap=0:0)", "failed");
  printf("\n");

  // A missed target is reported, not fatal: figures wobble on a shared
  // machine, and `make bench` should still run the other steps.
  if (shani) {
    const double r = ni / ossl;
    printf("  charon SHA-NI / OpenSSL default  %5.3f  target >= 0.95  %s\n", r, verdict(r, 0.95));
  } else {
    printf("  charon SHA-NI / OpenSSL default    -    target >= 0.95  not measured (no SHA-NI)\n");
  }
  if (ossl_int > 0) {
    const double r = scalar / ossl_int;
    printf("  charon scalar / OpenSSL integer  %5.3f  target >= 0.90  %s\n", r, verdict(r, 0.90));
  } else {
    printf("  charon scalar / OpenSSL integer    -    target >= 0.90  not measured\n");
  }
  return 0;
}
