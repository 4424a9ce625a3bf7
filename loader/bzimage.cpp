// bzImage header checks. boot.rst is the authority for every rule here;
// kexec-tools' kexec-bzImage64.c makes the same checks for the same reasons.
#include <charon/loader/bzimage.h>

#include <cstring>

namespace charon::loader {

namespace {

bool is_pow2(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

Result<BzImage> parse_bzimage(std::span<const uint8_t> file, EntryMode mode) {
  // The header reaches at least to init_size (0x263), which is 2.10's.
  constexpr size_t kHeaderEnd = kSetupHeaderOffset + sizeof(setup_header);
  if (file.size() < kHeaderEnd) {
    return fail("kernel: file is %zu bytes, too short for a bzImage setup header (needs %zu)",
                file.size(), kHeaderEnd);
  }
  BzImage img{};
  std::memcpy(&img.hdr, file.data() + kSetupHeaderOffset, sizeof(setup_header));
  img.hdr_end_byte = file[0x201];
  const setup_header& h = img.hdr;

  if (h.header != kHdrSMagic) {
    return fail("kernel: not a bzImage: header magic at 0x202 is 0x%08x, not \"HdrS\" (0x%08x)",
                h.header, kHdrSMagic);
  }
  if (h.boot_flag != kBootFlag) {
    return fail("kernel: boot_flag at 0x1fe is 0x%04x, not 0xaa55", h.boot_flag);
  }
  if (h.version < kMinProtocol) {
    return fail(
        "kernel: boot protocol version %u.%02u is too old: charon-kexec needs 2.10 or later "
        "(init_size and pref_address)",
        h.version >> 8, h.version & 0xff);
  }
  if (!(h.loadflags & LOADED_HIGH)) {
    return fail(
        "kernel: loadflags 0x%02x lack LOADED_HIGH: a zImage loaded at 0x10000 is not "
        "supported",
        h.loadflags);
  }
  if (!h.relocatable_kernel) {
    return fail(
        "kernel: relocatable_kernel is 0: the kernel can only run at 0x%x, which "
        "charon-kexec does not reserve; build it with CONFIG_RELOCATABLE",
        h.code32_start);
  }
  // boot.rst: "setup_sects: The size of the setup in sectors ... If this
  // field is 0, the real value is 4."
  const size_t sects = h.setup_sects == 0 ? 4 : h.setup_sects;
  img.setup_size = (sects + 1) * 512;
  if (img.setup_size >= file.size()) {
    return fail(
        "kernel: setup_sects %u puts the protected-mode kernel at 0x%zx, beyond the "
        "end of the %zu-byte file (truncated?)",
        h.setup_sects, img.setup_size, file.size());
  }
  img.payload_offset = img.setup_size;
  img.payload_size = file.size() - img.setup_size;
  // syssize counts 16-byte paragraphs of the protected-mode code (2.04+),
  // rounded up, so the last paragraph may be partial in the file.
  const uint64_t sys_bytes = static_cast<uint64_t>(h.syssize) * 16;
  if (sys_bytes == 0 || sys_bytes > img.payload_size + 15) {
    return fail(
        "kernel: syssize 0x%x (%llu bytes) does not fit the %zu bytes after the setup "
        "code: the file is truncated or corrupt",
        h.syssize, static_cast<unsigned long long>(sys_bytes), img.payload_size);
  }
  if (!is_pow2(h.kernel_alignment) || h.kernel_alignment < 4096) {
    return fail("kernel: kernel_alignment 0x%x is not a power of two of at least 4096",
                h.kernel_alignment);
  }
  if (h.init_size == 0) {
    return fail("kernel: init_size is 0");
  }
  if (h.init_size < img.payload_size) {
    return fail("kernel: init_size 0x%x is smaller than the kernel itself (0x%llx bytes)",
                h.init_size, static_cast<unsigned long long>(img.payload_size));
  }
  img.init_size = h.init_size;
  img.kernel_alignment = h.kernel_alignment;
  img.pref_address = h.pref_address;
  // cmdline_size is 2.06+, always present at 2.10.
  img.cmdline_max = h.cmdline_size;
  // initrd_addr_max is the address of the highest byte the initrd may use.
  img.initrd_addr_max = h.initrd_addr_max ? h.initrd_addr_max : 0x37ffffff;
  if (h.version >= kMin64BitProtocol) {
    img.can_64 = h.xloadflags & XLF_KERNEL_64;
    img.above_4g = h.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;
    img.la57 = h.xloadflags & XLF_5LEVEL;
  }
  if (mode == EntryMode::k64) {
    if (h.version < kMin64BitProtocol) {
      return fail(
          "kernel: boot protocol %u.%02u has no xloadflags, so no 64-bit entry point; "
          "use --entry-32bit (64-bit entry needs 2.12)",
          h.version >> 8, h.version & 0xff);
    }
    if (!img.can_64) {
      return fail(
          "kernel: xloadflags 0x%04x lack XLF_KERNEL_64: no 64-bit entry point at "
          "0x200; use --entry-32bit",
          h.xloadflags);
    }
  }
  return img;
}

}  // namespace charon::loader
