// libFuzzer: the bzImage header checks, then boot_params building over
// whatever the checks let through.
#include <charon/loader/bzimage.h>
#include <charon/loader/setup_segment.h>

#include <cstdlib>

using namespace charon::loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> f(data, size);
  for (EntryMode mode : {EntryMode::k64, EntryMode::k32}) {
    auto k = parse_bzimage(f, mode);
    if (!k) {
      if (k.error().empty()) std::abort();
      continue;
    }
    // What the parser accepted must be self-consistent.
    if (k->payload_offset + k->payload_size != size) std::abort();
    if (k->init_size < k->payload_size) std::abort();
    if (k->kernel_alignment & (k->kernel_alignment - 1)) std::abort();
    SetupInput in;
    in.setup_addr = 0x100000;
    in.cmdline = "console=ttyS0";
    in.e820 = {{0x100000, 0x40000000, E820Type::kRam}};
    auto seg = build_setup_segment(*k, f, in);
    if (seg && seg->size() != setup_segment_size(in.cmdline.size())) std::abort();
  }
  return 0;
}
