// The setup segment as boot.rst's "32-bit/64-bit boot protocol" sections
// ask a boot loader to build it: boot_params (the zero page) with the
// kernel's own setup header, then the command line, then the setup_data
// chain; and the e820 table, from one memory-map builder.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/mem.h>

namespace charon::kimage {

using boot::boot_params;

Status build_setup(const ImageInput& in, const ImagePlan& plan, const char* cmdline,
                   size_t cmdline_len, const MemRange* e820, size_t ne820, uint8_t* buf,
                   size_t buf_size) {
  const BzImage& k = plan.kernel;
  if (Status s = check_cmdline(k, cmdline, cmdline_len); s != Status::kOk) return s;
  const uint64_t need = setup_bytes(cmdline_len, in.setup_data, in.nsetup_data);
  if (need > buf_size || need > plan.setup.size()) return Status::kNoRoomSetup;
  mem_fill(buf, 0, need);
  auto& bp = *reinterpret_cast<boot_params*>(buf);
  const uint64_t base = plan.setup.start;
  const uint64_t cmdline_addr = base + sizeof(boot_params);
  // The planner keeps the whole segment below 4 GiB; cmd_line_ptr alone
  // then suffices, and ext_cmd_line_ptr stays 0 for every kernel.
  if (cmdline_addr + cmdline_len + 1 > k4GiB) return Status::kNoRoomSetup;

  // boot.rst, "Details of header fields": the setup header is copied from
  // the image, 0x1f1 up to 0x202 + the byte at 0x201; the rest of
  // boot_params starts zeroed.
  mem_copy(buf + boot::kSetupHeaderOffset, in.kernel + boot::kSetupHeaderOffset,
           k.header_end - boot::kSetupHeaderOffset);
  boot::setup_header& h = bp.hdr;
  // 0xff: an undefined loader (boot.rst, type_of_loader). No real-mode
  // code runs, so no heap; the kernel is loaded high.
  h.type_of_loader = 0xff;
  h.loadflags = boot::LOADED_HIGH;
  h.heap_end_ptr = 0;
  h.cmd_line_ptr = static_cast<uint32_t>(cmdline_addr);
  bp.ext_cmd_line_ptr = 0;
  // The initrd: ext_ramdisk_* carry the high halves (zero-page.rst, 0x0c0).
  const uint64_t initrd = in.has_initrd ? plan.initrd.start : 0;
  const uint64_t initrd_size = in.has_initrd ? in.initrd_size : 0;
  h.ramdisk_image = static_cast<uint32_t>(initrd);
  h.ramdisk_size = static_cast<uint32_t>(initrd_size);
  bp.ext_ramdisk_image = static_cast<uint32_t>(initrd >> 32);
  bp.ext_ramdisk_size = static_cast<uint32_t>(initrd_size >> 32);
  h.hardware_subarch = 0;  // X86_SUBARCH_PC
  h.setup_data = 0;
  bp.acpi_rsdp_addr = in.acpi_rsdp;
  if (in.screen_info) bp.screen_info = *in.screen_info;
  if (e820)
    if (Status s = fill_e820(e820, ne820, bp); s != Status::kOk) return s;
  mem_copy(buf + sizeof(boot_params), cmdline, cmdline_len);

  // ---- setup_data: each node 8-byte aligned after the command line,
  // linked in the order given (the kernel walks them in list order).
  uint64_t off = align_up(sizeof(boot_params) + cmdline_len + 1, 8);
  // Where the previous link lives: hdr.setup_data, then each node's next.
  size_t link = offsetof(boot_params, hdr) + offsetof(boot::setup_header, setup_data);
  for (size_t i = 0; i < in.nsetup_data; ++i) {
    const SetupDataNode& n = in.setup_data[i];
    boot::setup_data hdr{0, n.type, n.len};
    mem_copy(buf + off, &hdr, sizeof hdr);
    mem_copy(buf + off + sizeof hdr, n.data, n.len);
    const uint64_t phys = base + off;
    mem_copy(buf + link, &phys, sizeof phys);
    link = off + offsetof(boot::setup_data, next);
    off += align_up(sizeof hdr + n.len, 8);
  }
  return Status::kOk;
}

Status normalize_memmap(MemRange* r, size_t& n) {
  // Insertion sort: maps are short and usually nearly sorted already.
  for (size_t i = 1; i < n; ++i) {
    const MemRange e = r[i];
    size_t j = i;
    for (; j > 0 && r[j - 1].start > e.start; --j) r[j] = r[j - 1];
    r[j] = e;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (r[i].end <= r[i].start) continue;
    if (m && r[i].start < r[m - 1].end) return Status::kE820Overlap;
    if (m && r[i].start == r[m - 1].end && r[i].type == r[m - 1].type) {
      r[m - 1].end = r[i].end;
    } else {
      r[m++] = r[i];
    }
  }
  n = m;
  return Status::kOk;
}

Status fill_e820(const MemRange* r, size_t n, boot_params& bp) {
  if (n > boot::E820_MAX_ENTRIES_ZEROPAGE) return Status::kTooManyE820;
  for (size_t i = 0; i < n; ++i) {
    const boot::boot_e820_entry e{r[i].start, r[i].end - r[i].start,
                                  static_cast<uint32_t>(r[i].type)};
    mem_copy(&bp.e820_table[i], &e, sizeof e);
  }
  for (size_t i = n; i < boot::E820_MAX_ENTRIES_ZEROPAGE; ++i)
    mem_fill(&bp.e820_table[i], 0, sizeof bp.e820_table[i]);
  bp.e820_entries = static_cast<uint8_t>(n);
  return Status::kOk;
}

}  // namespace charon::kimage
