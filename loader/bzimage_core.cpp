// Freestanding bzImage header checks; see bzimage_core.h. kexec-tools'
// kexec-bzImage64.c and Linux's own EFI stub make the same checks.
#include <charon/loader/bzimage_core.h>

namespace charon::loader {

namespace {

bool is_pow2(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

template <class T>
T read_le(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  return v;
}

constexpr uint16_t kMinProtocolCore = 0x020a;  // 2.10: init_size, pref_address
constexpr uint16_t kMin64Core = 0x020c;        // 2.12: xloadflags

}  // namespace

BzStatus check_bzimage(const uint8_t* f, size_t size, BzEntry entry, BzHeaderInfo& out) {
  // The header must reach past init_size (0x260..0x263), a 2.10 field.
  if (size < kSetupHeaderOffset + sizeof(setup_header)) return BzStatus::kTooShort;
  if (read_le<uint32_t>(f + 0x202) != kHdrSMagic) return BzStatus::kNoHdrS;
  if (read_le<uint16_t>(f + 0x1fe) != kBootFlag) return BzStatus::kBadBootFlag;
  const uint16_t version = read_le<uint16_t>(f + 0x206);
  if (version < kMinProtocolCore) return BzStatus::kProtocolTooOld;
  if (!(f[0x211] & LOADED_HIGH)) return BzStatus::kNotLoadedHigh;
  if (f[0x234] == 0) return BzStatus::kNotRelocatable;
  // boot.rst, setup_sects: "If this field is 0, the real value is 4."
  const size_t sects = f[0x1f1] == 0 ? 4 : f[0x1f1];
  const size_t setup_size = (sects + 1) * 512;
  if (setup_size >= size) return BzStatus::kSetupPastEnd;
  const size_t payload = size - setup_size;
  // syssize: 16-byte paragraphs of protected-mode code, rounded up.
  const uint64_t sys_bytes = uint64_t{read_le<uint32_t>(f + 0x1f4)} * 16;
  if (sys_bytes == 0 || sys_bytes > payload + 15) return BzStatus::kBadSyssize;
  const uint32_t align = read_le<uint32_t>(f + 0x230);
  if (!is_pow2(align) || align < 4096) return BzStatus::kBadAlignment;
  const uint32_t init_size = read_le<uint32_t>(f + 0x260);
  if (init_size == 0) return BzStatus::kNoInitSize;
  if (init_size < payload) return BzStatus::kInitSizeTooSmall;
  const uint16_t xlf = version >= kMin64Core ? read_le<uint16_t>(f + 0x236) : 0;
  if (entry == BzEntry::k64 && !(xlf & XLF_KERNEL_64)) return BzStatus::kNo64BitEntry;

  out.setup_size = setup_size;
  out.payload_offset = setup_size;
  out.payload_size = payload;
  // boot.rst: the header runs from 0x1f1 to 0x202 + the byte at 0x201.
  const size_t hdr_end = size_t{0x202} + f[0x201];
  out.header_end = hdr_end < 0x290 ? hdr_end : 0x290;
  out.init_size = init_size;
  out.kernel_alignment = align;
  out.pref_address = read_le<uint64_t>(f + 0x258);
  out.cmdline_max = read_le<uint32_t>(f + 0x238);
  const uint32_t initrd_max = read_le<uint32_t>(f + 0x22c);
  out.initrd_addr_max = initrd_max ? initrd_max : 0x37ffffff;
  out.version = version;
  out.xloadflags = xlf;
  return BzStatus::kOk;
}

const char* bz_status_message(BzStatus s) {
  switch (s) {
    case BzStatus::kOk:
      return "ok";
    case BzStatus::kTooShort:
      return "file is too short for a bzImage setup header";
    case BzStatus::kNoHdrS:
      return "not a bzImage: no \"HdrS\" magic at 0x202";
    case BzStatus::kBadBootFlag:
      return "boot_flag at 0x1fe is not 0xaa55";
    case BzStatus::kProtocolTooOld:
      return "boot protocol is older than 2.10 (no init_size and pref_address)";
    case BzStatus::kNotLoadedHigh:
      return "loadflags lack LOADED_HIGH: a zImage is not supported";
    case BzStatus::kNotRelocatable:
      return "relocatable_kernel is 0: build the kernel with CONFIG_RELOCATABLE";
    case BzStatus::kSetupPastEnd:
      return "setup_sects puts the protected-mode kernel past the end of the file (truncated?)";
    case BzStatus::kBadSyssize:
      return "syssize does not fit the bytes after the setup code: truncated or corrupt";
    case BzStatus::kBadAlignment:
      return "kernel_alignment is not a power of two of at least 4096";
    case BzStatus::kNoInitSize:
      return "init_size is 0";
    case BzStatus::kInitSizeTooSmall:
      return "init_size is smaller than the kernel itself";
    case BzStatus::kNo64BitEntry:
      return "no 64-bit entry point (protocol below 2.12 or no XLF_KERNEL_64)";
  }
  return "?";
}

void fill_setup_header(boot_params& bp, const uint8_t* kernel_file, size_t header_end,
                       const SetupFields& f) {
  auto* dst = reinterpret_cast<uint8_t*>(&bp);
  for (size_t i = kSetupHeaderOffset; i < header_end; ++i) dst[i] = kernel_file[i];
  // 0xff: an undefined loader (boot.rst, type_of_loader). No real-mode
  // code runs, so no heap; the kernel is loaded high.
  bp.hdr.type_of_loader = 0xff;
  bp.hdr.loadflags = LOADED_HIGH;
  bp.hdr.heap_end_ptr = 0;
  bp.hdr.cmd_line_ptr = static_cast<uint32_t>(f.cmdline_addr);
  bp.ext_cmd_line_ptr = static_cast<uint32_t>(f.cmdline_addr >> 32);
  // The initrd: ext_ramdisk_* carry the high halves (boot_params, 0x0c0).
  bp.hdr.ramdisk_image = static_cast<uint32_t>(f.initrd_addr);
  bp.hdr.ramdisk_size = static_cast<uint32_t>(f.initrd_size);
  bp.ext_ramdisk_image = static_cast<uint32_t>(f.initrd_addr >> 32);
  bp.ext_ramdisk_size = static_cast<uint32_t>(f.initrd_size >> 32);
  bp.hdr.setup_data = 0;
  bp.hdr.hardware_subarch = 0;  // X86_SUBARCH_PC
  bp.acpi_rsdp_addr = f.acpi_rsdp;
}

}  // namespace charon::loader
