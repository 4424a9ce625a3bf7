#include "purgatory_bin.h"

#include <charon/kimage/image.h>

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
  if (kimage::check_params_identity(*p) != kimage::Status::kOk) return PurgStatus::kBadParams;
  hdr = h;
  params = p;
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
  }
  return "?";
}

}  // namespace charon::efi
