// The hosted adapter for kernels that are not bzImages: ELF64 and ELF32
// kernels and multiboot v1/v2 images with modules (common/include/charon/
// kimage/payload.h). Same shape as build_kexec_image(): it gathers the
// files and the machine's facts, the core plans and builds, and this
// relocates purgatory.ro and patches its block.
#pragma once
#include <charon/kimage/payload.h>
#include <charon/loader/bytes.h>
#include <charon/loader/image.h>
#include <charon/loader/sysinfo.h>
#include <charon/result.h>

#include <string>
#include <vector>

namespace charon::loader {

struct PayloadModule {
  std::string name;     // the file
  Bytes data;           // mapped, as the kernel and initrd are (mapped_file.h)
  std::string cmdline;  // the module's command line (kexec-tools: the whole --module string)
};

struct PayloadRequest {
  kimage::PayloadType type = kimage::PayloadType::kElf64;
  bool type_forced = false;  // --type; else detected (said in the notes)
  // ELF kernels: --args-elf or --args-none (--args-linux goes through
  // build_kexec_image with LoadRequest::vmlinux).
  kimage::ElfArgs args = kimage::ElfArgs::kElf;
  std::vector<PayloadModule> modules;
  // The RSDP's bytes for multiboot2's ACPI tag; empty: none.
  std::vector<uint8_t> rsdp;
};

// The kernel, command line, purgatory and console come from `req`; the
// rest from `pay`. Refuses a crash load (-p) and an initrd: neither has a
// meaning for these kernels here.
Result<KexecImage> build_payload_image(const LoadRequest& req, const PayloadRequest& pay,
                                       const SystemInfo& sys);

// The bytes of one chunk of an ELF image (image_chunks()): a view of
// `file` when the chunk is one segment that starts it, else built.
Bytes chunk_bytes(const Bytes& file, const kimage::PayloadImage& im, const kimage::Range& chunk);

// Reads the RSDP at `addr` through ROOT/dev/mem (revision 0: 20 bytes,
// revision 2+: its length field, at most 36), checking signature and
// checksum; empty when it cannot.
std::vector<uint8_t> read_rsdp(const std::string& root, uint64_t addr);

}  // namespace charon::loader
