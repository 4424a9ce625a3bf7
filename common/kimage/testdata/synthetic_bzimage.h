// Synthetic bzImages for tests: a real-mode part with a setup header whose
// every field a test may set, followed by a protected-mode payload of
// recognisable bytes. Not bootable; only the loader reads them.
#pragma once
#include <charon/boot/boot_params.h>

#include <cstring>
#include <vector>

namespace charon::testing {

using namespace charon::boot;

struct BzSpec {
  uint16_t version = 0x020f;
  uint8_t setup_sects = 4;
  uint8_t relocatable = 1;
  uint16_t xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
  uint32_t init_size = 0x01000000;  // 16 MiB
  uint32_t kernel_alignment = 0x200000;
  uint64_t pref_address = 0x1000000;
  uint32_t cmdline_size = 2047;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t payload_bytes = 0x40000;  // 256 KiB
  uint32_t magic = kHdrSMagic;
  uint8_t loadflags = LOADED_HIGH;
  int64_t syssize_override = -1;  // -1: computed from payload_bytes
};

inline std::vector<uint8_t> make_bzimage(const BzSpec& s) {
  const size_t setup = (size_t{s.setup_sects ? s.setup_sects : 4u} + 1) * 512;
  std::vector<uint8_t> f(setup + s.payload_bytes);
  for (size_t i = setup; i < f.size(); ++i) f[i] = static_cast<uint8_t>(i * 131 + 7);
  setup_header h;
  std::memset(&h, 0, sizeof(h));
  h.setup_sects = s.setup_sects;
  h.syssize = s.syssize_override >= 0 ? static_cast<uint32_t>(s.syssize_override)
                                      : (s.payload_bytes + 15) / 16;
  h.vid_mode = 0xffff;
  h.boot_flag = kBootFlag;
  h.jump = 0x6aeb;  // "jmp short" over the header: byte 0x201 is its length
  h.header = s.magic;
  h.version = s.version;
  h.loadflags = s.loadflags;
  h.code32_start = 0x100000;
  h.initrd_addr_max = s.initrd_addr_max;
  h.kernel_alignment = s.kernel_alignment;
  h.relocatable_kernel = s.relocatable;
  h.min_alignment = 21;
  h.xloadflags = s.xloadflags;
  h.cmdline_size = s.cmdline_size;
  h.pref_address = s.pref_address;
  h.init_size = s.init_size;
  std::memcpy(f.data() + kSetupHeaderOffset, &h, sizeof(h));
  return f;
}

}  // namespace charon::testing
