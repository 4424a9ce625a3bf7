// What the running system tells a loader, read from files under a root
// directory ("" on a real system, a fake tree in tests).
#pragma once
#include <charon/loader/elfcore.h>
#include <charon/loader/memmap.h>
#include <charon/result.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace charon::loader {

struct SystemInfo {
  MemoryMap memory;
  uint64_t acpi_rsdp = 0;  // 0: the new kernel scans for it (BIOS systems)
  std::optional<std::array<uint8_t, 0x40>> screen_info;
  // Crash notes and vmcoreinfo, for a crash load's elfcorehdr; when they
  // cannot be read, crash_error says why (a normal load does not care).
  std::optional<CrashInfo> crash;
  std::string crash_error;
};

std::optional<std::string> read_text_file(const std::string& path);

// The RSDP address from /sys/firmware/efi/systab text: ACPI20= preferred,
// then ACPI=; 0 when neither is there.
uint64_t rsdp_from_systab(std::string_view systab);

// /proc/cmdline without BOOT_IMAGE= (the old bootloader's, meaningless to
// the new kernel) and without the trailing newline.
std::string reuse_cmdline(std::string_view proc_cmdline);

// Memory map (required), RSDP, crash notes (optional), and screen_info from the running kernel's
// own boot_params (/sys/kernel/boot_params/data), so the new kernel finds
// the console the firmware set up; left out when that file is unreadable.
Result<SystemInfo> read_system_info(const std::string& root);

}  // namespace charon::loader
