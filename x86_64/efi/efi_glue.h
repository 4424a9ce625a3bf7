// The firmware side of charon.efi: console, files, pages and the memory
// map through GNU-EFI's headers. Everything that calls a boot service
// lives in efi_glue.cpp; main.cpp only orders the steps.
#pragma once
extern "C" {
#include <efi.h>
#include <efilib.h>
}
#include <charon/console.h>
#include <stddef.h>
#include <stdint.h>

#include "efi_memmap.h"

namespace charon::efi {

// Prints on the firmware console (ConOut) until ExitBootServices; OVMF
// copies ConOut to the serial port, which is what the tests read.
extern Console g_con;
void console_init(EFI_SYSTEM_TABLE* st);

// [uefi/2.10]: 7.2 AllocatePages. `max_end` 0: anywhere.
struct Pages {
  uint8_t* ptr;
  uint64_t bytes;  // page-rounded
};
EFI_STATUS alloc_pages(uint64_t bytes, uint64_t max_end, Pages& out);
EFI_STATUS alloc_pages_at(uint64_t addr, uint64_t bytes);

// Reads a whole file from the volume charon.efi was started from. `path`
// is ASCII with '\' or '/' separators. Prints one line on failure.
EFI_STATUS read_file(EFI_HANDLE image, const char* path, Pages& out, uint64_t& size);

// GetMemoryMap into `buf` (capacity `cap`); on success fills `map` and
// `key`. EFI_BUFFER_TOO_SMALL sets `need`.
struct MapBuffer {
  uint8_t* buf;
  uint64_t cap;
  uint64_t desc_hint;  // the descriptor size the firmware gave when sizing the buffer
  EfiMemMap map;
  UINTN key;
  UINT32 desc_version;
};
EFI_STATUS get_memory_map(MapBuffer& mb, UINTN& need);

// The ACPI RSDP from the configuration table, 2.0 first; 0 if none.
uint64_t find_rsdp(EFI_SYSTEM_TABLE* st);

// boot_params.secure_boot as Linux's EFI stub sets it
// (drivers/firmware/efi/libstub/secureboot.c, efi_get_secureboot): 3
// (enabled) when SecureBoot is 1 and SetupMode is 0, 2 (disabled) when
// either says otherwise or SecureBoot does not exist, 1 (unknown) when
// the variable cannot be read.
uint8_t secure_boot_state();

// `len` bytes from EFI_RNG_PROTOCOL's default algorithm; false when the
// firmware has no RNG (OVMF without a virtio-rng device).
bool efi_random(uint8_t* out, size_t len);

}  // namespace charon::efi
