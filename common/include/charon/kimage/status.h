// What the image-building core answers: one code per way a load can fail,
// each with one sentence (status_message). The core is freestanding, so it
// returns codes, never strings; a hosted adapter may add the values it
// found (loader/bzimage.cpp does for the kernel header).
#pragma once
#include <stdint.h>

namespace charon::kimage {

enum class Status : uint8_t {
  kOk,
  // the kernel (boot.rst, "The real-mode kernel header")
  kTooShort,          // smaller than the setup header
  kNoHdrS,            // no "HdrS" at 0x202: not a bzImage
  kBadBootFlag,       // boot_flag at 0x1fe is not 0xaa55
  kProtocolTooOld,    // below 2.10 (no init_size, pref_address)
  kNotLoadedHigh,     // zImage
  kNotRelocatable,    // relocatable_kernel == 0
  kSetupPastEnd,      // setup_sects puts the payload past the end of the file
  kBadSyssize,        // syssize does not fit the file
  kBadAlignment,      // kernel_alignment not a power of two >= 4096
  kNoInitSize,        // init_size == 0
  kInitSizeTooSmall,  // init_size below the payload
  kNo64BitEntry,      // 64-bit entry asked for, protocol < 2.12 or no XLF_KERNEL_64
  kNo5Level,          // 64-bit entry under 5-level paging, kernel without XLF_5LEVEL
  // what the loader adds
  kCmdlineTooLong,  // longer than the kernel's cmdline_size
  kCmdlineHasNul,
  kEmptyInitrd,
  // memory
  kTooManyRanges,  // more free ranges than the planner holds
  kNoRam,          // the memory map has no RAM at all
  kNoRoomKernel,
  kNoRoomKernel32,  // 32-bit protocol: init_size does not fit below 4 GiB
  kNoRoomInitrd,
  kNoRoomInitrd32,  // 32-bit protocol: below initrd_addr_max only
  kNoRoomSetup,
  kNoRoomPurgatory,
  kNoRoomBackup,
  kNoRoomElfcorehdr,
  kNoRoomScratch,
  kScratchUnsettled,  // the page-table size kept growing with its own range
  kBadPurgatoryAlign,
  kAbove4G,            // a 32-bit handoff with a segment above 4 GiB
  kTooManyE820,        // more entries than boot_params holds
  kE820Overlap,        // two memory-map ranges overlap
  kBadMemoryMap,       // a firmware memory map that cannot be read
  kTooManyRegions,     // more digest regions than the parameter block has
  kTooManyMapRanges,   // more map ranges than the parameter block has
  kBadParamsIdentity,  // the purgatory's block has another magic, version or size
  kElfRange,           // an empty or wrapping range in an ELF core header
  kElfEmptyNote,       // a note range of size 0
  kElfTooManyHeaders,  // more program headers than e_phnum can count
  kElf32Above4G,       // ELF32 core headers with an address at or above 4 GiB
  // other kernels (payload.h)
  kNotAnImage,       // no bzImage, ELF or multiboot header
  kNotThisType,      // a forced --type the file is not
  kElfTruncated,     // the ELF header or program headers past the end
  kElfBadHeader,     // not little-endian, version 1, ET_EXEC, sane phentsize
  kElfWrongMachine,  // ELF64 not EM_X86_64, ELF32 not EM_386
  kElfNoLoad,        // no PT_LOAD with bytes
  kElfTooManyLoads,  // more PT_LOADs than the core holds
  kSegmentPastEnd,   // file bytes of a segment past the end of the file
  kSegmentFileszAboveMemsz,
  kSegmentWraps,     // an address range that wraps (or > 4 GiB for 32-bit)
  kSegmentsOverlap,  // two segments claim the same bytes
  kEntryOutside,     // the entry point is in no loaded segment
  kMbBadChecksum,    // a multiboot header whose checksum fails
  kMbVideoMode,      // multiboot v1 flag 2: a video mode charon cannot set
  kMbUnknownFlag,    // a required multiboot v1 flag (bits 3..15) unknown
  kMbBadAddress,     // the a.out-kludge addresses do not fit the file
  kMbNotElf,         // no address fields and no ELF image
  kMb2BadTag,        // a header tag past the header or misaligned
  kMb2RequiredTag,   // a required header tag charon cannot honour
  kMb2RequiredInfo,  // a required information request charon cannot give
  kMb2NoEntry,       // an address tag without an entry address tag
  kSegmentNotFree,   // a segment's fixed place is not free RAM
  kSegmentAbove4G,   // a 32-bit handoff's segment at or above 4 GiB
  kTooManyModules,
  kModuleCmdlineNul,  // a module's or the command line with a NUL
  kNoRoomModule,
  kNoRoomInfo,
  kVmlinuxEntry,  // a vmlinux asked for the other class's entry
  kElfArgsLinux,  // plan_payload() asked for --args-linux: plan_image()'s job
  kNoStackArgs,   // elf-x86 --args-elf without the purgatory's stack_arg32_2 below 4 GiB
  // real mode (ImageInput::real_mode, boot.rst "Loading the rest of the kernel")
  kRealModeVmlinux,     // a vmlinux has no real-mode setup code
  kRealModeCrash,       // a crash kernel cannot go through the BIOS
  kRealModeEfi,         // EFI handed over: no BIOS for the setup code to call
  kRealModeSetupSize,   // setup code beyond 32 KiB
  kRealModeCmdline,     // cmdline past the 64 KiB setup segment
  kNoRoomRealMode,      // no 64 KiB for the setup segment in low RAM
  kNoRoomPurgatoryLow,  // no room for the purgatory in low RAM
};

// One sentence, e.g. "not a bzImage: no \"HdrS\" magic at 0x202".
const char* status_message(Status s);

}  // namespace charon::kimage
