// libFuzzer: the placement planner over arbitrary memory maps and kernel
// sizes. Whatever it returns must be page-aligned, inside usable RAM,
// disjoint, and within the protocol's address limits.
#include <charon/loader/image.h>
#include <charon/loader/placement.h>

#include <cstdlib>
#include <cstring>

using namespace charon::loader;

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  uint64_t u64() {
    uint64_t v = 0;
    const size_t k = n < 8 ? n : 8;
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
};

bool inside(const Range& r, const std::vector<Range>& usable) {
  for (const Range& u : usable)
    if (u.start <= r.start && r.end <= u.end) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in{data, size};
  const uint64_t flags = in.u64();
  PlanInput pin;
  pin.mode = (flags & 1) ? EntryMode::k32 : EntryMode::k64;
  pin.kernel.init_size = (in.u64() & 0x3fffffff) + 1;
  pin.kernel.payload_size = in.u64() & 0x3fffffff;
  pin.kernel.kernel_alignment = 4096ull << (in.u64() % 20);
  pin.kernel.pref_address = in.u64() & 0xffffffffff;
  pin.kernel.initrd_addr_max = static_cast<uint32_t>(in.u64());
  pin.kernel.above_4g = flags & 2;
  pin.initrd_size = (flags & 4) ? in.u64() & 0xffffffff : 0;
  pin.setup_size = 4096 + (in.u64() & 0xffff);
  pin.purgatory_size = (in.u64() & 0xfffff) + 1;
  pin.scratch_bytes = scratch_bytes_for;
  std::vector<MemRange> ranges;
  while (in.n >= 16 && ranges.size() < 64) {
    const uint64_t s = in.u64() & 0xfffffffffffull;
    const uint64_t len = in.u64() & 0xffffffffffull;
    ranges.push_back({s, s + len, (len & 1) ? E820Type::kReserved : E820Type::kRam});
  }
  auto norm = normalize_ranges(ranges);
  if (!norm) return 0;
  pin.usable = usable_ram(*norm);
  for (const MemRange& m : *norm)
    if (m.type == E820Type::kRam) pin.idmap_limit = std::max(pin.idmap_limit, m.end);
  auto plan = plan_layout(pin);
  if (!plan) {
    if (plan.error().empty()) std::abort();
    return 0;
  }
  std::vector<Range> all = {plan->kernel, plan->setup, plan->purgatory, plan->scratch};
  if (pin.initrd_size) all.push_back(plan->initrd);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].start % kPage || all[i].end % kPage || all[i].end <= all[i].start) std::abort();
    if (!inside(all[i], pin.usable)) std::abort();
    for (size_t j = i + 1; j < all.size(); ++j)
      if (all[i].start < all[j].end && all[j].start < all[i].end) std::abort();
    if (pin.mode == EntryMode::k32 && all[i].end > k4G) std::abort();
  }
  if (plan->purgatory.end > k2G || plan->scratch.end > k4G || plan->setup.end > k4G) std::abort();
  if (plan->kernel.start % pin.kernel.kernel_alignment) std::abort();
  if (plan->kernel.end - plan->kernel.start < pin.kernel.init_size) std::abort();
  return 0;
}
