// The contract between the protocol-test harness and the probe payload.
//
// The harness writes one Descriptor at kDescriptorAddr before it enters the
// purgatory; the probe reads it after the handoff and checks the state it
// was handed against it. Both sides also derive the low-memory pattern and
// the boot_params page from the same functions below, so the probe never
// trusts a copy that the purgatory could have touched.
#pragma once
#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

namespace probe {

// Fixed physical addresses. Everything sits in the first 64 MiB, away from
// the harness (1 MiB) and from every purgatory load address the runner
// uses, and below the 1 GiB of RAM that the runner gives QEMU.
inline constexpr uint64_t kProbeAddr = 0x01000000;  // like a bzImage's pref_address
// The probe's init_size in the zero page: larger than the probe and than
// one 2 MiB page, so a purgatory that maps only the entry's page fails.
inline constexpr uint32_t kProbeInitSize = 0x00600000;
inline constexpr uint64_t kDescriptorAddr = 0x00e00000;    // this struct
inline constexpr uint64_t kBootParamsAddr = 0x00d00000;    // one page
inline constexpr uint64_t kCmdlineAddr = 0x00d01800;       // a page of its own
inline constexpr uint64_t kGenericStackAddr = 0x00c00ff0;  // regs64.rsp/regs32.esp
inline constexpr uint64_t kBackupDst = 0x02000000;
inline constexpr uint64_t kScratchAddr = 0x02400000;
inline constexpr uint64_t kScratchSize = 128 * 1024;
inline constexpr uint64_t kLowMemSize = CHARON_BACKUP_DEFAULT_SIZE;

// isa-debug-exit on port 0xf4: QEMU exits with status (value << 1) | 1.
inline constexpr uint16_t kDebugExitPort = 0xf4;
inline constexpr uint32_t kExitPass = 0x10;  // status 33
inline constexpr uint32_t kExitFail = 0x11;  // status 35

// The probe image starts with a jump over this block (like a bzImage's
// setup header), so the harness learns the image's size without a side
// channel.
inline constexpr uint32_t kInfoOffset = 0x10;
inline constexpr uint32_t kInfoMagic = 0x31425250;  // "PRB1"
struct ProbeInfo {
  uint32_t magic;
  uint32_t file_size;  // bytes hashed as region 0
  uint32_t mem_size;   // file + bss: the "init_size" the purgatory must map
  uint32_t entry32;    // offset of the 32-bit entry (0)
  uint32_t entry64;    // offset of the 64-bit entry (0x200, boot.rst)
  // The real-mode stub (entry16.asm): position-independent 16-bit code in
  // the image that the harness copies below 1 MiB, to kRmStubAddr.
  uint32_t rm_stub;       // offset of the stub in the image
  uint32_t rm_stub_size;  // bytes
  uint32_t entry16_pm;    // address of the 32-bit code the stub returns to
};

// The stub begins with this header, which the harness fills in the copy:
// the realmode_swtch hook to far-call (cs = 0: none) and the 32-bit
// target it leaves through (entry16_pm, or a purgatory's code32_start
// hook that must come back there), then the real-mode entry itself.
struct RmStubHeader {
  uint16_t hook_ip, hook_cs;
  uint32_t pm_target;  // far pointer (offset, selector 0x10) for the way back
  uint16_t pm_selector, pad;
};
static_assert(sizeof(RmStubHeader) == 12);
// Below 1 MiB, clear of the IVT and BIOS data area; the stub's stack
// (regs16 ss:sp) lies just under it. [kRmScratchLo, purgatory end) is
// excluded from the backup check: the purgatory and the stub live there.
inline constexpr uint64_t kRmStubAddr = 0x8000;
// The stub is entered through a segment this far below it: cs = (stub -
// kRmCsBias) >> 4, ip = kRmCsBias + sizeof(RmStubHeader). Its code
// addresses everything from that base, so it records nothing right
// unless both cs and ip were loaded as given.
inline constexpr uint64_t kRmCsBias = 0x100;
inline constexpr uint64_t kRmScratchLo = 0x7000;
inline constexpr uint64_t kLowPurgAddr = 0x10000;  // purgatory.bin for real mode (low=1)

struct Range {
  uint64_t start;
  uint64_t len;
  char name[16];
};

// e820=1 (the typed-map world): the machine's memory map as the harness
// hands it to the purgatory (params.memory) and to the kernel (the zero
// page's e820 table): QEMU's map with a reserved hole carved out of RAM.
struct E820 {
  uint64_t start, end;
  uint32_t type;  // 1 RAM, 2 reserved, 3 ACPI, 4 NVS, ... (Linux's e820_type)
  uint32_t pad;
};
inline constexpr int kMaxE820 = 16;
// Three pages inside a 2 MiB page inside the GiB below 1 GiB, clear of
// everything the harness places: only 4 KiB leaves can map around it.
inline constexpr uint64_t kReservedHoleStart = 0x38101000;
inline constexpr uint64_t kReservedHoleEnd = 0x38104000;
// Memory as the map takes it: RAM, ACPI data, ACPI NVS.
constexpr bool is_memory_type(uint32_t t) {
  return t == 1 || t == 3 || t == 4;
}

inline constexpr uint32_t kDescriptorMagic = 0x44425250;  // "PRBD"
inline constexpr int kMaxRanges = 32;
inline constexpr int kCmdlineMax = 96;

struct Descriptor {
  uint32_t magic;
  uint32_t handoff;  // CHARON_HANDOFF_* the probe expects to have been entered with
  char case_name[48];
  uint32_t expect_la57;  // 64-bit kinds: 5-level paging expected
  uint32_t allow_1g;     // 1 GiB leaves allowed (CPUID.80000001h:EDX[26])
  uint64_t pattern_seed;
  uint64_t boot_params;  // expected RSI/ESI
  uint64_t backup_dst;   // where [0, 640 KiB) must have been copied
  uint64_t backup_size;
  uint64_t cr3_lo, cr3_hi;      // the handed-over CR3 must lie in [lo, hi)
  uint64_t stack_lo, stack_hi;  // linux kinds: RSP/ESP must lie in (lo, hi]
  charon_regs64 regs64;         // generic64: every register, exactly
  charon_regs32 regs32;         // generic32: every register, exactly
  char cmdline[kCmdlineMax];    // the string boot_params.cmd_line_ptr points to
  uint32_t nranges;
  uint32_t efi_tables;  // nonzero: the zero page names the fake EFI tables below
  uint32_t xloadflags;  // setup_header.xloadflags in the zero page
  // generic32 with kexec-tools' stack arguments: regs32.esp is the address
  // of the block's stack_arg32_2, and the payload must start on the
  // purgatory's own stack (ESP in (stack_lo, stack_hi], 4 KiB free below
  // it above free_stack_lo) with [ESP] = stack_arg32_2, [ESP + 4] =
  // stack_arg32_1.
  uint32_t stack_args;
  uint32_t stack_arg32_1, stack_arg32_2;
  uint64_t free_stack_lo;
  Range ranges[kMaxRanges];  // 64-bit kinds: each must be identity-mapped
  // e820=1: every memory page must be mapped, and every leaf must lie in
  // memory or in `ranges` (what the handoff requires), never in a
  // reserved range or a hole of this map that nothing required.
  uint32_t ne820;
  uint32_t pad2;
  E820 e820[kMaxE820];
  // generic16 (and kexec-tools' --real-mode): the real-mode registers,
  // exactly; [backup_skip_lo, backup_skip_hi) is left out of the backup
  // check (the low purgatory and the stub were written there after the
  // pattern). debug_hooks: the stub far-called realmode_swtch and left
  // through code32_start, as a Linux setup code does.
  charon_regs16 regs16;
  uint64_t backup_skip_lo, backup_skip_hi;
  uint32_t debug_hooks;
  uint32_t pad3;
};

// splitmix64: cheap, and every 8-byte word of low memory differs.
constexpr uint64_t pattern_word(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// boot.rst offsets inside the zero page (struct boot_params) that the
// harness fills like a bootloader would.
inline constexpr size_t kEdidInfoOffset = 0x140;     // edid_info[128]: the canary
inline constexpr size_t kBootFlagOffset = 0x1fe;     // setup_header.boot_flag = 0xaa55
inline constexpr size_t kHdrSOffset = 0x202;         // setup_header.header = "HdrS"
inline constexpr size_t kVersionOffset = 0x206;      // setup_header.version
inline constexpr size_t kLoaderTypeOffset = 0x210;   // setup_header.type_of_loader
inline constexpr size_t kLoadFlagsOffset = 0x211;    // setup_header.loadflags
inline constexpr size_t kCmdLinePtrOffset = 0x228;   // setup_header.cmd_line_ptr
inline constexpr size_t kCmdlineSizeOffset = 0x238;  // setup_header.cmdline_size
inline constexpr size_t kXloadflagsOffset = 0x236;   // setup_header.xloadflags
inline constexpr size_t kSetupDataOffset = 0x250;    // setup_header.setup_data
inline constexpr size_t kInitSizeOffset = 0x260;     // setup_header.init_size
inline constexpr size_t kE820EntriesOffset = 0x1e8;  // e820_entries (u8)
inline constexpr size_t kE820TableOffset = 0x2d0;    // e820_table: 20-byte {addr, size, type}
inline constexpr uint32_t kHdrSMagic = 0x53726448;
// xloadflags (boot.rst): what the probe's 64-bit entry can do, like a
// current kernel's: XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G, XLF_5LEVEL.
inline constexpr uint16_t kXlf5Level = 1u << 5;
inline constexpr uint16_t kProbeXloadflags = (1u << 0) | (1u << 1) | kXlf5Level;

// efi=1: fake UEFI tables above 4 GiB (the runner gives QEMU -m 6G, so RAM
// at [4 GiB, 7 GiB)), away from everything else the purgatory maps. Each
// straddles a 2 MiB boundary, so that mapping only its first bytes shows.
// Offsets: zero-page.rst (efi_info at 0x1c0, Linux's struct efi_info) and
// the UEFI spec for a 64-bit firmware (4.3 EFI_SYSTEM_TABLE: 24-byte
// header, NumberOfTableEntries at 104, ConfigurationTable at 112, 120
// bytes; 4.6 EFI_CONFIGURATION_TABLE: 16-byte GUID, 8-byte pointer).
inline constexpr size_t kEfiInfoOffset = 0x1c0;
inline constexpr uint32_t kEfiLoaderSignature64 = 0x34364c45;  // "EL64"
inline constexpr uint64_t kEfiSystabAddr = 0x1801fffc0;        // 6 GiB + 2 MiB - 64
inline constexpr uint64_t kEfiSystabSize = 120;
inline constexpr uint64_t kEfiSystabSignature = 0x5453595320494249ull;  // "IBI SYST"
inline constexpr size_t kEfiNrTablesOffset = 104;
inline constexpr size_t kEfiTablesOffset = 112;
inline constexpr uint64_t kEfiConfigAddr = 0x1a03fffe8;  // 6.5 GiB + 4 MiB - 24
inline constexpr uint32_t kEfiConfigCount = 3;
inline constexpr uint64_t kEfiConfigEntrySize = 24;
inline constexpr uint64_t kEfiMemmapAddr = 0x1905fffa0;  // 6.25 GiB + 6 MiB - 96
inline constexpr uint32_t kEfiMemdescSize = 48;
inline constexpr uint32_t kEfiMemmapSize = 4 * kEfiMemdescSize;

// The expected zero page: zero where a loader leaves it zero (so the
// purgatory reads ext_cmd_line_ptr = 0 and so on), the setup_header
// fields a loader writes, and a seeded pattern in edid_info, a field no
// purgatory has a reason to write, so stray writes show. With efi, the
// efi_info a 64-bit firmware's loader writes, naming the fake tables.
// With `ne820` entries, the e820 table a loader writes.
inline void build_boot_params(uint8_t* page, uint64_t seed, uint32_t cmdline, bool efi = false,
                              uint16_t xloadflags = kProbeXloadflags, const E820* e820 = nullptr,
                              uint32_t ne820 = 0) {
  auto put = [page](size_t off, uint32_t v, int bytes) {
    for (int b = 0; b < bytes; ++b) page[off + b] = static_cast<uint8_t>(v >> (8 * b));
  };
  for (size_t i = 0; i < 4096; ++i) page[i] = 0;
  for (size_t i = 0; i < 128 / 8; ++i) {
    const uint64_t w = pattern_word(seed ^ 0xb007b007ull, i);
    for (int b = 0; b < 8; ++b)
      page[kEdidInfoOffset + i * 8 + b] = static_cast<uint8_t>(w >> (8 * b));
  }
  put(kBootFlagOffset, 0xaa55, 2);
  put(kHdrSOffset, kHdrSMagic, 4);
  put(kVersionOffset, 0x020f, 2);   // boot protocol 2.15
  put(kLoaderTypeOffset, 0xff, 1);  // "undefined" loader
  put(kLoadFlagsOffset, 0x01, 1);   // LOADED_HIGH
  put(kXloadflagsOffset, xloadflags, 2);
  put(kCmdLinePtrOffset, cmdline, 4);
  put(kCmdlineSizeOffset, kCmdlineMax - 1, 4);
  put(kInitSizeOffset, kProbeInitSize, 4);
  if (efi) {
    // efi_loader_signature, efi_systab, efi_memdesc_size,
    // efi_memdesc_version, efi_memmap, efi_memmap_size, efi_systab_hi,
    // efi_memmap_hi: eight u32 in that order.
    const uint32_t ei[8] = {kEfiLoaderSignature64,
                            static_cast<uint32_t>(kEfiSystabAddr),
                            kEfiMemdescSize,
                            1,
                            static_cast<uint32_t>(kEfiMemmapAddr),
                            kEfiMemmapSize,
                            static_cast<uint32_t>(kEfiSystabAddr >> 32),
                            static_cast<uint32_t>(kEfiMemmapAddr >> 32)};
    for (int i = 0; i < 8; ++i) put(kEfiInfoOffset + 4 * i, ei[i], 4);
  }
  put(kE820EntriesOffset, ne820, 1);
  for (uint32_t i = 0; i < ne820; ++i) {
    const size_t at = kE820TableOffset + 20 * i;
    const uint64_t size = e820[i].end - e820[i].start;
    put(at, static_cast<uint32_t>(e820[i].start), 4);
    put(at + 4, static_cast<uint32_t>(e820[i].start >> 32), 4);
    put(at + 8, static_cast<uint32_t>(size), 4);
    put(at + 12, static_cast<uint32_t>(size >> 32), 4);
    put(at + 16, e820[i].type, 4);
  }
}

}  // namespace probe
