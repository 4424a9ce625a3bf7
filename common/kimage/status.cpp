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
    case Status::kBadParamsIdentity:
      return "the purgatory's parameter block has another magic, version or size "
             "than this loader's";
  }
  return "?";
}

}  // namespace charon::kimage
