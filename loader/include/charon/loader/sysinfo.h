// What the running system tells a loader, read from files under a root
// directory ("" on a real system, a fake tree in tests).
#pragma once
#include <charon/boot/boot_params.h>
#include <charon/boot/efi_setup.h>
#include <charon/loader/elfcore.h>
#include <charon/loader/memmap.h>
#include <charon/result.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charon::loader {

// What the running kernel knows of its EFI firmware, for the next kernel
// to keep EFI runtime services (kexec-tools' setup_efi_info, the kernel's
// own setup_efi_state in arch/x86/kernel/kexec-bzimage64.c).
struct EfiFacts {
  boot::efi_info info;               // the running kernel's boot_params.efi_info
  std::vector<uint8_t> runtime_map;  // efi_memory_desc, from /sys/firmware/efi/runtime-map
  boot::efi_setup_data setup;        // fw_vendor, runtime, config_table, SMBIOS
};

// One setup_data node of the running kernel's boot_params that the next
// kernel gets too (see read_system_info for which types and why).
struct SetupDataBlob {
  uint32_t type;
  std::vector<uint8_t> data;
};

struct SystemInfo {
  MemoryMap memory;
  uint64_t acpi_rsdp = 0;      // 0: the new kernel scans for it (BIOS systems)
  std::string acpi_rsdp_from;  // where it came from, for --dry-run
  std::optional<std::array<uint8_t, 0x40>> screen_info;
  uint8_t secure_boot = 0;  // the running kernel's boot_params.secure_boot
  // The running kernel uses 5-level paging: Linux clears the la57 flag in
  // /proc/cpuinfo when it does not (arch/x86/kernel/cpu/common.c).
  bool la57 = false;
  std::optional<EfiFacts> efi;
  std::string efi_absent;  // why there is no EFI handoff, when there is none
  std::vector<SetupDataBlob> setup_data;
  // Crash notes and vmcoreinfo, for a crash load's elfcorehdr; when they
  // cannot be read, crash_error says why (a normal load does not care).
  std::optional<CrashInfo> crash;
  std::string crash_error;
};

std::optional<std::string> read_text_file(const std::string& path);

// The RSDP address from /sys/firmware/efi/systab text: ACPI20= preferred,
// then ACPI=; 0 when neither is there.
uint64_t rsdp_from_systab(std::string_view systab);

// /sys/firmware/efi/runtime-map/N/{phys_addr,virt_addr,num_pages,attribute,
// type} for N = 0, 1, ... as efi_memory_desc entries; an error names the
// file that is missing or malformed.
Result<std::vector<uint8_t>> read_efi_runtime_map(const std::string& dir);

// The running kernel's EFI facts under `root`, or why there are none.
Result<EfiFacts> read_efi_facts(const std::string& root, const boot::boot_params& bp);

// The running kernel's setup_data nodes (/sys/kernel/boot_params/
// setup_data/N/{type,data}) that the next kernel gets too.
std::vector<SetupDataBlob> read_passed_setup_data(const std::string& dir);

// `cmdline` without the parameter `key` (as `key` or `key=value`).
std::string without_arg(std::string_view cmdline, std::string_view key);

// /proc/cmdline without BOOT_IMAGE= (the old bootloader's, meaningless to
// the new kernel) and without the trailing newline.
std::string reuse_cmdline(std::string_view proc_cmdline);

// Memory map (required), RSDP, crash notes (optional), and screen_info from the running kernel's
// own boot_params (/sys/kernel/boot_params/data), so the new kernel finds
// the console the firmware set up; left out when that file is unreadable.
// The crash facts (crash notes, vmcoreinfo, the kernel's layout from
// /proc/kallsyms, several MiB of text) only with `crash_facts`: a load
// that is not for a crash has no use for them.
Result<SystemInfo> read_system_info(const std::string& root, bool crash_facts = true);

}  // namespace charon::loader
