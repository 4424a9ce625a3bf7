// bzImage header checks. boot.rst is the authority for every rule here;
// kexec-tools' kexec-bzImage64.c makes the same checks for the same reasons.
#include <charon/loader/bzimage.h>

namespace charon::loader {

namespace {

using KStatus = kimage::Status;
using boot::kHdrSMagic;

Error describe(KStatus st, const boot::setup_header& h, size_t file_size, size_t setup_size) {
  switch (st) {
    case KStatus::kNoHdrS:
      return fail("kernel: not a bzImage: header magic at 0x202 is 0x%08x, not \"HdrS\" (0x%08x)",
                  h.header, kHdrSMagic);
    case KStatus::kBadBootFlag:
      return fail("kernel: boot_flag at 0x1fe is 0x%04x, not 0xaa55", h.boot_flag);
    case KStatus::kProtocolTooOld:
      return fail(
          "kernel: boot protocol version %u.%02u is too old: charon-kexec needs 2.10 or later "
          "(init_size and pref_address)",
          h.version >> 8, h.version & 0xff);
    case KStatus::kNotLoadedHigh:
      return fail(
          "kernel: loadflags 0x%02x lack LOADED_HIGH: a zImage loaded at 0x10000 is not "
          "supported",
          h.loadflags);
    case KStatus::kNotRelocatable:
      return fail(
          "kernel: relocatable_kernel is 0: the kernel can only run at 0x%x, which "
          "charon-kexec does not reserve; build it with CONFIG_RELOCATABLE",
          h.code32_start);
    case KStatus::kSetupPastEnd:
      return fail(
          "kernel: setup_sects %u puts the protected-mode kernel at 0x%zx, beyond the "
          "end of the %zu-byte file (truncated?)",
          h.setup_sects, setup_size, file_size);
    case KStatus::kBadSyssize:
      return fail(
          "kernel: syssize 0x%x (%llu bytes) does not fit the %zu bytes after the setup "
          "code: the file is truncated or corrupt",
          h.syssize, static_cast<unsigned long long>(h.syssize) * 16, file_size - setup_size);
    case KStatus::kBadAlignment:
      return fail("kernel: kernel_alignment 0x%x is not a power of two of at least 4096",
                  h.kernel_alignment);
    case KStatus::kNoInitSize:
      return fail("kernel: init_size is 0");
    case KStatus::kInitSizeTooSmall:
      return fail("kernel: init_size 0x%x is smaller than the kernel itself (0x%zx bytes)",
                  h.init_size, file_size - setup_size);
    case KStatus::kNo64BitEntry:
      if (h.version < kimage::kMin64BitProtocol)
        return fail(
            "kernel: boot protocol %u.%02u has no xloadflags, so no 64-bit entry point; "
            "use --entry-32bit (64-bit entry needs 2.12)",
            h.version >> 8, h.version & 0xff);
      return fail(
          "kernel: xloadflags 0x%04x lack XLF_KERNEL_64: no 64-bit entry point at "
          "0x200; use --entry-32bit",
          h.xloadflags);
    default:
      break;
  }
  return fail("kernel: %s", kimage::status_message(st));
}

}  // namespace

Result<BzImage> parse_bzimage(std::span<const uint8_t> file, EntryMode mode) {
  constexpr size_t kHeaderEnd = boot::kSetupHeaderOffset + sizeof(boot::setup_header);
  if (file.size() < kHeaderEnd) {
    return fail("kernel: file is %zu bytes, too short for a bzImage setup header (needs %zu)",
                file.size(), kHeaderEnd);
  }
  BzImage img{};
  const KStatus st = kimage::parse_bzimage(file.data(), file.size(), mode, img);
  if (st != KStatus::kOk) {
    const boot::setup_header h = kimage::read_setup_header(file.data());
    const size_t sects = h.setup_sects == 0 ? 4 : h.setup_sects;
    return describe(st, h, file.size(), (sects + 1) * 512);
  }
  return img;
}

}  // namespace charon::loader
