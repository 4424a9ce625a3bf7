// A complete kexec image: the segments kexec_load(2) takes, the entry
// point, and the parameter block patched into the purgatory. The hosted
// adapter over the image-building core (common/kimage): it turns the
// files and a SystemInfo into the core's ImageInput, lets the core plan
// and build, and relocates purgatory.ro to the planned address. No system
// call, so --dry-run, the tests and the fuzzers all see the exact image a
// load would use.
#pragma once
#include <charon/kimage/image.h>
#include <charon/loader/bzimage.h>
#include <charon/loader/ranges.h>
#include <charon/loader/sysinfo.h>
#include <charon/params.h>
#include <charon/result.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace charon::loader {

using ConsoleOptions = kimage::ConsoleSpec;

struct LoadRequest {
  std::vector<uint8_t> kernel;
  std::string kernel_name;
  std::optional<std::vector<uint8_t>> initrd;
  std::string initrd_name;
  std::string cmdline;
  std::vector<uint8_t> purgatory;
  std::string purgatory_name;
  EntryMode mode = EntryMode::k64;
  bool on_crash = false;    // place in the crash reservation, load with KEXEC_ON_CRASH
  bool elf32_core = false;  // --elf32-core-headers
  ConsoleOptions console;
  uint32_t extra_flags = 0;  // CHARON_F_*, e.g. halt before the jump
  // 32 bytes for SETUP_RNG_SEED, as the kernel's own kexec_file_load
  // passes; empty: read them from getrandom(2). Tests pass fixed bytes.
  std::vector<uint8_t> rng_seed;
};

// SETUP_RNG_SEED's size in the kernel's own loader (RNG_SEED_LENGTH).
inline constexpr size_t kRngSeedBytes = 32;

struct Segment {
  std::string source;  // file name (with offset) or "generated"
  std::string what;    // kernel, initrd, boot_params, purgatory, page tables
  std::vector<uint8_t> data;
  uint64_t mem = 0;    // page-aligned
  uint64_t memsz = 0;  // page-aligned, >= data.size(); the rest is zero-filled
};

struct KexecImage {
  std::vector<Segment> segments;  // in ascending address order
  // What boot_params carries beyond the protocol's minimum, and what it
  // does not and why, one line each (--dry-run prints them).
  std::vector<std::string> notes;
  std::string cmdline;  // the kernel's command line, as boot_params carries it
  uint64_t entry = 0;   // purgatory_start
  charon_params params{};
  BzImage kernel{};
  kimage::ImagePlan plan{};
};

// Bytes of page tables the purgatory needs to map `memory` (params.memory)
// and the `required` ranges (worst case: LA57 without 1 GiB pages), plus
// its slack.
uint64_t scratch_bytes_for(const std::vector<Range>& memory, const std::vector<Range>& required);

// What the hosted world gives the core: where segments may go (RAM from
// 1 MiB, or the crash reservation) as the core's free list.
Status free_list_from(const std::vector<Range>& usable, kimage::FreeList& out);

Result<KexecImage> build_kexec_image(const LoadRequest& req, const SystemInfo& sys);

// The e820 table a crash kernel sees: non-RAM entries unchanged, RAM
// limited to the first 640 KiB (backed up by the purgatory) and the crash
// reservation without `held` (the backup area and the elfcorehdr, which
// the crash kernel must read as old memory, never allocate).
std::vector<MemRange> crash_e820(const MemoryMap& map, const std::vector<Range>& held);

}  // namespace charon::loader
