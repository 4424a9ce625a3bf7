#include <charon/loader/sysinfo.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace charon::loader {

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return std::nullopt;
  return ss.str();
}

uint64_t rsdp_from_systab(std::string_view systab) {
  // Each line is NAME=0xADDR (drivers/firmware/efi/efi.c, systab_show).
  uint64_t acpi20 = 0, acpi = 0;
  while (!systab.empty()) {
    const size_t nl = systab.find('\n');
    std::string_view line = systab.substr(0, nl);
    systab = nl == std::string_view::npos ? std::string_view() : systab.substr(nl + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, eq);
    std::string_view val = line.substr(eq + 1);
    if (val.size() > 2 && val[0] == '0' && (val[1] == 'x' || val[1] == 'X')) val.remove_prefix(2);
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), v, 16);
    if (ec != std::errc() || p != val.data() + val.size()) continue;
    if (key == "ACPI20") acpi20 = v;
    if (key == "ACPI") acpi = v;
  }
  return acpi20 ? acpi20 : acpi;
}

std::string reuse_cmdline(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    while (!in.empty() && (in.front() == ' ' || in.front() == '\n')) in.remove_prefix(1);
    if (in.empty()) break;
    size_t end = 0;
    bool quoted = false;
    while (end < in.size() && (quoted || (in[end] != ' ' && in[end] != '\n'))) {
      if (in[end] == '"') quoted = !quoted;
      ++end;
    }
    const std::string_view word = in.substr(0, end);
    in.remove_prefix(end);
    if (word.starts_with("BOOT_IMAGE=")) continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

Result<SystemInfo> read_system_info(const std::string& root) {
  SystemInfo info;
  auto map = read_system_memory_map(root);
  if (!map) return Error{map.error()};
  info.memory = std::move(*map);
  if (auto systab = read_text_file(root + "/sys/firmware/efi/systab"))
    info.acpi_rsdp = rsdp_from_systab(*systab);
  if (auto crash = read_crash_info(root)) {
    info.crash = std::move(*crash);
  } else {
    info.crash_error = crash.error();
  }
  if (auto bp = read_text_file(root + "/sys/kernel/boot_params/data"); bp && bp->size() >= 0x40) {
    std::array<uint8_t, 0x40> si;
    std::memcpy(si.data(), bp->data(), si.size());
    info.screen_info = si;
  }
  return info;
}

}  // namespace charon::loader
