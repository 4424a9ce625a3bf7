// Memory-map parsers. Input is untrusted text (a fuzz target feeds it), so
// every number is parsed with explicit bounds and every line either parses
// fully or yields an error naming it.
#include <charon/loader/memmap.h>
#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace charon::loader {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A hex number, with or without 0x, as sysfs and iomem print them.
std::optional<uint64_t> parse_hex(std::string_view s) {
  s = trim(s);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<E820Type> e820_type_from_name(std::string_view name) {
  // The names Linux prints for each e820 type (arch/x86/kernel/e820.c,
  // e820_type_to_string) in both memmap and iomem.
  struct Name {
    std::string_view name;
    E820Type type;
  };
  static constexpr Name kNames[] = {
      {"System RAM", E820Type::kRam},
      {"Reserved", E820Type::kReserved},
      {"reserved", E820Type::kReserved},
      {"ACPI Tables", E820Type::kAcpi},
      {"ACPI Non-volatile Storage", E820Type::kNvs},
      {"Unusable memory", E820Type::kUnusable},
      {"Persistent Memory (legacy)", E820Type::kPram},
      {"Persistent Memory", E820Type::kPmem},
      {"Soft Reserved", E820Type::kSoftReserved},
  };
  for (const Name& n : kNames)
    if (n.name == name) return n.type;
  return std::nullopt;
}

Result<std::vector<MemRange>> normalize_ranges(std::vector<MemRange> ranges) {
  // The core's one memory-map rule (sort, refuse overlaps, merge touching
  // ranges of one type); this names the overlap it found.
  size_t n = ranges.size();
  if (kimage::normalize_memmap(ranges.data(), n) != kimage::Status::kOk) {
    std::sort(ranges.begin(), ranges.end(),
              [](const MemRange& a, const MemRange& b) { return a.start < b.start; });
    for (size_t i = 1; i < ranges.size(); ++i)
      if (ranges[i].start < ranges[i - 1].end && ranges[i].end > ranges[i].start &&
          ranges[i - 1].end > ranges[i - 1].start)
        return fail("memory map: range 0x%llx-0x%llx overlaps 0x%llx-0x%llx",
                    static_cast<unsigned long long>(ranges[i].start),
                    static_cast<unsigned long long>(ranges[i].end - 1),
                    static_cast<unsigned long long>(ranges[i - 1].start),
                    static_cast<unsigned long long>(ranges[i - 1].end - 1));
    return fail("memory map: two ranges overlap");
  }
  ranges.resize(n);
  return ranges;
}

Result<MemoryMap> parse_iomem(std::string_view text) {
  MemoryMap map;
  std::vector<MemRange> top;
  size_t lineno = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineno;
    if (trim(line).empty()) continue;
    // "    start-end : name", indented two spaces per nesting level.
    size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    const std::string_view body = line.substr(indent);
    const size_t colon = body.find(" : ");
    const size_t dash = body.find('-');
    if (colon == std::string_view::npos || dash == std::string_view::npos || dash > colon) {
      return fail("/proc/iomem line %zu is not \"start-end : name\": \"%s\"", lineno,
                  printable(line).c_str());
    }
    const auto start = parse_hex(body.substr(0, dash));
    const auto last = parse_hex(body.substr(dash + 1, colon - dash - 1));
    if (!start || !last) {
      return fail("/proc/iomem line %zu has a bad address: \"%s\"", lineno,
                  printable(line).c_str());
    }
    if (*last < *start) {
      return fail("/proc/iomem line %zu ends (0x%llx) before it starts (0x%llx)", lineno,
                  static_cast<unsigned long long>(*last), static_cast<unsigned long long>(*start));
    }
    if (*last == UINT64_MAX) {
      return fail("/proc/iomem line %zu reaches the end of the address space", lineno);
    }
    const std::string_view name = trim(body.substr(colon + 3));
    // Without CAP_SYS_ADMIN the kernel prints every address as 0.
    if (*start == 0 && *last == 0) continue;
    const MemRange r{*start, *last + 1, E820Type::kRam};
    if (name == "Crash kernel") {
      map.crash_kernel.push_back(r);
      continue;
    }
    if (indent != 0) {
      if (name == "System RAM" || name.starts_with("System RAM (")) map.nested_ram.push_back(r);
      continue;
    }
    if (auto type = e820_type_from_name(name)) top.push_back({r.start, r.end, *type});
  }
  auto norm = normalize_ranges(std::move(top));
  if (!norm) return Error{"/proc/iomem: " + norm.error()};
  map.ranges = std::move(*norm);
  std::sort(map.crash_kernel.begin(), map.crash_kernel.end(),
            [](const MemRange& a, const MemRange& b) { return a.start < b.start; });
  return map;
}

Result<MemRange> parse_memmap_entry(std::string_view start, std::string_view end,
                                    std::string_view type, const std::string& where) {
  const auto s = parse_hex(start);
  const auto e = parse_hex(end);
  if (!s)
    return fail("%s/start is not a hex address: \"%s\"", where.c_str(),
                printable(trim(start)).c_str());
  if (!e)
    return fail("%s/end is not a hex address: \"%s\"", where.c_str(), printable(trim(end)).c_str());
  if (*e < *s || *e == UINT64_MAX) {
    return fail("%s: end 0x%llx is before start 0x%llx or at the top of memory", where.c_str(),
                static_cast<unsigned long long>(*e), static_cast<unsigned long long>(*s));
  }
  // Types the loader does not know are kept as reserved: a new kernel must
  // not use memory whose meaning nobody told us.
  const auto t = e820_type_from_name(trim(type));
  return MemRange{*s, *e + 1, t ? *t : E820Type::kReserved};
}

Result<MemoryMap> read_firmware_memmap(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return fail("%s: cannot open", dir.c_str());
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (!n.empty() && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      names.emplace_back(n);
  }
  closedir(d);
  if (names.empty()) return fail("%s: no entries", dir.c_str());
  std::vector<MemRange> ranges;
  for (const std::string& n : names) {
    const std::string where = dir + "/" + n;
    auto s = slurp(where + "/start");
    auto e = slurp(where + "/end");
    auto t = slurp(where + "/type");
    if (!s || !e || !t) return fail("%s: cannot read start, end or type", where.c_str());
    auto r = parse_memmap_entry(*s, *e, *t, where);
    if (!r) return Error{r.error()};
    ranges.push_back(*r);
  }
  auto norm = normalize_ranges(std::move(ranges));
  if (!norm) return Error{dir + ": " + norm.error()};
  MemoryMap map;
  map.ranges = std::move(*norm);
  return map;
}

Result<MemoryMap> read_system_memory_map(const std::string& root) {
  const auto iomem_text = slurp(root + "/proc/iomem");
  std::optional<MemoryMap> iomem;
  std::string iomem_error = root + "/proc/iomem: cannot read";
  if (iomem_text) {
    auto parsed = parse_iomem(*iomem_text);
    if (parsed) {
      iomem = std::move(*parsed);
    } else {
      iomem_error = parsed.error();
    }
  }
  auto fw = read_firmware_memmap(root + "/sys/firmware/memmap");
  if (fw) {
    if (iomem) fw->crash_kernel = iomem->crash_kernel, fw->nested_ram = iomem->nested_ram;
    return fw;
  }
  if (!iomem) {
    return fail("no memory map: %s, and %s", fw.error().c_str(), iomem_error.c_str());
  }
  if (iomem->ranges.empty()) {
    return fail(
        "no memory map: %s, and /proc/iomem lists no memory (addresses hidden? "
        "run as root)",
        fw.error().c_str());
  }
  return *iomem;
}

}  // namespace charon::loader
