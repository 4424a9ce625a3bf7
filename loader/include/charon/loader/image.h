// A complete kexec image: the segments kexec_load(2) takes, the entry
// point, and the parameter block patched into the purgatory. The hosted
// adapter over the image-building core (common/kimage): it turns the
// files and a SystemInfo into the core's ImageInput, lets the core plan
// and build, and relocates purgatory.ro to the planned address. No system
// call, so --dry-run, the tests and the fuzzers all see the exact image a
// load would use.
//
// The kernel and the initrd go through as the caller's Bytes: with mapped
// files (MappedFile), the kernel and initrd segments point into the
// mappings, the digest is taken there, and only the small segments
// (boot_params, the purgatory, a crash kernel's backup area and
// elfcorehdr) are built in memory.
#pragma once
#include <charon/kimage/image.h>
#include <charon/loader/bytes.h>
#include <charon/loader/bzimage.h>
#include <charon/loader/elf_reloc.h>
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
  Bytes kernel;  // the whole bzImage, or a vmlinux
  // The kernel is a Linux vmlinux (ELF) booted by the Linux boot protocol
  // (--args-linux): its ELF64 entry by linux64, an ELF32 one by linux32
  // (`mode` must say which).
  bool vmlinux = false;
  std::string kernel_name;
  std::optional<Bytes> initrd;
  std::string initrd_name;
  std::string cmdline;
  Bytes purgatory;  // purgatory.ro
  std::string purgatory_name;
  EntryMode mode = EntryMode::k64;
  bool on_crash = false;  // place in the crash reservation, load with KEXEC_ON_CRASH
  // --real-mode: enter the kernel's real-mode setup code (generic16), with
  // the setup segment and the purgatory in low RAM (ImageInput::real_mode).
  bool real_mode = false;
  bool elf32_core = false;  // --elf32-core-headers
  ConsoleOptions console;
  uint32_t extra_flags = 0;  // CHARON_F_*, e.g. halt before the jump
  // 32 bytes for SETUP_RNG_SEED, as the kernel's own kexec_file_load
  // passes; empty: read them from getrandom(2). Tests pass fixed bytes.
  std::vector<uint8_t> rng_seed;
  // Where the segments may go, when the world narrows it (Xen's default
  // images, xen_default_usable); unset: RAM from 1 MiB, or the crash
  // reservation for a crash load.
  std::optional<std::vector<Range>> usable;
};

// SETUP_RNG_SEED's size in the kernel's own loader (RNG_SEED_LENGTH).
inline constexpr size_t kRngSeedBytes = 32;

struct Segment {
  std::string source;  // file name (with offset) or "generated"
  std::string what;    // kernel, initrd, boot_params, purgatory, page tables
  // What kexec_load copies: a view into a mapped file (kernel, initrd) or
  // a buffer built here; empty for a zero-filled segment.
  Bytes data;
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
  // charon_entry32, for a caller that enters in 32-bit mode with paging
  // off (Xen's EM_386 images); 0 when the purgatory has none.
  uint64_t entry32 = 0;
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

// One sentence if a mapped file behind a segment shrank or changed since
// it was mapped (MappedFile::check_unchanged), so that its bytes and the
// digest over them no longer agree with the file.
Status check_sources_unchanged(const KexecImage& img);

// The last steps every image shares, once its segments are in `img` and
// the core has filled `p`: the digest over the segments as loaded (hashed
// where the files are mapped), the check that no mapped source changed
// meanwhile, the patched parameter block, the entry points, and the
// purgatory and its page-table scratch as segments, in address order.
Status finish_image(const LoadRequest& req, RelocatableElf& elf, charon_params& p,
                    const Range& purgatory, const Range& scratch, KexecImage& img);

// The e820 table a crash kernel sees: non-RAM entries unchanged, RAM
// limited to the first 640 KiB (backed up by the purgatory) and the crash
// reservation without `held` (the backup area and the elfcorehdr, which
// the crash kernel must read as old memory, never allocate).
std::vector<MemRange> crash_e820(const MemoryMap& map, const std::vector<Range>& held);

}  // namespace charon::loader
