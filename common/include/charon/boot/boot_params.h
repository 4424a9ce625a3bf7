// The x86 Linux boot protocol's structures: struct boot_params (the zero
// page) with the setup header inside it, screen_info, efi_info, the e820
// entries and setup_data. Field names are Linux's own
// (arch/x86/include/uapi/asm/bootparam.h, setup_data.h, screen_info.h),
// offsets are boot.rst's and zero-page.rst's, and the static_asserts below
// pin every offset that charon reads or writes. Freestanding: the
// purgatory, charon.efi and the hosted loader all read these.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace charon::boot {

// boot.rst, "The real-mode kernel header".
inline constexpr uint32_t kHdrSMagic = 0x53726448;  // "HdrS" at 0x202
inline constexpr uint16_t kBootFlag = 0xaa55;       // at 0x1fe
inline constexpr size_t kSetupHeaderOffset = 0x1f1;

// loadflags (boot.rst, "Details of header fields").
inline constexpr uint8_t LOADED_HIGH = 0x01;
inline constexpr uint8_t KASLR_FLAG = 0x02;
inline constexpr uint8_t QUIET_FLAG = 0x20;
inline constexpr uint8_t KEEP_SEGMENTS = 0x40;
inline constexpr uint8_t CAN_USE_HEAP = 0x80;

// xloadflags, protocol 2.12+.
inline constexpr uint16_t XLF_KERNEL_64 = 1u << 0;
inline constexpr uint16_t XLF_CAN_BE_LOADED_ABOVE_4G = 1u << 1;
inline constexpr uint16_t XLF_EFI_HANDOVER_32 = 1u << 2;
inline constexpr uint16_t XLF_EFI_HANDOVER_64 = 1u << 3;
inline constexpr uint16_t XLF_EFI_KEXEC = 1u << 4;
inline constexpr uint16_t XLF_5LEVEL = 1u << 5;
inline constexpr uint16_t XLF_5LEVEL_ENABLED = 1u << 6;

// e820 types (Linux's enum e820_type).
enum class E820Type : uint32_t {
  kRam = 1,
  kReserved = 2,
  kAcpi = 3,
  kNvs = 4,
  kUnusable = 5,
  kPmem = 7,
  kPram = 12,
  kSoftReserved = 0xefffffff,
};

inline constexpr size_t E820_MAX_ENTRIES_ZEROPAGE = 128;

struct [[gnu::packed]] boot_e820_entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
static_assert(sizeof(boot_e820_entry) == 20);

struct [[gnu::packed]] setup_header {
  uint8_t setup_sects;
  uint16_t root_flags;
  uint32_t syssize;
  uint16_t ram_size;
  uint16_t vid_mode;
  uint16_t root_dev;
  uint16_t boot_flag;
  uint16_t jump;
  uint32_t header;
  uint16_t version;
  uint32_t realmode_swtch;
  uint16_t start_sys_seg;
  uint16_t kernel_version;
  uint8_t type_of_loader;
  uint8_t loadflags;
  uint16_t setup_move_size;
  uint32_t code32_start;
  uint32_t ramdisk_image;
  uint32_t ramdisk_size;
  uint32_t bootsect_kludge;
  uint16_t heap_end_ptr;
  uint8_t ext_loader_ver;
  uint8_t ext_loader_type;
  uint32_t cmd_line_ptr;
  uint32_t initrd_addr_max;
  uint32_t kernel_alignment;
  uint8_t relocatable_kernel;
  uint8_t min_alignment;
  uint16_t xloadflags;
  uint32_t cmdline_size;
  uint32_t hardware_subarch;
  uint64_t hardware_subarch_data;
  uint32_t payload_offset;
  uint32_t payload_length;
  uint64_t setup_data;
  uint64_t pref_address;
  uint32_t init_size;
  uint32_t handover_offset;
  uint32_t kernel_info_offset;
};

// Offsets within boot_params (the setup header starts at 0x1f1).
#define CHARON_HDR_AT(field, off) \
  static_assert(offsetof(setup_header, field) + kSetupHeaderOffset == (off), #field)
CHARON_HDR_AT(setup_sects, 0x1f1);
CHARON_HDR_AT(syssize, 0x1f4);
CHARON_HDR_AT(boot_flag, 0x1fe);
CHARON_HDR_AT(jump, 0x200);
CHARON_HDR_AT(header, 0x202);
CHARON_HDR_AT(version, 0x206);
CHARON_HDR_AT(type_of_loader, 0x210);
CHARON_HDR_AT(loadflags, 0x211);
CHARON_HDR_AT(code32_start, 0x214);
CHARON_HDR_AT(ramdisk_image, 0x218);
CHARON_HDR_AT(ramdisk_size, 0x21c);
CHARON_HDR_AT(cmd_line_ptr, 0x228);
CHARON_HDR_AT(initrd_addr_max, 0x22c);
CHARON_HDR_AT(kernel_alignment, 0x230);
CHARON_HDR_AT(relocatable_kernel, 0x234);
CHARON_HDR_AT(min_alignment, 0x235);
CHARON_HDR_AT(xloadflags, 0x236);
CHARON_HDR_AT(cmdline_size, 0x238);
CHARON_HDR_AT(setup_data, 0x250);
CHARON_HDR_AT(pref_address, 0x258);
CHARON_HDR_AT(init_size, 0x260);
CHARON_HDR_AT(kernel_info_offset, 0x268);
#undef CHARON_HDR_AT
static_assert(sizeof(setup_header) == 0x26c - 0x1f1);

// include/uapi/linux/screen_info.h. On EFI, orig_video_isVGA says
// VIDEO_TYPE_EFI and the lfb_* fields describe the GOP framebuffer.
inline constexpr uint8_t VIDEO_TYPE_EFI = 0x70;
inline constexpr uint32_t VIDEO_CAPABILITY_SKIP_QUIRKS = 1u << 0;
inline constexpr uint32_t VIDEO_CAPABILITY_64BIT_BASE = 1u << 1;

struct [[gnu::packed]] screen_info {
  uint8_t orig_x;
  uint8_t orig_y;
  uint16_t ext_mem_k;
  uint16_t orig_video_page;
  uint8_t orig_video_mode;
  uint8_t orig_video_cols;
  uint8_t flags;
  uint8_t unused2;
  uint16_t orig_video_ega_bx;
  uint16_t unused3;
  uint8_t orig_video_lines;
  uint8_t orig_video_isVGA;
  uint16_t orig_video_points;
  uint16_t lfb_width;
  uint16_t lfb_height;
  uint16_t lfb_depth;
  uint32_t lfb_base;
  uint32_t lfb_size;
  uint16_t cl_magic, cl_offset;
  uint16_t lfb_linelength;
  uint8_t red_size, red_pos, green_size, green_pos, blue_size, blue_pos, rsvd_size, rsvd_pos;
  uint16_t vesapm_seg;
  uint16_t vesapm_off;
  uint16_t pages;
  uint16_t vesa_attributes;
  uint32_t capabilities;
  uint32_t ext_lfb_base;
  uint8_t _reserved[2];
};
static_assert(sizeof(screen_info) == 0x40);
static_assert(offsetof(screen_info, orig_video_isVGA) == 0x0f);
static_assert(offsetof(screen_info, lfb_base) == 0x18);
static_assert(offsetof(screen_info, lfb_linelength) == 0x24);
static_assert(offsetof(screen_info, red_size) == 0x26);
static_assert(offsetof(screen_info, capabilities) == 0x36);
static_assert(offsetof(screen_info, ext_lfb_base) == 0x3a);

// "EL64": a 64-bit firmware's loader (arch/x86/include/asm/efi.h).
inline constexpr uint32_t EFI64_LOADER_SIGNATURE = 0x34364c45;

struct [[gnu::packed]] efi_info {
  uint32_t efi_loader_signature;
  uint32_t efi_systab;
  uint32_t efi_memdesc_size;
  uint32_t efi_memdesc_version;
  uint32_t efi_memmap;
  uint32_t efi_memmap_size;
  uint32_t efi_systab_hi;
  uint32_t efi_memmap_hi;
};
static_assert(sizeof(efi_info) == 0x20);
static_assert(offsetof(efi_info, efi_systab_hi) == 0x18);

// setup_data: a singly linked list of nodes from hdr.setup_data, each a
// header and `len` bytes (arch/x86/include/uapi/asm/setup_data.h). The
// kernel reads every node, so each must lie in memory it can see.
inline constexpr uint32_t SETUP_NONE = 0;
inline constexpr uint32_t SETUP_E820_EXT = 1;
inline constexpr uint32_t SETUP_DTB = 2;
inline constexpr uint32_t SETUP_PCI = 3;
inline constexpr uint32_t SETUP_EFI = 4;
inline constexpr uint32_t SETUP_APPLE_PROPERTIES = 5;
inline constexpr uint32_t SETUP_JAILHOUSE = 6;
inline constexpr uint32_t SETUP_CC_BLOB = 7;
inline constexpr uint32_t SETUP_IMA = 8;
inline constexpr uint32_t SETUP_RNG_SEED = 9;

struct [[gnu::packed]] setup_data {
  uint64_t next;  // physical address of the next node, 0 at the end
  uint32_t type;  // SETUP_*
  uint32_t len;   // bytes of data after this header
};
static_assert(sizeof(setup_data) == 16);

struct [[gnu::packed]] boot_params {
  struct screen_info screen_info;  // 0x000
  uint8_t apm_bios_info[0x14];
  uint8_t _pad2[4];
  uint64_t tboot_addr;
  uint8_t ist_info[0x10];
  uint64_t acpi_rsdp_addr;
  uint8_t _pad3[8];
  uint8_t hd0_info[16];
  uint8_t hd1_info[16];
  uint8_t sys_desc_table[0x10];
  uint8_t olpc_ofw_header[0x10];
  uint32_t ext_ramdisk_image;
  uint32_t ext_ramdisk_size;
  uint32_t ext_cmd_line_ptr;
  uint8_t _pad4[112];
  uint32_t cc_blob_address;
  uint8_t edid_info[0x80];
  struct efi_info efi_info;  // 0x1c0
  uint32_t alt_mem_k;
  uint32_t scratch;
  uint8_t e820_entries;
  uint8_t eddbuf_entries;
  uint8_t edd_mbr_sig_buf_entries;
  uint8_t kbd_status;
  uint8_t secure_boot;
  uint8_t _pad5[2];
  uint8_t sentinel;
  uint8_t _pad6[1];
  setup_header hdr;
  uint8_t _pad7[0x290 - 0x1f1 - sizeof(setup_header)];
  uint32_t edd_mbr_sig_buffer[16];
  boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE];
  uint8_t _pad8[48];
  uint8_t eddbuf[6 * 82];
  uint8_t _pad9[276];
};

#define CHARON_BP_AT(field, off) static_assert(offsetof(boot_params, field) == (off), #field)
CHARON_BP_AT(screen_info, 0x000);
CHARON_BP_AT(acpi_rsdp_addr, 0x070);
CHARON_BP_AT(ext_ramdisk_image, 0x0c0);
CHARON_BP_AT(ext_ramdisk_size, 0x0c4);
CHARON_BP_AT(ext_cmd_line_ptr, 0x0c8);
CHARON_BP_AT(cc_blob_address, 0x13c);
CHARON_BP_AT(efi_info, 0x1c0);
CHARON_BP_AT(e820_entries, 0x1e8);
CHARON_BP_AT(secure_boot, 0x1ec);
CHARON_BP_AT(sentinel, 0x1ef);
CHARON_BP_AT(hdr, 0x1f1);
CHARON_BP_AT(edd_mbr_sig_buffer, 0x290);
CHARON_BP_AT(e820_table, 0x2d0);
CHARON_BP_AT(eddbuf, 0xd00);
#undef CHARON_BP_AT
static_assert(sizeof(boot_params) == 4096);

}  // namespace charon::boot
