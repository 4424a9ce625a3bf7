// The bzImage header checks; see bzimage.h. Every field is read with
// explicit little-endian loads from the file, never through a cast, since
// the file is untrusted and may be cut anywhere.
#include <charon/align.h>
#include <charon/kimage/bzimage.h>
#include <charon/mem.h>

namespace charon::kimage {

namespace {

template <class T>
T read_le(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  return v;
}

using boot::setup_header;
constexpr size_t kHdr = boot::kSetupHeaderOffset;
#define CHARON_OFF(field) (kHdr + offsetof(setup_header, field))

}  // namespace

boot::setup_header read_setup_header(const uint8_t* file) {
  setup_header h;
  mem_copy(&h, file + kHdr, sizeof h);
  return h;
}

Status parse_bzimage(const uint8_t* f, size_t size, Entry entry, BzImage& out) {
  // The header must reach past init_size, a 2.10 field.
  if (size < kHdr + sizeof(setup_header)) return Status::kTooShort;
  if (read_le<uint32_t>(f + CHARON_OFF(header)) != boot::kHdrSMagic) return Status::kNoHdrS;
  if (read_le<uint16_t>(f + CHARON_OFF(boot_flag)) != boot::kBootFlag) return Status::kBadBootFlag;
  const uint16_t version = read_le<uint16_t>(f + CHARON_OFF(version));
  if (version < kMinProtocol) return Status::kProtocolTooOld;
  if (!(f[CHARON_OFF(loadflags)] & boot::LOADED_HIGH)) return Status::kNotLoadedHigh;
  if (f[CHARON_OFF(relocatable_kernel)] == 0) return Status::kNotRelocatable;
  // boot.rst, setup_sects: "If this field is 0, the real value is 4."
  const size_t sects = f[CHARON_OFF(setup_sects)] == 0 ? 4 : f[CHARON_OFF(setup_sects)];
  const size_t setup_size = (sects + 1) * 512;
  if (setup_size >= size) return Status::kSetupPastEnd;
  const size_t payload = size - setup_size;
  // syssize: 16-byte paragraphs of protected-mode code, rounded up.
  const uint64_t sys_bytes = uint64_t{read_le<uint32_t>(f + CHARON_OFF(syssize))} * 16;
  if (sys_bytes == 0 || sys_bytes > payload + 15) return Status::kBadSyssize;
  const uint32_t align = read_le<uint32_t>(f + CHARON_OFF(kernel_alignment));
  if (!is_pow2(align) || align < kPageSize) return Status::kBadAlignment;
  const uint32_t init_size = read_le<uint32_t>(f + CHARON_OFF(init_size));
  if (init_size == 0) return Status::kNoInitSize;
  if (init_size < payload) return Status::kInitSizeTooSmall;
  const uint16_t xlf =
      version >= kMin64BitProtocol ? read_le<uint16_t>(f + CHARON_OFF(xloadflags)) : 0;
  if (entry == Entry::k64 && !(xlf & boot::XLF_KERNEL_64)) return Status::kNo64BitEntry;

  out.setup_size = setup_size;
  out.payload_offset = setup_size;
  out.payload_size = payload;
  // boot.rst: the header runs from 0x1f1 to 0x202 + the byte at 0x201.
  // It cannot reach past the setup header's room in boot_params.
  constexpr size_t kHeaderRoomEnd = offsetof(boot::boot_params, edd_mbr_sig_buffer);
  const size_t hdr_end = CHARON_OFF(header) + f[CHARON_OFF(jump) + 1];
  out.header_end = hdr_end < kHeaderRoomEnd ? hdr_end : kHeaderRoomEnd;
  out.init_size = init_size;
  out.kernel_alignment = align;
  out.pref_address = read_le<uint64_t>(f + CHARON_OFF(pref_address));
  out.cmdline_max = read_le<uint32_t>(f + CHARON_OFF(cmdline_size));
  // boot.rst, initrd_addr_max: 0 in older kernels means 0x37ffffff.
  const uint32_t initrd_max = read_le<uint32_t>(f + CHARON_OFF(initrd_addr_max));
  out.initrd_addr_max = initrd_max ? initrd_max : 0x37ffffff;
  out.version = version;
  out.xloadflags = xlf;
  return Status::kOk;
}

Status check_cmdline(const BzImage& k, const char* cmdline, size_t len) {
  if (len > k.cmdline_max) return Status::kCmdlineTooLong;
  for (size_t i = 0; i < len; ++i)
    if (cmdline[i] == 0) return Status::kCmdlineHasNul;
  return Status::kOk;
}

}  // namespace charon::kimage
