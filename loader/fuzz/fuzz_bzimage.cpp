// libFuzzer: the bzImage header checks (the core's, with the hosted
// loader's messages), then boot_params building over whatever the checks
// let through.
#include <charon/kimage/image.h>
#include <charon/loader/bzimage.h>

#include <cstdlib>
#include <memory>
#include <vector>

using namespace charon;
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
    kimage::ImageInput in;
    in.kernel = data;
    in.kernel_size = size;
    in.entry = mode;
    kimage::ImagePlan plan{};
    plan.kernel = *k;
    plan.setup = {0x100000, 0x200000};
    const char cmdline[] = "console=ttyS0";
    std::vector<uint8_t> seg(kimage::setup_bytes(in, sizeof cmdline - 1));
    const kimage::MemRange e820[] = {{0x100000, 0x40000000, boot::E820Type::kRam}};
    const kimage::Status st =
        kimage::build_setup(in, plan, cmdline, sizeof cmdline - 1, e820, 1, seg.data(), seg.size());
    if (st != kimage::Status::kOk && st != kimage::Status::kCmdlineTooLong) std::abort();
  }
  return 0;
}
