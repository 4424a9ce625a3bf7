#include <charon/loader/setup_segment.h>

#include <algorithm>
#include <cstring>

namespace charon::loader {

Status check_cmdline(const BzImage& k, const std::string& cmdline) {
  // boot.rst, cmdline_size: "The maximum size of the command line without
  // the terminating zero."
  if (cmdline.size() > k.cmdline_max)
    return fail("command line is %zu bytes; the kernel's cmdline_size allows %u", cmdline.size(),
                k.cmdline_max);
  if (cmdline.find('\0') != std::string::npos) return fail("command line contains a NUL byte");
  return Status::Ok();
}

Result<std::vector<uint8_t>> build_setup_segment(const BzImage& k,
                                                 std::span<const uint8_t> kernel_file,
                                                 const SetupInput& in) {
  if (auto st = check_cmdline(k, in.cmdline); !st) return Error{st.error()};
  // cmd_line_ptr is 32 bits; a command line below 4 GiB needs no
  // ext_cmd_line_ptr, which every kernel then reads as 0.
  const uint64_t cmdline_addr = in.setup_addr + sizeof(boot_params);
  if (cmdline_addr + in.cmdline.size() + 1 > (1ull << 32))
    return fail("boot_params at 0x%llx: the command line must lie below 4 GiB",
                static_cast<unsigned long long>(in.setup_addr));

  std::vector<uint8_t> seg(setup_segment_size(in.cmdline.size()), 0);
  boot_params bp;
  std::memset(&bp, 0, sizeof(bp));

  // boot.rst, "Details of header fields"/"64-bit boot protocol": the setup
  // header is copied from the image, from 0x1f1 to 0x202 + the byte at
  // 0x201; the rest of boot_params starts zeroed.
  const size_t hdr_end = std::min<size_t>(0x202 + k.hdr_end_byte, 0x290);
  if (hdr_end > kernel_file.size())
    return fail("kernel: setup header end 0x%zx is past the end of the file", hdr_end);
  std::memcpy(reinterpret_cast<uint8_t*>(&bp) + kSetupHeaderOffset,
              kernel_file.data() + kSetupHeaderOffset, hdr_end - kSetupHeaderOffset);

  if (in.screen_info) std::memcpy(bp.screen_info, in.screen_info->data(), sizeof(bp.screen_info));

  // 0xff: "undefined" boot loader (boot.rst, type_of_loader). The kernel
  // loads high; no heap (no real-mode code runs), no quiet, no segments.
  bp.hdr.type_of_loader = 0xff;
  bp.hdr.loadflags = LOADED_HIGH;
  bp.hdr.heap_end_ptr = 0;
  bp.hdr.cmd_line_ptr = static_cast<uint32_t>(cmdline_addr);
  bp.ext_cmd_line_ptr = static_cast<uint32_t>(cmdline_addr >> 32);
  // The initrd: ext_ramdisk_* carry the high halves (boot_params, 0x0c0).
  bp.hdr.ramdisk_image = static_cast<uint32_t>(in.initrd_addr);
  bp.hdr.ramdisk_size = static_cast<uint32_t>(in.initrd_size);
  bp.ext_ramdisk_image = static_cast<uint32_t>(in.initrd_addr >> 32);
  bp.ext_ramdisk_size = static_cast<uint32_t>(in.initrd_size >> 32);
  bp.hdr.setup_data = 0;
  bp.hdr.hardware_subarch = 0;  // X86_SUBARCH_PC
  bp.acpi_rsdp_addr = in.acpi_rsdp;
  if (auto st = fill_e820(in.e820, bp); !st) return Error{st.error()};

  std::memcpy(seg.data(), &bp, sizeof(bp));
  std::memcpy(seg.data() + sizeof(bp), in.cmdline.data(), in.cmdline.size());
  return seg;
}

}  // namespace charon::loader
