// What a kexec loader hands the next kernel so that it keeps EFI runtime
// services (boot.rst, "EFI HANDOVER PROTOCOL" for efi_info; the kernel's
// own kexec_file_load in arch/x86/kernel/kexec-bzimage64.c, setup_efi_state,
// and kexec-tools' setup_efi_info): efi_info points at the runtime memory
// map with the virtual addresses the old kernel assigned, and a SETUP_EFI
// node carries what the firmware's tables no longer say once
// SetVirtualAddressMap has run. Linux's names, Linux's layouts.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace charon::boot {

// efi_memory_desc_t (include/linux/efi.h; [uefi/2.10]: 7.2
// EFI_MEMORY_DESCRIPTOR). kexec-tools passes runtime maps in this size;
// the kernel steps by efi_memdesc_size, which may be larger.
struct [[gnu::packed]] efi_memory_desc {
  uint32_t type;
  uint32_t pad;
  uint64_t phys_addr;
  uint64_t virt_addr;
  uint64_t num_pages;
  uint64_t attribute;
};
static_assert(sizeof(efi_memory_desc) == 40);

inline constexpr uint64_t kEfiMemoryRuntime = 1ull << 63;  // EFI_MEMORY_RUNTIME

// struct efi_setup_data (arch/x86/include/asm/setup_data.h, "kexec
// external ABI"): the payload of a SETUP_EFI node. The second field was
// `runtime`; kernels since 5.x ignore it and loaders pass 0 or the old
// value.
struct [[gnu::packed]] efi_setup_data {
  uint64_t fw_vendor;
  uint64_t runtime;
  uint64_t tables;
  uint64_t smbios;
  uint64_t reserved[8];
};
static_assert(sizeof(efi_setup_data) == 96);
static_assert(offsetof(efi_setup_data, tables) == 16);
static_assert(offsetof(efi_setup_data, smbios) == 24);

}  // namespace charon::boot
