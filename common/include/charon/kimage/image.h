// The image-building core: the one job every charon loader does. An
// adapter (charon-kexec over /sys and kexec_load, charon.efi over the EFI
// memory map and the trampoline) gathers the facts of its world into one
// ImageInput; the core parses the kernel, plans where every segment goes,
// builds boot_params with the command line and setup_data, and fills the
// purgatory's parameter block with its digests. The adapter then carries
// the result out. Freestanding: no heap, no libc, fixed capacities, and a
// Status for every way it can fail.
#pragma once
#include <charon/boot/boot_params.h>
#include <charon/boot/efi_setup.h>
#include <charon/handoff.h>
#include <charon/kimage/bzimage.h>
#include <charon/kimage/free_list.h>
#include <charon/kimage/status.h>
#include <charon/params.h>
#include <charon/sha256.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::kimage {

// One range of the machine's memory map, [start, end), with its e820 type.
struct MemRange {
  uint64_t start, end;
  boot::E820Type type;
  friend bool operator==(const MemRange&, const MemRange&) = default;
};

// The purgatory's console. serial_baud 0 keeps the divisor the old kernel
// or the firmware programmed, which is always right for the line the user
// is already reading; any other value reprograms the 8250.
struct ConsoleSpec {
  bool serial = false;
  uint16_t serial_base = 0x3f8;
  uint32_t serial_baud = 0;
  bool debugcon = false;
  uint16_t debugcon_port = 0xe9;
};

// A crash load: the purgatory copies [backup_src, backup_src + backup_size)
// into a zero-filled area after verification, and the crash kernel reads
// the ELF core header. Sizes only; the adapter builds the header.
struct CrashSpec {
  bool enabled = false;
  uint64_t backup_src = 0;
  uint64_t backup_size = 0;
  uint64_t elfcorehdr_size = 0;
};

// One setup_data node's payload; build_setup() adds the header and links
// the chain (boot.rst, "setup_data").
struct SetupDataNode {
  uint32_t type;  // boot::SETUP_*
  const uint8_t* data;
  uint32_t len;
};

// The running system's EFI facts, for a next kernel that can take them
// (XLF_EFI_KEXEC): efi_info's signature, system table and descriptor
// version as the firmware gave them, the runtime memory map with its
// virtual addresses, and the SETUP_EFI payload. build_setup() passes
// none of it to a kernel without the flag.
struct EfiHandoff {
  bool present = false;
  uint32_t loader_signature = 0;  // "EL64" on x86_64 firmware
  uint64_t systab = 0;
  uint32_t memdesc_version = 0;
  const uint8_t* runtime_map = nullptr;  // descriptors, desc_size apart
  uint32_t runtime_map_size = 0;
  uint32_t desc_size = 0;
  boot::efi_setup_data setup{};
};

struct PayloadImage;  // payload.h

// The real-mode setup segment of a bzImage at base X (boot.rst, "Loading
// the rest of the kernel", and its sample boot configuration for a
// bzImage of protocol 2.02 or later): the setup code (setup_sects + 1
// sectors, at most 32 KiB) at X, its heap and stack up to X + heap_end,
// the command line right above, all inside one 64 KiB segment.
inline constexpr uint64_t kRealModeSetupMax = 0x8000;
inline constexpr uint64_t kRealModeHeapEnd = 0xe000;  // SP; heap_end_ptr = this - 0x200
inline constexpr uint64_t kRealModeSegment = 0x10000;
// Where the setup segment and the purgatory may go: low RAM below 640 KiB
// (and so below the EBDA and the BIOS), above the IVT, the BIOS data area
// and the boot-sector area in the first 64 KiB. Only RAM the memory map
// names: the adapter's free list decides the rest.
inline constexpr uint64_t kRealModeLow = 0x10000;
inline constexpr uint64_t kRealModeTop = 0xa0000;

struct ImageInput {
  // ---- the files
  const uint8_t* kernel = nullptr;  // the whole bzImage
  size_t kernel_size = 0;
  // Or a Linux vmlinux (--args-linux): its PT_LOADs as parse_payload()
  // checked them, each at its p_paddr, entered at e_entry (physical) by
  // the protocol of its class (ELF64: linux64, ELF32: linux32, as `entry`
  // must say). It has no setup header: vmlinux_kernel() states what the
  // planner needs, vmlinux_setup_header() what boot_params carries.
  // `kernel` is then unused.
  const PayloadImage* vmlinux = nullptr;
  bool has_initrd = false;
  uint64_t initrd_size = 0;
  // The longest command line that build_setup() will be given: placement
  // sizes the setup segment by it (a crash load learns elfcorehdr= later).
  size_t cmdline_max_len = 0;
  Entry entry = Entry::k64;
  // Enter the kernel through its own real-mode setup code (generic16),
  // which asks the BIOS for the memory map, video and disks and then
  // enters the protected-mode kernel at code32_start: the 32-bit rules
  // apply to the kernel and the initrd (all below 4 GiB), the setup
  // segment and the purgatory go below 640 KiB (`free` must hold low RAM
  // for them), and boot_params is the setup code's, built from the header.
  bool real_mode = false;

  // ---- the machine
  // Where segments may go (RAM the loader may use now, or the crash
  // reservation); the planner carves it.
  FreeList* free = nullptr;
  // The machine's memory map in e820 terms, any order: its RAM, ACPI and
  // NVS ranges are the memory the purgatory maps (memory_ranges()).
  const MemRange* memory_map = nullptr;
  size_t nmemory_map = 0;
  // The machine runs 5-level paging (CR4.LA57): the 64-bit handoff keeps
  // it, which only a kernel with XLF_5LEVEL can take (boot.rst, xloadflags).
  bool la57 = false;
  uint64_t acpi_rsdp = 0;  // 0: the kernel searches itself
  const boot::screen_info* screen_info = nullptr;
  const SetupDataNode* setup_data = nullptr;
  size_t nsetup_data = 0;
  EfiHandoff efi;
  uint8_t secure_boot = 0;  // boot_params.secure_boot (zero-page.rst, 0x1ec)
  // Memory-map entries beyond boot_params' 128 that the setup segment
  // keeps room for, in a SETUP_E820_EXT node (0: none).
  size_t e820_ext_room = 0;
  // More memory the purgatory must map (charon.efi's memory-map buffer).
  const Range* extra_map = nullptr;
  size_t nextra_map = 0;

  // ---- the purgatory
  uint64_t purgatory_size = 0;   // file and bss
  uint64_t purgatory_align = 0;  // at most a page
  // Where it may end: 2 GiB for code with R_X86_64_32S relocations, 4 GiB
  // for position-independent code. Below 2 GiB is always tried first.
  uint64_t purgatory_max_end = uint64_t{1} << 31;

  CrashSpec crash;
  ConsoleSpec console;
  uint32_t flags = 0;  // CHARON_F_*
};

struct ImagePlan {
  BzImage kernel;
  HandoffKind handoff;
  Range kernel_seg;  // [load, load + footprint), page-rounded
  Range initrd;      // empty without one
  Range setup;       // boot_params (real mode: the setup code), the command line, setup_data
  uint64_t cmdline;  // cmd_line_ptr: setup + 4096, or in real mode setup + heap_end
  Range purgatory;
  Range scratch;          // the purgatory's page tables
  Range backup;           // crash loads only
  Range elfcorehdr;       // crash loads only
  uint64_t kernel_entry;  // load + 0x200 (64-bit) or load (32-bit)
  // The memory the purgatory's identity map covers (params.memory), and
  // how many gaps between memory ranges memory_ranges() had to close.
  charon_region memory[CHARON_MAX_MEMORY_RANGES];
  size_t nmemory;
  size_t memory_gaps_closed;
};

// The memory the purgatory's identity map covers, from `map` (e820 terms,
// any order): its RAM, ACPI data and ACPI NVS ranges, sorted, touching
// or overlapping ones merged, into `out` (`count` used, the rest zero).
// Beyond CHARON_MAX_MEMORY_RANGES the smallest gaps between them are
// closed (and so mapped) until they fit; returns how many were.
size_t memory_ranges(const MemRange* map, size_t n, charon_region (&out)[CHARON_MAX_MEMORY_RANGES],
                     size_t& count);

// Parses the kernel and places every segment (placement.cpp has the rules).
Status plan_image(const ImageInput& in, ImagePlan& out);

// A vmlinux as the planner sees a bzImage (vmlinux.cpp): its footprint,
// from the first segment's page to the last one's end, is its payload and
// init_size; the limits of the header it lacks are those of Linux's own
// x86 header (cmdline_size 2047, initrd_addr_max 0x7fffffff) at protocol
// 2.12; XLF_KERNEL_64 for ELF64, and no XLF_5LEVEL (nothing says it).
Status vmlinux_kernel(const PayloadImage& im, BzImage& out);
// The setup header a vmlinux's boot_params starts from: the fields above,
// "HdrS" and boot_flag; init_size 0 (no decompressor runs, so the
// purgatory maps nothing for one), everything else 0.
boot::setup_header vmlinux_setup_header(const BzImage& k);

// Bytes of the setup segment for `in` with a command line of `cmdline_len`
// characters: boot_params, the command line and its NUL, the setup_data
// chain (the caller's nodes, SETUP_EFI, room for SETUP_E820_EXT) and the
// EFI runtime map.
uint64_t setup_bytes(const ImageInput& in, size_t cmdline_len);

// Writes the setup segment into `buf` (setup_bytes() long, zeroed here):
// the setup header copied from the kernel with the fields a loader owns,
// the command line at boot_params + 4096, the initrd, the RSDP,
// screen_info, secure_boot, efi_info with the runtime map, the setup_data
// chain, and the memory map when `e820` is given (charon.efi fills it
// after ExitBootServices with fill_e820()).
Status build_setup(const ImageInput& in, const ImagePlan& plan, const char* cmdline,
                   size_t cmdline_len, const MemRange* e820, size_t ne820, uint8_t* buf,
                   size_t buf_size);

// Sorts `r` by address, refuses overlaps, and merges touching ranges of
// one type, in place; `n` becomes the new count.
Status normalize_memmap(MemRange* r, size_t& n);
// A normalized map into a built setup segment: the first 128 entries in
// boot_params' e820 table, the rest in the SETUP_E820_EXT node whose room
// `in.e820_ext_room` reserved (kTooManyE820 when they do not fit).
Status fill_e820(const ImagePlan& plan, const MemRange* r, size_t n, uint8_t* buf, size_t buf_size);

// The parameter block for the plan's Linux handoff: every field rewritten
// but the identity (magic, version, size), which must be this core's.
// Regions and digests come from fill_digests().
Status fill_params(const ImageInput& in, const ImagePlan& plan, charon_params& p);

// A region of the digest: `len` bytes that are at `src` now and will be
// at `dest` when the purgatory runs.
struct DigestRegion {
  const uint8_t* src;
  uint64_t dest;
  uint64_t len;
};
// regions[], the combined digest and one digest per region (so that a
// mismatch names the region), in one pass over the bytes. With the scalar
// code, a region over 1 MiB gets no digest of its own (left zero, "not
// given"): that would take a second pass.
Status fill_digests(const DigestRegion* r, size_t n, Sha256Impl impl, charon_params& p);

// The parameter block's identity is this core's ABI.
Status check_params_identity(const charon_params& p);
// Every field back to its documented default but the identity, so that
// nothing a purgatory image carried survives into a load.
Status reset_params(charon_params& p);

}  // namespace charon::kimage
