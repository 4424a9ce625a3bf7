// libFuzzer: the /proc/iomem parser, the memmap entry parser and the e820
// table builder. The input is split at the first NUL: iomem text before
// it, "start\nend\ntype" after.
#include <charon/loader/memmap.h>
#include <charon/loader/sysinfo.h>

#include <cstdlib>
#include <string_view>
#include <vector>

using namespace charon::loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view iomem = all.substr(0, nul);
  auto m = parse_iomem(iomem);
  if (m) {
    for (size_t i = 0; i < m->ranges.size(); ++i) {
      if (m->ranges[i].end <= m->ranges[i].start) std::abort();
      if (i && m->ranges[i].start < m->ranges[i - 1].end) std::abort();
    }
    // Into a setup segment with no room beyond boot_params' 128 entries.
    std::vector<uint8_t> setup(sizeof(charon::boot::boot_params));
    charon::kimage::ImagePlan plan{};
    plan.setup = {0x100000, 0x101000};
    const auto st = charon::kimage::fill_e820(plan, m->ranges.data(), m->ranges.size(),
                                              setup.data(), setup.size());
    if ((st == charon::kimage::Status::kOk) != (m->ranges.size() <= 128)) std::abort();
  } else if (m.error().empty()) {
    std::abort();
  }
  (void)rsdp_from_systab(iomem);
  (void)reuse_cmdline(iomem);
  if (nul != std::string_view::npos) {
    std::string_view rest = all.substr(nul + 1);
    const size_t a = rest.find('\n');
    const size_t b = a == std::string_view::npos ? a : rest.find('\n', a + 1);
    if (b != std::string_view::npos) {
      auto r = parse_memmap_entry(rest.substr(0, a), rest.substr(a + 1, b - a - 1),
                                  rest.substr(b + 1), "fuzz");
      if (r && r->end <= r->start) std::abort();
    }
  }
  return 0;
}
