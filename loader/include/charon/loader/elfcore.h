// The ELF core header ("elfcorehdr") a crash kernel turns into
// /proc/vmcore, and what the running kernel says about its crash notes.
// The layout follows what fs/proc/vmcore.c reads: an ELF64 ET_CORE header,
// one PT_NOTE per CPU's crash notes and one for vmcoreinfo, then one
// PT_LOAD per range of the old kernel's RAM whose p_offset is the physical
// address the crash kernel reads it from.
#pragma once
#include <charon/kimage/elfcore.h>
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

using kimage::DumpRange;
using kimage::NoteRange;

// Where the crashed kernel keeps things virtually, for dump tools: the
// direct map's base (memory KASLR moves it) and its text.
struct KernelLayout {
  uint64_t page_offset = 0;  // 0: unknown
  std::string page_offset_from;
  uint64_t text_vaddr = 0, text_paddr = 0, text_size = 0;  // _text.._end
};

struct CrashInfo {
  std::vector<NoteRange> cpu_notes;  // /sys/devices/system/cpu/cpuN/crash_notes{,_size}
  NoteRange vmcoreinfo;              // /sys/kernel/vmcoreinfo
  KernelLayout layout;
};

// The running kernel's layout from /proc/kcore's program headers, as
// kexec-tools reads it: each RAM PT_LOAD has p_vaddr = page_offset +
// p_paddr, and the text PT_LOAD (p_vaddr at or above __START_KERNEL_map)
// is _text.._end. Fallbacks: page_offset_base's value (its address from
// /proc/kallsyms, read through kcore's text segment), and the text from
// /proc/kallsyms' _text and _end with /proc/iomem's "Kernel code".
KernelLayout read_kernel_layout(const std::string& root);
// The same over an ELF image of kcore's header (for tests and fuzzers).
KernelLayout layout_from_kcore(const std::vector<uint8_t>& kcore_head);

// Reads CrashInfo under `root`. Each missing or malformed file is an error
// naming it: a dump without the CPUs' registers or without vmcoreinfo is
// no dump that makedumpfile or crash(8) can read.
Result<CrashInfo> read_crash_info(const std::string& root);

// Parsers of the sysfs texts: crash_notes is "%llx\n", crash_notes_size
// "%zu\n" (drivers/base/cpu.c), vmcoreinfo "%pa %x\n" (kernel/ksysfs.c).
std::optional<uint64_t> parse_hex(std::string_view text);
std::optional<uint64_t> parse_dec(std::string_view text);
std::optional<NoteRange> parse_vmcoreinfo(std::string_view text);

// What the dump shows: [0, 640 KiB) read from `backup_dst` (kexec-tools
// takes the whole 640 KiB whatever the firmware says lies in it), then the
// RAM of `map` and the nested "System RAM" of `nested` (virtio-mem, dax
// kmem: kexec-tools 7175859) above 640 KiB without the crash reservations,
// which hold the crash kernel itself.
std::vector<DumpRange> dump_ranges(const std::vector<MemRange>& map,
                                   const std::vector<MemRange>& crash, uint64_t backup_dst,
                                   const std::vector<MemRange>& nested = {});

// The core's spec for `notes` and `loads` (which must outlive it).
kimage::ElfCoreSpec elfcore_spec(const CrashInfo& notes, const std::vector<DumpRange>& loads,
                                 bool elf32);

// The header itself, for EM_X86_64 (kimage::build_elfcorehdr), with the
// core's reasons in words.
Result<std::vector<uint8_t>> build_elfcorehdr(const CrashInfo& notes,
                                              const std::vector<DumpRange>& loads,
                                              bool elf32 = false);

}  // namespace charon::loader
