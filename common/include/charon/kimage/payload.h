// Kernels other than bzImages, in the same core: ELF64 and ELF32 kernels
// (vmlinux, freestanding payloads) and multiboot v1 and v2 images with
// their modules. The core recognizes the file, checks it, places its
// segments at their physical addresses with the same free list as a
// bzImage load, places modules, the multiboot information structure, the
// purgatory and its page tables, builds the information structure and
// fills the parameter block for a generic handoff. The adapter reads the
// files and carries the result out, as for a bzImage (image.h).
//
// Specifications: the ELF gABI and its i386/x86-64 supplements (program
// headers); "Multiboot Specification version 0.6.96" (multiboot v1) and
// "Multiboot2 Specification version 2.0" (header tags, boot information
// tags, machine state). kexec-tools' kexec/arch/i386/kexec-multiboot-x86.c,
// kexec-mb2-x86.c, kexec-elf-x86.c and kexec/arch/x86_64/kexec-elf-x86_64.c
// are the peer.
#pragma once
#include <charon/handoff.h>
#include <charon/kimage/free_list.h>
#include <charon/kimage/image.h>
#include <charon/kimage/status.h>
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::kimage {

// kexec-tools' --type names, in its x86_64 probe order, which is also the
// order detect_payload() tries them.
enum class PayloadType : uint8_t { kMultiboot2, kElf64, kMultiboot, kElf32, kBzImage };

// "multiboot2-x86", "elf-x86_64", "multiboot-x86", "elf-x86", "bzImage64".
const char* payload_type_name(PayloadType t);
// Also takes kexec-tools' "bzImage" (the same file type here). False for
// any other word.
bool payload_type_from_name(const char* name, PayloadType& out);

// Multiboot's handoff magic in EAX (v1 3.2, v2 3.3).
inline constexpr uint32_t kMultibootBootMagic = 0x2badb002;
inline constexpr uint32_t kMultiboot2BootMagic = 0x36d76289;

inline constexpr size_t kMaxLoadSegments = 8;  // PT_LOADs (or the a.out kludge's one)
inline constexpr size_t kMaxModules = 6;

// One part of the file at a fixed physical address: `filesz` bytes from
// `offset`, then zeros up to `memsz`.
struct LoadSegment {
  uint64_t offset, filesz, paddr, memsz;
};

// What the file says, after every check.
struct PayloadImage {
  PayloadType type;
  LoadSegment seg[kMaxLoadSegments];  // sorted by paddr, disjoint
  size_t nseg;
  uint64_t entry;  // physical
};

// What an ELF kernel is handed, by kexec-tools' elf-x86 and elf-x86_64
// options: --args-elf (ELF boot notes with the command line: RDI for
// ELF64, [ESP + 4] for ELF32), --args-linux (the Linux boot protocol:
// boot_params in RSI or ESI, planned by plan_image() with
// ImageInput::vmlinux), --args-none (nothing but the entry).
enum class ElfArgs : uint8_t { kElf, kLinux, kNone };
const char* elf_args_name(ElfArgs a);  // "--args-elf", "--args-linux", "--args-none"

// A Linux kernel's ELF image (vmlinux): an ELF note named "Linux" in a
// PT_NOTE segment (init/version.c puts LINUX_ELFNOTE_BUILD_SALT in every
// build). charon's default for such a file is --args-linux, where
// kexec-tools' is always --args-elf, which no Linux kernel reads.
bool is_linux_elf(const uint8_t* file, size_t size);

// The image's segments as whole pages: segments that share a page share
// one chunk (kexec segments are whole pages). Returns the count, or 0
// when a chunk's page range wraps.
size_t image_chunks(const PayloadImage& im, Range (&out)[kMaxLoadSegments]);
// The bytes of `chunk` that are not zero-fill: from the chunk's start to
// the end of its last segment's file data.
uint64_t chunk_data_bytes(const PayloadImage& im, const Range& chunk);
// Writes `chunk` (chunk_data_bytes long) from `file`.
void build_chunk(const uint8_t* file, const PayloadImage& im, const Range& chunk, uint8_t* out);

// The first type whose header the file carries (the order above).
// kNotAnImage when none does.
Status detect_payload(const uint8_t* file, size_t size, PayloadType& out);
// Checks `file` as `type` (detected or forced) and fills `out` on kOk.
// For kBzImage it only says so: bzImages go through plan_image().
Status parse_payload(const uint8_t* file, size_t size, PayloadType type, PayloadImage& out);

struct ModuleSpec {
  uint64_t size;
  const char* cmdline;  // without NUL
  size_t cmdline_len;
};

struct PayloadInput {
  const uint8_t* file = nullptr;
  size_t file_size = 0;
  PayloadType type = PayloadType::kElf64;
  // ELF: what the kernel is handed (kLinux is plan_image()'s job).
  ElfArgs args = ElfArgs::kElf;
  // Multiboot and --args-elf: the command line (no NUL inside).
  const char* cmdline = "";
  size_t cmdline_len = 0;
  const ModuleSpec* modules = nullptr;  // multiboot only
  size_t nmodules = 0;
  const MemRange* memmap = nullptr;  // the machine's map, normalized
  size_t nmemmap = 0;
  // An ACPI RSDP's bytes (20 for revision 0, 36 from revision 2) for
  // multiboot2's ACPI tag; none: no tag.
  const uint8_t* rsdp = nullptr;
  size_t rsdp_len = 0;

  FreeList* free = nullptr;
  uint64_t top_of_ram = 0;
  uint64_t purgatory_size = 0;
  uint64_t purgatory_align = 0;
  uint64_t purgatory_max_end = uint64_t{1} << 31;
  ConsoleSpec console;
  uint32_t flags = 0;  // CHARON_F_*
};

struct PayloadPlan {
  PayloadImage image;
  HandoffKind handoff;  // generic64 (ELF64) or generic32
  // The segments' page-rounded places, one per group of segments that
  // share a page (kexec segments are whole pages).
  Range chunks[kMaxLoadSegments];
  size_t nchunks;
  Range modules[kMaxModules];  // page-aligned, below 4 GiB
  // The multiboot information, or the ELF boot notes (--args-elf); empty
  // for --args-none.
  Range info;
  Range purgatory;
  Range scratch;
  // The memory the purgatory's identity map covers, by the rule
  // plan_image() uses (memory_ranges()), and how many gaps it closed.
  charon_region memory[CHARON_MAX_MEMORY_RANGES];
  size_t nmemory;
  size_t memory_gaps_closed;
};

// Parses and places everything (payload.cpp has the rules).
Status plan_payload(const PayloadInput& in, PayloadPlan& out);

// ELF boot notes (elf_boot_notes.cpp): the header, the boot loader's name
// and version, and `cmdline` (no NUL inside) with its NUL, checksummed.
uint64_t elf_boot_notes_bytes(size_t cmdline_len);
// Writes them into `buf`, elf_boot_notes_bytes() long.
void build_elf_boot_notes(const char* cmdline, size_t cmdline_len, uint8_t* buf, uint64_t total);

// Bytes of the multiboot information structure or the ELF boot notes for
// `in` (0 for --args-none).
uint64_t payload_info_bytes(const PayloadInput& in);
// Writes it for the plan's addresses (info, modules) into `buf`.
Status build_payload_info(const PayloadInput& in, const PayloadPlan& plan, uint8_t* buf,
                          size_t buf_size);

// The parameter block for the plan's generic handoff: the registers the
// payload's protocol asks for (multiboot: EAX = magic, EBX = info; ELF
// with --args-elf: RDI = the boot notes, or for ELF32 kexec-tools' frame
// [ESP] = 0, [ESP + 4] = the notes, through the block's stack arguments;
// otherwise the entry only), ESP/RSP = `stack_top` (the purgatory's
// stack_end), the typed identity map, the console. `stack_arg32_2` is
// the address of the block's field of that name in the relocated
// purgatory (kexec-tools' symbol), for ELF32 with --args-elf. Regions
// and digests come from fill_digests().
Status fill_payload_params(const PayloadInput& in, const PayloadPlan& plan, uint64_t stack_top,
                           uint64_t stack_arg32_2, charon_params& p);

}  // namespace charon::kimage
