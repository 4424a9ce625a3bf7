#include "purgatory_params.h"

#include <charon/sha256.h>

namespace charon::efi {

PurgStatus check_purgatory_bin(uint8_t* bin, size_t size, const charon_bin_header*& hdr,
                               charon_params*& params) {
  if (size < sizeof(charon_bin_header)) return PurgStatus::kTooShort;
  const auto* h = reinterpret_cast<const charon_bin_header*>(bin);
  if (h->magic != CHARON_BIN_MAGIC) return PurgStatus::kBadMagic;
  if (h->version != CHARON_PARAMS_VERSION) return PurgStatus::kBadVersion;
  if (h->file_size != size || h->mem_size < h->file_size || h->entry64 >= size ||
      h->entry32 >= size || h->params % 8 || h->params > size - sizeof(charon_params))
    return PurgStatus::kBadOffsets;
  auto* p = reinterpret_cast<charon_params*>(bin + h->params);
  if (p->magic != CHARON_PARAMS_MAGIC || p->version != CHARON_PARAMS_VERSION ||
      p->size != sizeof(charon_params))
    return PurgStatus::kBadParams;
  hdr = h;
  params = p;
  return PurgStatus::kOk;
}

PurgStatus fill_params(const HandoffInput& in, const DigestRegion* regions, size_t nregions,
                       charon_params& p) {
  if (nregions > CHARON_MAX_REGIONS || in.nmap_ranges > CHARON_MAX_MAP_RANGES)
    return PurgStatus::kTooManyRegions;
  const charon_params keep = p;
  p = charon_params{};
  p.magic = keep.magic;
  p.version = keep.version;
  p.size = keep.size;
  p.flags = in.extra_flags;
  p.handoff = in.handoff;
  p.boot_params = in.boot_params;
  p.kernel_entry = in.kernel_entry;
  // The generic register sets mirror the Linux ones, as charon-kexec
  // leaves them, so that a reader of the block sees one consistent entry.
  p.regs64.rsi = in.boot_params;
  p.regs64.rip = in.kernel_entry;
  p.regs32.esi = static_cast<uint32_t>(in.boot_params);
  p.regs32.eip = static_cast<uint32_t>(in.kernel_entry);
  p.idmap_limit = in.idmap_limit;
  p.scratch_base = in.scratch_base;
  p.scratch_size = in.scratch_size;
  for (size_t i = 0; i < in.nmap_ranges; ++i) p.map_ranges[i] = in.map_ranges[i];
  p.serial_base = 0x3f8;
  p.serial_baud = 115200;
  p.debugcon_port = 0xe9;
  p.console_serial = in.console_serial;
  p.console_debugcon = in.console_debugcon;

  // One pass over the bytes: the combined stream and each region's own.
  Sha256 all, one;
  sha256_init(all, Sha256Impl::Scalar);
  for (size_t i = 0; i < nregions; ++i) {
    const DigestRegion& r = regions[i];
    p.regions[i] = {r.dest, r.len};
    sha256_init(one, Sha256Impl::Scalar);
    constexpr uint64_t kChunk = 64 * 1024;
    for (uint64_t off = 0; off < r.len; off += kChunk) {
      const uint64_t n = r.len - off < kChunk ? r.len - off : kChunk;
      sha256_update(all, r.src + off, n);
      sha256_update(one, r.src + off, n);
    }
    sha256_final(one, p.region_digests[i]);
  }
  sha256_final(all, p.digest);
  return PurgStatus::kOk;
}

const char* purg_status_message(PurgStatus s) {
  switch (s) {
    case PurgStatus::kOk:
      return "ok";
    case PurgStatus::kTooShort:
      return "purgatory.bin is shorter than its header";
    case PurgStatus::kBadMagic:
      return "purgatory.bin has no \"CBIN\" magic";
    case PurgStatus::kBadVersion:
      return "purgatory.bin is of another ABI version";
    case PurgStatus::kBadOffsets:
      return "purgatory.bin's header offsets do not fit the file";
    case PurgStatus::kBadParams:
      return "purgatory.bin's parameter block has a bad magic, version or size";
    case PurgStatus::kTooManyRegions:
      return "more segments than the parameter block has regions";
  }
  return "?";
}

}  // namespace charon::efi
