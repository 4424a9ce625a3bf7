#include <charon/loader/sysinfo.h>
#include <dirent.h>

#include <algorithm>
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

namespace {

// The value of NAME=0xADDR in /sys/firmware/efi/systab (drivers/firmware/
// efi/efi.c, systab_show), 0 when absent.
uint64_t systab_value(std::string_view systab, std::string_view name) {
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
    if (key == name) return v;
  }
  return 0;
}

std::optional<uint64_t> read_hex(const std::string& path) {
  auto t = read_text_file(path);
  return t ? parse_hex(*t) : std::nullopt;
}

}  // namespace

uint64_t rsdp_from_systab(std::string_view systab) {
  const uint64_t acpi20 = systab_value(systab, "ACPI20");
  return acpi20 ? acpi20 : systab_value(systab, "ACPI");
}

Result<std::vector<uint8_t>> read_efi_runtime_map(const std::string& dir) {
  // Entries are numbered from 0 (drivers/firmware/efi/runtime-map.c); each
  // value is printed as 0x%llx.
  std::vector<uint8_t> out;
  for (int n = 0;; ++n) {
    const std::string e = dir + "/" + std::to_string(n);
    if (!read_text_file(e + "/type")) {
      if (n == 0) return fail("%s: no entries", dir.c_str());
      break;
    }
    boot::efi_memory_desc d{};
    const char* names[] = {"type", "phys_addr", "virt_addr", "num_pages", "attribute"};
    uint64_t v[5];
    for (int i = 0; i < 5; ++i) {
      auto x = read_hex(e + "/" + names[i]);
      if (!x) return fail("%s/%s: not a hex number", e.c_str(), names[i]);
      v[i] = *x;
    }
    d.type = static_cast<uint32_t>(v[0]);
    d.phys_addr = v[1];
    d.virt_addr = v[2];
    d.num_pages = v[3];
    d.attribute = v[4];
    const auto* b = reinterpret_cast<const uint8_t*>(&d);
    out.insert(out.end(), b, b + sizeof d);
    if (n > 4096) return fail("%s: more than 4096 entries", dir.c_str());
  }
  return out;
}

Result<EfiFacts> read_efi_facts(const std::string& root, const boot::boot_params& bp) {
  const std::string efi = root + "/sys/firmware/efi";
  // kexec-tools' rule: an efi_memmap_size of 0 in the running kernel's
  // boot_params means it was not booted through EFI (or runs without its
  // runtime services, efi=noruntime).
  if (bp.efi_info.efi_memmap_size == 0 || bp.efi_info.efi_loader_signature == 0)
    return fail("the running kernel's boot_params has no efi_info (not booted by EFI)");
  auto systab = read_text_file(efi + "/systab");
  if (!systab) return fail("%s/systab: cannot read (kernel without EFI?)", efi.c_str());
  auto map = read_efi_runtime_map(efi + "/runtime-map");
  if (!map)
    return fail("%s (the running kernel needs CONFIG_EFI_RUNTIME_MAP)", map.error().c_str());
  EfiFacts f{};
  f.info = bp.efi_info;
  f.runtime_map = std::move(*map);
  const auto fw_vendor = read_hex(efi + "/fw_vendor");
  const auto tables = read_hex(efi + "/config_table");
  if (!fw_vendor || !tables) return fail("%s/fw_vendor or config_table: cannot read", efi.c_str());
  f.setup.fw_vendor = *fw_vendor;
  f.setup.runtime = read_hex(efi + "/runtime").value_or(0);
  f.setup.tables = *tables;
  // SMBIOS through the EFI configuration table: the 2.1 entry point as
  // kexec-tools passes it, the 3.0 one when that is all there is.
  f.setup.smbios = systab_value(*systab, "SMBIOS");
  if (!f.setup.smbios) f.setup.smbios = systab_value(*systab, "SMBIOS3");
  return f;
}

std::string without_arg(std::string_view in, std::string_view key) {
  // Words split at spaces outside double quotes, as the kernel's
  // next_arg() splits them; `key` and `key=...` are dropped.
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
    if (word == key ||
        (word.starts_with(key) && word.size() > key.size() && word[key.size()] == '='))
      continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

std::string reuse_cmdline(std::string_view in) {
  return without_arg(in, "BOOT_IMAGE");
}

std::vector<SetupDataBlob> read_passed_setup_data(const std::string& dir) {
  // Which of the running kernel's setup_data nodes describe the machine
  // and so belong to the next kernel too, by type (setup_data.h):
  //   SETUP_DTB, SETUP_APPLE_PROPERTIES, SETUP_JAILHOUSE: facts of the
  //     platform that only the first loader could read (the firmware's
  //     device tree, Apple's device properties from EFI boot services, the
  //     Jailhouse hypervisor's description): passed on unchanged;
  //   SETUP_E820_EXT, SETUP_EFI, SETUP_RNG_SEED: rebuilt fresh by this
  //     loader (the old seed is zeroed by the kernel that used it);
  //   SETUP_PCI: copies of option ROMs taken before the old kernel ran
  //     its drivers, which may have reprogrammed the devices; Linux's own
  //     kexec_file_load and kexec-tools drop them too;
  //   SETUP_IMA: the old measurement log, which the next kernel must get
  //     from the running one's IMA, not from its loader;
  //   SETUP_CC_BLOB: SEV-SNP, which charon does not support;
  //   anything newer: unknown meaning, so left out.
  std::vector<SetupDataBlob> out;
  for (int n = 0; n < 64; ++n) {
    const std::string e = dir + "/" + std::to_string(n);
    const auto type = read_hex(e + "/type");
    if (!type) break;
    if (*type != boot::SETUP_DTB && *type != boot::SETUP_APPLE_PROPERTIES &&
        *type != boot::SETUP_JAILHOUSE)
      continue;
    auto data = read_text_file(e + "/data");
    if (!data || data->empty() || data->size() > 64 * 1024) continue;
    out.push_back({static_cast<uint32_t>(*type), std::vector<uint8_t>(data->begin(), data->end())});
  }
  return out;
}

Result<SystemInfo> read_system_info(const std::string& root, bool crash_facts) {
  SystemInfo info;
  auto map = read_system_memory_map(root);
  if (!map) return Error{map.error()};
  info.memory = std::move(*map);
  if (!crash_facts) {
    info.crash_error = "not read: not a crash load";
  } else if (auto crash = read_crash_info(root)) {
    info.crash = std::move(*crash);
  } else {
    info.crash_error = crash.error();
  }
  // The running kernel's own boot_params: screen_info, the RSDP its loader
  // gave it, secure_boot, efi_info. A kernel that charon booted has no
  // /sys/firmware/efi/systab RSDP line of its own to fall back on when EFI
  // is not passed, so boot_params comes first.
  boot::boot_params bp{};
  const auto raw = read_text_file(root + "/sys/kernel/boot_params/data");
  const bool have_bp = raw && raw->size() >= sizeof bp;
  if (have_bp) {
    std::memcpy(&bp, raw->data(), sizeof bp);
    std::array<uint8_t, 0x40> si;
    std::memcpy(si.data(), &bp.screen_info, si.size());
    info.screen_info = si;
    info.secure_boot = bp.secure_boot;
    if (bp.acpi_rsdp_addr) {
      info.acpi_rsdp = bp.acpi_rsdp_addr;
      info.acpi_rsdp_from = "/sys/kernel/boot_params/data";
    }
  }
  if (!info.acpi_rsdp)
    if (auto systab = read_text_file(root + "/sys/firmware/efi/systab")) {
      info.acpi_rsdp = rsdp_from_systab(*systab);
      if (info.acpi_rsdp) info.acpi_rsdp_from = "/sys/firmware/efi/systab";
    }
  if (!have_bp) {
    info.efi_absent = "cannot read /sys/kernel/boot_params/data";
  } else if (auto efi = read_efi_facts(root, bp)) {
    info.efi = std::move(*efi);
  } else {
    info.efi_absent = efi.error();
  }
  info.setup_data = read_passed_setup_data(root + "/sys/kernel/boot_params/setup_data");
  if (auto cpuinfo = read_text_file(root + "/proc/cpuinfo")) {
    const size_t flags = cpuinfo->find("\nflags");
    const size_t end = flags == std::string::npos ? flags : cpuinfo->find('\n', flags + 1);
    if (flags != std::string::npos) {
      const std::string line = cpuinfo->substr(flags, end - flags) + " ";
      info.la57 = line.find(" la57 ") != std::string::npos;
    }
  }
  return info;
}

}  // namespace charon::loader
