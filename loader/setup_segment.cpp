#include <charon/loader/bzimage_core.h>
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
  fill_setup_header(bp, kernel_file.data(), hdr_end,
                    SetupFields{cmdline_addr, in.initrd_addr, in.initrd_size, in.acpi_rsdp});
  if (in.screen_info) std::memcpy(bp.screen_info, in.screen_info->data(), sizeof(bp.screen_info));
  if (auto st = fill_e820(in.e820, bp); !st) return Error{st.error()};

  std::memcpy(seg.data(), &bp, sizeof(bp));
  std::memcpy(seg.data() + sizeof(bp), in.cmdline.data(), in.cmdline.size());
  return seg;
}

}  // namespace charon::loader
