// The ELF core header ("elfcorehdr") a crash kernel turns into
// /proc/vmcore, and what the running kernel says about its crash notes.
// The layout follows what fs/proc/vmcore.c reads: an ELF64 ET_CORE header,
// one PT_NOTE per CPU's crash notes and one for vmcoreinfo, then one
// PT_LOAD per range of the old kernel's RAM whose p_offset is the physical
// address the crash kernel reads it from.
#pragma once
#include <charon/loader/memmap.h>
#include <charon/loader/ranges.h>
#include <charon/params.h>
#include <charon/result.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charon::loader {

// The low memory the purgatory copies aside before the crash kernel boots
// over it (the crash kernel's e820 hands it [0, 640 KiB) as RAM).
inline constexpr uint64_t kBackupSrc = 0;
inline constexpr uint64_t kBackupSize = CHARON_BACKUP_DEFAULT_SIZE;

// A physical range holding ELF notes.
struct NoteRange {
  uint64_t addr;
  uint64_t size;
  friend bool operator==(const NoteRange&, const NoteRange&) = default;
};

struct CrashInfo {
  std::vector<NoteRange> cpu_notes;  // /sys/devices/system/cpu/cpuN/crash_notes{,_size}
  NoteRange vmcoreinfo;              // /sys/kernel/vmcoreinfo
};

// Reads CrashInfo under `root`. Each missing or malformed file is an error
// naming it: a dump without the CPUs' registers or without vmcoreinfo is
// no dump that makedumpfile or crash(8) can read.
Result<CrashInfo> read_crash_info(const std::string& root);

// Parsers of the sysfs texts: crash_notes is "%llx\n", crash_notes_size
// "%zu\n" (drivers/base/cpu.c), vmcoreinfo "%pa %x\n" (kernel/ksysfs.c).
std::optional<uint64_t> parse_hex(std::string_view text);
std::optional<uint64_t> parse_dec(std::string_view text);
std::optional<NoteRange> parse_vmcoreinfo(std::string_view text);

// One PT_LOAD: the old kernel's memory [start, end), read at `read_from`.
struct DumpRange {
  uint64_t start, end;
  uint64_t read_from;  // == start, except for the backed-up low memory
  friend bool operator==(const DumpRange&, const DumpRange&) = default;
};

// What the dump shows: [0, 640 KiB) read from `backup_dst` (kexec-tools
// takes the whole 640 KiB whatever the firmware says lies in it), then the
// RAM of `map` above 640 KiB without the crash reservations, which hold the
// crash kernel itself.
std::vector<DumpRange> dump_ranges(const std::vector<MemRange>& map,
                                   const std::vector<MemRange>& crash, uint64_t backup_dst);

// Bytes of an elfcorehdr with `notes` PT_NOTEs and `loads` PT_LOADs.
uint64_t elfcorehdr_size(size_t notes, size_t loads);

// The header itself, for EM_X86_64. Fails when there are more program
// headers than e_phnum can count or a range is empty or wraps.
Result<std::vector<uint8_t>> build_elfcorehdr(const CrashInfo& notes,
                                              const std::vector<DumpRange>& loads);

}  // namespace charon::loader
