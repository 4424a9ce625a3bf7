// ELF boot notes (the "ELF boot" proposal, as kexec-tools'
// kexec-elf-boot.c gives them to an ELF kernel with --args-elf): a
// 12-byte header {b_signature, b_size, b_checksum (16 bits), b_records
// (16 bits)}, then b_records notes {n_namesz, n_descsz, n_type} with no
// name, each descriptor padded to 4: the boot loader's name (type 1), its
// version (type 2) and the command line with its NUL (type 4). b_checksum
// is the IP checksum of all b_size bytes taken with the field 0.
#include <charon/align.h>
#include <charon/kimage/payload.h>
#include <charon/mem.h>

namespace charon::kimage {

namespace {

constexpr uint32_t kBootNotesMagic = 0x0e1fb007;
constexpr uint32_t kEbnLoaderName = 1, kEbnLoaderVersion = 2, kEbnCommandLine = 4;
constexpr char kLoaderName[] = "charon-kexec";
constexpr char kLoaderVersion[] = "charon-kexec 0.1";

uint64_t note_bytes(uint64_t desc) {
  return 12 + align_up(desc, 4);
}

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// RFC 1071: the one's-complement sum of the little-endian 16-bit words,
// complemented.
uint16_t ip_checksum(const uint8_t* b, uint64_t n) {
  uint32_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += i & 1 ? uint32_t{b[i]} << 8 : b[i];
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

}  // namespace

uint64_t elf_boot_notes_bytes(size_t cmdline_len) {
  return 12 + note_bytes(sizeof kLoaderName) + note_bytes(sizeof kLoaderVersion) +
         note_bytes(cmdline_len + 1);
}

void build_elf_boot_notes(const char* cmdline, size_t cmdline_len, uint8_t* b, uint64_t total) {
  mem_fill(b, 0, total);
  uint64_t at = 12;
  auto note = [&](uint32_t type, const char* desc, size_t len) {
    put32(b + at + 4, static_cast<uint32_t>(len + 1));  // n_namesz 0; the NUL counts
    put32(b + at + 8, type);
    mem_copy(b + at + 12, desc, len);
    at += note_bytes(len + 1);
  };
  note(kEbnLoaderName, kLoaderName, sizeof kLoaderName - 1);
  note(kEbnLoaderVersion, kLoaderVersion, sizeof kLoaderVersion - 1);
  note(kEbnCommandLine, cmdline, cmdline_len);
  put32(b, kBootNotesMagic);
  put32(b + 4, static_cast<uint32_t>(total));
  put32(b + 8, 3u << 16);  // b_checksum 0, b_records 3
  const uint16_t sum = ip_checksum(b, total);
  b[8] = static_cast<uint8_t>(sum);
  b[9] = static_cast<uint8_t>(sum >> 8);
}

}  // namespace charon::kimage
