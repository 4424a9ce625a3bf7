// The setup segment as boot.rst's "32-bit/64-bit boot protocol" sections
// ask a boot loader to build it: boot_params (the zero page) with the
// kernel's own setup header, then the command line, then the setup_data
// chain; and the e820 table, from one memory-map builder.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/mem.h>

namespace charon::kimage {

using boot::boot_params;

namespace {

// Where each part of the setup segment goes, from its start.
struct Layout {
  uint64_t nodes;     // the caller's setup_data nodes, 8-byte aligned
  uint64_t efi_node;  // SETUP_EFI, then the runtime map after it
  uint64_t efi_map;
  uint64_t ext_node;  // SETUP_E820_EXT, last
  uint64_t end;
};

// Where the command line goes in the segment: right after boot_params,
// or in real mode right above the setup code's heap and stack (boot.rst:
// cmd_line_ptr = base + heap_end), inside its 64 KiB segment.
uint64_t cmdline_offset(const ImageInput& in) {
  return in.real_mode ? kRealModeHeapEnd : sizeof(boot_params);
}

uint64_t node_bytes(uint64_t payload) {
  return align_up(sizeof(boot::setup_data) + payload, 8);
}

// In real mode the setup code asks the BIOS for the memory map and
// passes no EFI: only the caller's setup_data nodes follow the command line.
Layout layout(const ImageInput& in, size_t cmdline_len) {
  Layout l{};
  const bool efi = in.efi.present && !in.real_mode;
  const size_t ext_room = in.real_mode ? 0 : in.e820_ext_room;
  l.nodes = cmdline_offset(in) + cmdline_len + 1;
  const bool tail = in.nsetup_data || efi || ext_room;
  if (tail) l.nodes = align_up(l.nodes, 8);
  uint64_t at = l.nodes;
  for (size_t i = 0; i < in.nsetup_data; ++i) at += node_bytes(in.setup_data[i].len);
  l.efi_node = at;
  if (efi) at += node_bytes(sizeof(boot::efi_setup_data));
  l.efi_map = at;
  if (efi) at = align_up(at + in.efi.runtime_map_size, 8);
  l.ext_node = at;
  if (ext_room) at += node_bytes(ext_room * sizeof(boot::boot_e820_entry));
  l.end = at;
  return l;
}

// Appends one node at `off` and links it after the node whose `next`
// field is at `link`; returns the new node's `next` field.
size_t add_node(uint8_t* buf, uint64_t base, size_t link, uint64_t off, uint32_t type,
                const void* data, uint32_t len) {
  const boot::setup_data hdr{0, type, len};
  mem_copy(buf + off, &hdr, sizeof hdr);
  if (len) mem_copy(buf + off + sizeof hdr, data, len);
  const uint64_t phys = base + off;
  mem_copy(buf + link, &phys, sizeof phys);
  return off + offsetof(boot::setup_data, next);
}

}  // namespace

uint64_t setup_bytes(const ImageInput& in, size_t cmdline_len) {
  return layout(in, cmdline_len).end;
}

Status build_setup(const ImageInput& in, const ImagePlan& plan, const char* cmdline,
                   size_t cmdline_len, const MemRange* e820, size_t ne820, uint8_t* buf,
                   size_t buf_size) {
  const BzImage& k = plan.kernel;
  if (Status s = check_cmdline(k, cmdline, cmdline_len); s != Status::kOk) return s;
  const Layout l = layout(in, cmdline_len);
  const uint64_t need = l.end;
  if (need > buf_size || need > plan.setup.size()) return Status::kNoRoomSetup;
  mem_fill(buf, 0, need);
  auto& bp = *reinterpret_cast<boot_params*>(buf);
  const uint64_t base = plan.setup.start;
  const uint64_t cmdline_addr = base + cmdline_offset(in);
  // The planner keeps the whole segment below 4 GiB; cmd_line_ptr alone
  // then suffices, and ext_cmd_line_ptr stays 0 for every kernel.
  if (cmdline_addr + cmdline_len + 1 > k4GiB) return Status::kNoRoomSetup;

  // boot.rst, "Details of header fields": the setup header is copied from
  // the image, 0x1f1 up to 0x202 + the byte at 0x201; the rest of
  // boot_params starts zeroed. A vmlinux has none: the loader states it.
  // In real mode the segment holds the setup code itself (setup_sects + 1
  // sectors, header included), which builds its own boot_params from the
  // header: only header fields are written then, nothing of the zero page
  // around it, which is the setup code's boot sector there.
  if (in.vmlinux) {
    const boot::setup_header vh = vmlinux_setup_header(k);
    mem_copy(buf + boot::kSetupHeaderOffset, &vh, sizeof vh);
  } else if (in.real_mode) {
    mem_copy(buf, in.kernel, k.setup_size);
  } else {
    mem_copy(buf + boot::kSetupHeaderOffset, in.kernel + boot::kSetupHeaderOffset,
             k.header_end - boot::kSetupHeaderOffset);
  }
  boot::setup_header& h = bp.hdr;
  // 0xff: an undefined loader (boot.rst, type_of_loader). Without real
  // mode no setup code runs, so no heap, and the kernel is loaded high.
  h.type_of_loader = 0xff;
  h.loadflags = boot::LOADED_HIGH;
  h.heap_end_ptr = 0;
  if (in.real_mode) {
    // boot.rst, "Loading the rest of the kernel": the heap ends 0x200
    // below heap_end, where the stack (SP = heap_end) begins; the setup
    // code enters the protected-mode kernel at code32_start, where the
    // planner put it.
    h.loadflags = boot::LOADED_HIGH | boot::CAN_USE_HEAP;
    h.heap_end_ptr = static_cast<uint16_t>(kRealModeHeapEnd - 0x200);
    h.code32_start = static_cast<uint32_t>(plan.kernel_seg.start);
  }
  h.cmd_line_ptr = static_cast<uint32_t>(cmdline_addr);
  // The initrd: ext_ramdisk_* carry the high halves (zero-page.rst, 0x0c0).
  const uint64_t initrd = in.has_initrd ? plan.initrd.start : 0;
  const uint64_t initrd_size = in.has_initrd ? in.initrd_size : 0;
  h.ramdisk_image = static_cast<uint32_t>(initrd);
  h.ramdisk_size = static_cast<uint32_t>(initrd_size);
  h.hardware_subarch = 0;  // X86_SUBARCH_PC
  h.setup_data = 0;
  if (!in.real_mode) {
    bp.ext_cmd_line_ptr = 0;
    bp.ext_ramdisk_image = static_cast<uint32_t>(initrd >> 32);
    bp.ext_ramdisk_size = static_cast<uint32_t>(initrd_size >> 32);
    bp.acpi_rsdp_addr = in.acpi_rsdp;
    bp.secure_boot = in.secure_boot;
    if (in.screen_info) bp.screen_info = *in.screen_info;
  }
  mem_copy(buf + cmdline_offset(in), cmdline, cmdline_len);

  // ---- setup_data: each node 8-byte aligned after the command line,
  // linked in the order given (the kernel walks them in list order).
  size_t link = offsetof(boot_params, hdr) + offsetof(boot::setup_header, setup_data);
  uint64_t off = l.nodes;
  for (size_t i = 0; i < in.nsetup_data; ++i) {
    const SetupDataNode& n = in.setup_data[i];
    link = add_node(buf, base, link, off, n.type, n.data, n.len);
    off += node_bytes(n.len);
  }

  // ---- EFI: only for a kernel that says it can be kexec'd with EFI
  // runtime services (XLF_EFI_KEXEC); boot.rst, efi_info. The runtime map
  // lies in this segment, so the digest covers it.
  if (in.efi.present && !in.real_mode && (k.xloadflags & boot::XLF_EFI_KEXEC)) {
    link =
        add_node(buf, base, link, l.efi_node, boot::SETUP_EFI, &in.efi.setup, sizeof in.efi.setup);
    mem_copy(buf + l.efi_map, in.efi.runtime_map, in.efi.runtime_map_size);
    boot::efi_info& ei = bp.efi_info;
    const uint64_t map = base + l.efi_map;
    ei.efi_loader_signature = in.efi.loader_signature;
    ei.efi_systab = static_cast<uint32_t>(in.efi.systab);
    ei.efi_systab_hi = static_cast<uint32_t>(in.efi.systab >> 32);
    ei.efi_memdesc_size = in.efi.desc_size;
    ei.efi_memdesc_version = in.efi.memdesc_version;
    ei.efi_memmap = static_cast<uint32_t>(map);
    ei.efi_memmap_hi = static_cast<uint32_t>(map >> 32);
    ei.efi_memmap_size = in.efi.runtime_map_size;
  }

  // ---- room for the memory map beyond 128 entries, last in the chain.
  // Its length says how much room there is until fill_e820() sets it to
  // what the map needs (0 while the map fits boot_params).
  if (in.e820_ext_room && !in.real_mode) {
    link = add_node(buf, base, link, l.ext_node, boot::SETUP_E820_EXT, nullptr, 0);
    const uint32_t room = static_cast<uint32_t>(in.e820_ext_room * sizeof(boot::boot_e820_entry));
    mem_copy(buf + l.ext_node + offsetof(boot::setup_data, len), &room, sizeof room);
  }
  // In real mode the setup code asks the BIOS (int 0x15, e820) itself.
  if (e820 && !in.real_mode) return fill_e820(plan, e820, ne820, buf, buf_size);
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

Status fill_e820(const ImagePlan& plan, const MemRange* r, size_t n, uint8_t* buf,
                 size_t buf_size) {
  auto& bp = *reinterpret_cast<boot_params*>(buf);
  const size_t in_table = n < boot::E820_MAX_ENTRIES_ZEROPAGE ? n : boot::E820_MAX_ENTRIES_ZEROPAGE;
  // The rest goes into the SETUP_E820_EXT node, found by walking the chain
  // as the kernel will (arch/x86/kernel/e820.c, e820__memory_setup_extended).
  uint64_t ext = 0, room = 0;
  uint64_t at = bp.hdr.setup_data;
  for (int i = 0; at && i < 64; ++i) {
    if (at < plan.setup.start || at - plan.setup.start + sizeof(boot::setup_data) > buf_size)
      break;  // not a chain this core built
    boot::setup_data h;
    mem_copy(&h, buf + (at - plan.setup.start), sizeof h);
    if (h.type == boot::SETUP_E820_EXT) ext = at - plan.setup.start, room = h.len;
    at = h.next;
  }
  const size_t rest = n - in_table;
  if (ext + sizeof(boot::setup_data) + room > buf_size) return Status::kTooManyE820;
  if (rest * sizeof(boot::boot_e820_entry) > room) return Status::kTooManyE820;
  for (size_t i = 0; i < n; ++i) {
    const boot::boot_e820_entry e{r[i].start, r[i].end - r[i].start,
                                  static_cast<uint32_t>(r[i].type)};
    uint8_t* slot = i < in_table ? reinterpret_cast<uint8_t*>(&bp.e820_table[i])
                                 : buf + ext + sizeof(boot::setup_data) +
                                       (i - in_table) * sizeof(boot::boot_e820_entry);
    mem_copy(slot, &e, sizeof e);
  }
  for (size_t i = in_table; i < boot::E820_MAX_ENTRIES_ZEROPAGE; ++i)
    mem_fill(&bp.e820_table[i], 0, sizeof bp.e820_table[i]);
  bp.e820_entries = static_cast<uint8_t>(in_table);
  if (ext) {
    const uint32_t len = static_cast<uint32_t>(rest * sizeof(boot::boot_e820_entry));
    mem_copy(buf + ext + offsetof(boot::setup_data, len), &len, sizeof len);
  }
  return Status::kOk;
}

}  // namespace charon::kimage
