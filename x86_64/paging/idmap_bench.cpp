// Page-table memory for an identity map of [0, size), by leaf size and
// paging depth. Every figure comes from really building the tables in an
// arena, and must equal idmap_pages_needed, or the bench fails.
#include <charon/x86/identity_map.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

using charon::x86::IdentityMap;
using charon::x86::MapPolicy;
using charon::x86::MapStatus;
using charon::x86::TableArena;

constexpr uint64_t GiB = uint64_t{1} << 30;

struct Built {
  size_t pages;
  double microseconds;
};

// Builds the map in an arena of exactly the predicted size; exits on any
// disagreement, since a wrong prediction would break the loader.
Built build(uint64_t size, MapPolicy policy) {
  const charon_region range{0, size};
  const size_t need = charon::x86::idmap_pages_needed(&range, 1, policy);
  std::unique_ptr<uint8_t, decltype(&std::free)> buf(
      static_cast<uint8_t*>(std::aligned_alloc(4096, need * 4096)), &std::free);
  // Best of five: the first build also pays for faulting the buffer in.
  TableArena arena{};
  MapStatus s = MapStatus::Ok;
  double best = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    arena = {0x100000, buf.get(), need, 0};
    IdentityMap map(arena, policy);
    const auto t0 = std::chrono::steady_clock::now();
    s = map.map(0, size);
    const auto t1 = std::chrono::steady_clock::now();
    const double us = std::chrono::duration<double, std::micro>(t1 - t0).count();
    if (us < best) best = us;
  }
  if (s != MapStatus::Ok || arena.used != need) {
    std::fprintf(stderr, "idmap_bench: %s, used %zu pages, predicted %zu\n",
                 charon::x86::map_status_name(s), arena.used, need);
    std::exit(1);
  }
  return {need, best};
}

void print_bytes(size_t pages) {
  const size_t kib = pages * 4;
  if (kib >= 1024 && kib % 1024 == 0)
    std::printf(" %11zu MiB", kib / 1024);
  else
    std::printf(" %11zu KiB", kib);
}

}  // namespace

int main() {
  const MapPolicy columns[] = {{true, false}, {false, false}, {true, true}, {false, true}};
  std::printf("identity map of [0, size): page-table memory, checked against idmap_pages_needed\n");
  std::printf("%-8s %15s %15s %15s %15s %16s\n", "size", "1G 4-level", "2M 4-level", "1G 5-level",
              "2M 5-level", "build 2M 4-lvl");
  for (uint64_t size : {4 * GiB, 64 * GiB, 1024 * GiB}) {
    std::printf("%-8s", size == 1024 * GiB ? "1 TiB" : size == 64 * GiB ? "64 GiB" : "4 GiB");
    double us = 0;
    for (const MapPolicy& p : columns) {
      const Built b = build(size, p);
      print_bytes(b.pages);
      if (!p.gbpages && !p.la57) us = b.microseconds;
    }
    std::printf(" %13.1f us\n", us);
  }
  return 0;
}
