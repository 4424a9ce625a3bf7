/* charon's loader library, C API: build a kexec image for a bzImage with
 * charon's purgatory, inspect it, and load it with kexec_load(2).
 *
 * Every function that can fail returns 0 on success or -1, and writes one
 * sentence saying why into err (err_len bytes, NUL-terminated, may be
 * NULL). Nothing is loaded unless charon_image_load() returns 0.
 */
#ifndef CHARON_LOADER_H
#define CHARON_LOADER_H

#include <charon/params.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct charon_image; /* opaque */

struct charon_load_options {
  const char* kernel_path;    /* bzImage, required */
  const char* initrd_path;    /* NULL: no initrd */
  const char* cmdline;        /* NULL: empty */
  const char* purgatory_path; /* charon's purgatory.ro, required */
  const char* sysroot;        /* NULL or "": the running system's /proc and /sys */
  int entry_32bit;            /* nonzero: 32-bit boot protocol, all segments below 4 GiB */
  int on_crash;               /* nonzero: crash kernel (KEXEC_ON_CRASH, crashkernel= range) */
  int console_serial;         /* nonzero: purgatory prints on the 8250 at serial_base */
  uint16_t serial_base;       /* 0: 0x3f8 */
  uint32_t serial_baud;       /* 0: keep the UART's divisor */
  int console_debugcon;       /* nonzero: purgatory prints on port 0xe9 */
};

struct charon_segment_info {
  uint64_t mem;   /* physical destination, page-aligned */
  uint64_t memsz; /* bytes reserved there, page-aligned */
  uint64_t bufsz; /* bytes copied; the rest is zero-filled */
  const void* buf;
  const char* what; /* "kernel", "initrd", "boot_params + cmdline", "purgatory", ... */
};

/* Reads the files and the memory map, places the segments, relocates and
 * patches the purgatory. */
int charon_image_build(const struct charon_load_options* opts, struct charon_image** out, char* err,
                       size_t err_len);
size_t charon_image_segment_count(const struct charon_image* img);
int charon_image_segment(const struct charon_image* img, size_t index,
                         struct charon_segment_info* out);
uint64_t charon_image_entry(const struct charon_image* img);
/* The parameter block as patched into the purgatory. */
const struct charon_params* charon_image_params(const struct charon_image* img);
/* kexec_load(2) with KEXEC_ARCH_X86_64 (| KEXEC_ON_CRASH for on_crash). */
int charon_image_load(const struct charon_image* img, char* err, size_t err_len);
void charon_image_free(struct charon_image* img);

/* Unloads the normal (on_crash = 0) or crash image. */
int charon_unload(int on_crash, char* err, size_t err_len);

/* Bytes of page-table scratch the purgatory needs to identity-map the
 * given required ranges with no memory ranges (params.memory all zero),
 * worst case (LA57, no 1 GiB pages), its slack included. */
uint64_t charon_idmap_bytes_needed(const struct charon_region* ranges, size_t count);
/* The same for a parameter block whose `memory` holds `memory` (the
 * machine's RAM, ACPI and NVS ranges) and which requires `required`. */
uint64_t charon_typed_idmap_bytes_needed(const struct charon_region* memory, size_t nmemory,
                                         const struct charon_region* required, size_t nrequired);

#ifdef __cplusplus
}
#endif

#endif /* CHARON_LOADER_H */
