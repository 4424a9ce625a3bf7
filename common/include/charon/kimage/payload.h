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
  const char* cmdline = "";  // multiboot: the command line (no NUL inside)
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
  Range info;                  // the multiboot information; empty for ELF
  Range purgatory;
  Range scratch;
  uint64_t idmap_limit;
};

// Parses and places everything (payload.cpp has the rules).
Status plan_payload(const PayloadInput& in, PayloadPlan& out);

// The bytes of chunk `i` that are not zero-fill: from the chunk's start to
// the end of its last segment's file data.
uint64_t chunk_data_bytes(const PayloadPlan& plan, size_t i);
// Writes chunk `i` (chunk_data_bytes long) from the file.
void build_chunk(const PayloadInput& in, const PayloadPlan& plan, size_t i, uint8_t* out);

// Bytes of the multiboot information structure for `in` (0 for ELF).
uint64_t payload_info_bytes(const PayloadInput& in);
// Writes it for the plan's addresses (info, modules) into `buf`.
Status build_payload_info(const PayloadInput& in, const PayloadPlan& plan, uint8_t* buf,
                          size_t buf_size);

// The parameter block for the plan's generic handoff: the registers the
// payload's protocol asks for (ELF: entry only; multiboot: EAX = magic,
// EBX = info), ESP/RSP = `stack_top` (the purgatory's stack_end), the
// identity map, the console. Regions and digests come from fill_digests().
Status fill_payload_params(const PayloadInput& in, const PayloadPlan& plan, uint64_t stack_top,
                           charon_params& p);

}  // namespace charon::kimage
