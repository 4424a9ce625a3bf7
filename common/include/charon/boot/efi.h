// The UEFI tables that boot_params.efi_info names, as a 64-bit kernel
// reads them: the system table and its configuration-table array. Layouts
// are the UEFI specification's (2.10: 4.2 EFI_TABLE_HEADER, 4.3
// EFI_SYSTEM_TABLE, 4.6 EFI_CONFIGURATION_TABLE) for a 64-bit firmware,
// where every pointer and UINTN is 8 bytes; names are Linux's
// (include/linux/efi.h: efi_table_hdr_t, efi_system_table_64_t,
// efi_config_table_64_t), like boot_params.h. Freestanding.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace charon::boot {

// "IBI SYST" (UEFI 4.3, EFI_SYSTEM_TABLE_SIGNATURE).
inline constexpr uint64_t EFI_SYSTEM_TABLE_SIGNATURE = 0x5453595320494249ull;

struct [[gnu::packed]] efi_table_hdr_t {
  uint64_t signature;
  uint32_t revision;
  uint32_t headersize;
  uint32_t crc32;
  uint32_t reserved;
};
static_assert(sizeof(efi_table_hdr_t) == 24);

// Linux reads nr_tables as 32 bits; the spec's NumberOfTableEntries is a
// UINTN whose upper half Linux names _pad2.
struct [[gnu::packed]] efi_system_table_64_t {
  efi_table_hdr_t hdr;
  uint64_t fw_vendor;  // CHAR16 *FirmwareVendor
  uint32_t fw_revision;
  uint32_t _pad1;
  uint64_t con_in_handle;
  uint64_t con_in;
  uint64_t con_out_handle;
  uint64_t con_out;
  uint64_t stderr_handle;
  uint64_t std_err;    // Linux's stderr, a libc macro in hosted builds
  uint64_t runtime;    // EFI_RUNTIME_SERVICES *
  uint64_t boottime;   // EFI_BOOT_SERVICES *
  uint32_t nr_tables;  // NumberOfTableEntries
  uint32_t _pad2;
  uint64_t tables;  // EFI_CONFIGURATION_TABLE *ConfigurationTable
};
static_assert(offsetof(efi_system_table_64_t, fw_vendor) == 24);
static_assert(offsetof(efi_system_table_64_t, con_in_handle) == 40);
static_assert(offsetof(efi_system_table_64_t, runtime) == 88);
static_assert(offsetof(efi_system_table_64_t, boottime) == 96);
static_assert(offsetof(efi_system_table_64_t, nr_tables) == 104);
static_assert(offsetof(efi_system_table_64_t, tables) == 112);
static_assert(sizeof(efi_system_table_64_t) == 120);

struct [[gnu::packed]] efi_guid_t {
  uint8_t b[16];
};

struct [[gnu::packed]] efi_config_table_64_t {
  efi_guid_t guid;  // VendorGuid
  uint64_t table;   // VendorTable
};
static_assert(offsetof(efi_config_table_64_t, table) == 16);
static_assert(sizeof(efi_config_table_64_t) == 24);

}  // namespace charon::boot
