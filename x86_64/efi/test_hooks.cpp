#include "test_hooks.h"

namespace charon::efi::test {

namespace {
constinit bool g_stale_key = false;
constinit bool g_corrupt_kernel = false;
}  // namespace

void configure(const Config& cfg) {
  g_stale_key = cfg.stale_map_key;
  g_corrupt_kernel = cfg.corrupt_kernel_after_plan;
}

void before_exit_boot_services(int attempt) {
  if (!g_stale_key || attempt != 1) return;
  EFI_PHYSICAL_ADDRESS a = 0;
  if (!EFI_ERROR(BS->AllocatePages(AllocateAnyPages, EfiLoaderData, 1, &a))) BS->FreePages(a, 1);
}

void after_digests(SegmentSet& segs, Console& out) {
  if (!g_corrupt_kernel || segs.n == 0) return;
  Segment& k = segs.seg[0];
  k.src[k.len / 2] ^= 0x01;
  out.printf("charon.efi: test hook: flipped the byte at 0x%lx of the %s\n", k.dest + k.len / 2,
             k.what);
}

}  // namespace charon::efi::test
