// Where the running kernel keeps the notes a dump needs: each CPU's
// crash_notes (filled with its registers when it panics) and vmcoreinfo.
#include <charon/loader/elfcore.h>
#include <charon/loader/sysinfo.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace charon::loader {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

std::optional<uint64_t> parse_base(std::string_view s, int base) {
  s = trim(s);
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint64_t> parse_hex(std::string_view text) {
  return parse_base(text, 16);
}

std::optional<uint64_t> parse_dec(std::string_view text) {
  return parse_base(text, 10);
}

std::optional<NoteRange> parse_vmcoreinfo(std::string_view text) {
  text = trim(text);
  const size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto addr = parse_hex(text.substr(0, sp));
  auto size = parse_hex(text.substr(sp + 1));
  if (!addr || !size || *size == 0) return std::nullopt;
  return NoteRange{*addr, *size};
}

Result<CrashInfo> read_crash_info(const std::string& root) {
  CrashInfo info;
  const std::string vpath = root + "/sys/kernel/vmcoreinfo";
  auto vtext = read_text_file(vpath);
  if (!vtext)
    return fail(
        "%s: cannot read: the running kernel has no CONFIG_CRASH_DUMP, or sysfs is "
        "not mounted",
        vpath.c_str());
  auto v = parse_vmcoreinfo(*vtext);
  if (!v) return fail("%s: expected \"ADDRESS SIZE\" in hex", vpath.c_str());
  info.vmcoreinfo = *v;

  // Every CPU directory, in number order: cpu0, cpu1, ..., cpu10.
  const std::string cpus = root + "/sys/devices/system/cpu";
  std::vector<unsigned> ids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cpus, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 4 || name.compare(0, 3, "cpu") != 0) continue;
    if (auto n = parse_dec(std::string_view(name).substr(3))) ids.push_back(unsigned(*n));
  }
  std::sort(ids.begin(), ids.end());
  for (unsigned id : ids) {
    const std::string dir = cpus + "/cpu" + std::to_string(id);
    auto addr_text = read_text_file(dir + "/crash_notes");
    if (!addr_text) continue;  // kexec-tools too skips a CPU without notes
    auto addr = parse_hex(*addr_text);
    if (!addr || *addr == 0) return fail("%s/crash_notes: expected a hex address", dir.c_str());
    // crash_notes_size came with Linux 4.x; before it the notes were one
    // note_buf_t, whose size the loader cannot know: refuse rather than guess.
    auto size_text = read_text_file(dir + "/crash_notes_size");
    if (!size_text) return fail("%s/crash_notes_size: cannot read", dir.c_str());
    auto size = parse_dec(*size_text);
    if (!size || *size == 0) return fail("%s/crash_notes_size: expected a size", dir.c_str());
    info.cpu_notes.push_back({*addr, *size});
  }
  if (info.cpu_notes.empty())
    return fail("%s: no CPU has crash_notes (is CONFIG_CRASH_DUMP set and sysfs mounted?)",
                cpus.c_str());
  return info;
}

}  // namespace charon::loader
