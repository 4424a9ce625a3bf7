#include <charon/kimage/status.h>

namespace charon::kimage {

const char* status_message(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kTooShort:
      return "file is too short for a bzImage setup header";
    case Status::kNoHdrS:
      return "not a bzImage: no \"HdrS\" magic at 0x202";
    case Status::kBadBootFlag:
      return "boot_flag at 0x1fe is not 0xaa55";
    case Status::kProtocolTooOld:
      return "boot protocol is older than 2.10 (no init_size and pref_address)";
    case Status::kNotLoadedHigh:
      return "loadflags lack LOADED_HIGH: a zImage is not supported";
    case Status::kNotRelocatable:
      return "relocatable_kernel is 0: build the kernel with CONFIG_RELOCATABLE";
    case Status::kSetupPastEnd:
      return "setup_sects puts the protected-mode kernel past the end of the file (truncated?)";
    case Status::kBadSyssize:
      return "syssize does not fit the bytes after the setup code: truncated or corrupt";
    case Status::kBadAlignment:
      return "kernel_alignment is not a power of two of at least 4096";
    case Status::kNoInitSize:
      return "init_size is 0";
    case Status::kInitSizeTooSmall:
      return "init_size is smaller than the kernel itself";
    case Status::kNo64BitEntry:
      return "no 64-bit entry point (protocol below 2.12 or no XLF_KERNEL_64)";
    case Status::kNo5Level:
      // Each loader adds how its user asks for the 32-bit entry.
      return "the machine runs 5-level paging and the kernel lacks XLF_5LEVEL: its 64-bit "
             "entry would fault on the 5-level tables; the 32-bit entry is safe (paging off)";
    case Status::kCmdlineTooLong:
      return "the command line is longer than the kernel's cmdline_size";
    case Status::kCmdlineHasNul:
      return "the command line contains a NUL byte";
    case Status::kEmptyInitrd:
      return "the initrd is empty";
    case Status::kTooManyRanges:
      return "the memory map has more free ranges than the planner holds";
    case Status::kNoRam:
      return "the memory map has no RAM";
    case Status::kNoRoomKernel:
      return "no room for the kernel: no free RAM block of its init_size at its alignment "
             "(segments do not fit)";
    case Status::kNoRoomKernel32:
      return "no room for the kernel below 4 GiB: the 32-bit protocol needs its whole "
             "init_size below 4 GiB (segments do not fit)";
    case Status::kNoRoomInitrd:
      return "no room for the initrd (segments do not fit)";
    case Status::kNoRoomInitrd32:
      return "no room for the initrd below initrd_addr_max: the 32-bit protocol cannot take it "
             "above 4 GiB (segments do not fit)";
    case Status::kNoRoomSetup:
      return "no room for boot_params and the command line below 4 GiB (segments do not fit)";
    case Status::kNoRoomPurgatory:
      return "no room for the purgatory below its limit (segments do not fit)";
    case Status::kNoRoomBackup:
      return "no room for the backup of low memory (segments do not fit)";
    case Status::kNoRoomElfcorehdr:
      return "no room for the ELF core header (segments do not fit)";
    case Status::kNoRoomScratch:
      return "no room below 4 GiB for the purgatory's page tables (segments do not fit)";
    case Status::kScratchUnsettled:
      return "the page-table scratch size did not settle";
    case Status::kBadPurgatoryAlign:
      return "the purgatory's section alignment is above the page size";
    case Status::kAbove4G:
      return "the 32-bit entry needs every segment below 4 GiB";
    case Status::kTooManyE820:
      return "the memory map has more entries than boot_params holds (128)";
    case Status::kE820Overlap:
      return "two ranges of the memory map overlap";
    case Status::kBadMemoryMap:
      return "the firmware's memory map is malformed (descriptor size below the struct)";
    case Status::kTooManyRegions:
      return "more segments than the parameter block has digest regions (16)";
    case Status::kTooManyMapRanges:
      return "more ranges to map than the parameter block holds (8)";
    case Status::kElfRange:
      return "elfcorehdr: an empty or wrapping memory range";
    case Status::kElfEmptyNote:
      return "elfcorehdr: a note range (a CPU's crash notes or vmcoreinfo) has size 0";
    case Status::kElfTooManyHeaders:
      return "elfcorehdr: more program headers than e_phnum can hold";
    case Status::kElf32Above4G:
      return "elfcorehdr: ELF32 core headers cannot describe memory at or above 4 GiB; "
             "use --elf64-core-headers";
    case Status::kNotAnImage:
      return "not a kernel charon-kexec can load: no bzImage, ELF or multiboot header";
    case Status::kNotThisType:
      return "the file is not of the type --type names";
    case Status::kElfTruncated:
      return "ELF: the header or the program headers lie past the end of the file (truncated?)";
    case Status::kElfBadHeader:
      return "ELF: not a little-endian version-1 ET_EXEC file with standard program headers";
    case Status::kElfWrongMachine:
      return "ELF: wrong machine (ELF64 must be EM_X86_64, ELF32 EM_386)";
    case Status::kElfNoLoad:
      return "ELF: no PT_LOAD segment with bytes to load";
    case Status::kElfTooManyLoads:
      return "ELF: more than 8 PT_LOAD segments";
    case Status::kSegmentPastEnd:
      return "a segment's file bytes lie past the end of the file (truncated?)";
    case Status::kSegmentFileszAboveMemsz:
      return "a segment has more file bytes than memory bytes";
    case Status::kSegmentWraps:
      return "a segment's address range wraps around (or, for a 32-bit image, passes 4 GiB)";
    case Status::kSegmentsOverlap:
      return "two segments overlap";
    case Status::kEntryOutside:
      return "the entry point lies in no loaded segment";
    case Status::kMbBadChecksum:
      return "multiboot header checksum is wrong";
    case Status::kMbVideoMode:
      return "multiboot: the image requires a video mode (flag 2), which charon-kexec cannot set";
    case Status::kMbUnknownFlag:
      return "multiboot: the image requires a feature (flags bits 3..15) charon-kexec does not "
             "know";
    case Status::kMbBadAddress:
      return "multiboot: the load addresses (header_addr, load_addr, load_end_addr, "
             "bss_end_addr) do not fit the file";
    case Status::kMbNotElf:
      return "multiboot: no address fields and no valid ELF image to load";
    case Status::kMb2BadTag:
      return "multiboot2: a header tag is misaligned or runs past header_length";
    case Status::kMb2RequiredTag:
      return "multiboot2: the image requires a header tag (framebuffer, EFI, ...) "
             "charon-kexec cannot honour";
    case Status::kMb2RequiredInfo:
      return "multiboot2: the image requires boot information charon-kexec cannot give";
    case Status::kMb2NoEntry:
      return "multiboot2: an address tag without an entry address tag";
    case Status::kSegmentNotFree:
      return "a segment's fixed physical address range is not free RAM (reserved, in use by "
             "the loader's other segments, or below 1 MiB)";
    case Status::kSegmentAbove4G:
      return "a 32-bit image (ELF32, multiboot) needs every segment below 4 GiB";
    case Status::kTooManyModules:
      return "more than 6 modules";
    case Status::kModuleCmdlineNul:
      return "a command line contains a NUL byte";
    case Status::kNoRoomModule:
      return "no room for a module below 4 GiB (segments do not fit)";
    case Status::kNoRoomInfo:
      return "no room for the multiboot information or the ELF boot notes below 4 GiB "
             "(segments do not fit)";
    case Status::kVmlinuxEntry:
      return "a vmlinux has only the entry of its ELF class: the 64-bit one for ELF64, the "
             "32-bit one for ELF32";
    case Status::kElfArgsLinux:
      return "--args-linux boots the ELF kernel by the Linux boot protocol, which "
             "plan_image() plans";
    case Status::kNoStackArgs:
      return "an ELF32 kernel with --args-elf needs the purgatory's stack_arg32_2 below 4 GiB "
             "(kexec-tools' stack arguments)";
    case Status::kRealModeVmlinux:
      return "--real-mode needs a bzImage: a vmlinux has no real-mode setup code";
    case Status::kRealModeCrash:
      return "--real-mode cannot load a crash kernel: the BIOS is not there to call after a "
             "panic";
    case Status::kRealModeEfi:
      return "--real-mode needs a BIOS for the setup code to call, and this machine was "
             "booted by EFI";
    case Status::kRealModeSetupSize:
      return "--real-mode: the kernel's setup code is larger than 32 KiB (setup_sects)";
    case Status::kRealModeCmdline:
      return "--real-mode: the command line does not fit in the setup segment above its "
             "heap (8 KiB at most)";
    case Status::kNoRoomRealMode:
      return "--real-mode: no 64 KiB of free RAM for the setup segment in [64 KiB, 640 KiB)";
    case Status::kNoRoomPurgatoryLow:
      return "--real-mode: no room for the purgatory in free RAM in [64 KiB, 640 KiB) (its "
             "real-mode tail must lie below 1 MiB)";
    case Status::kBadParamsIdentity:
      return "the purgatory's parameter block has another magic, version or size "
             "than this loader's";
  }
  return "?";
}

}  // namespace charon::kimage
