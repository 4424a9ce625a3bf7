// A relocatable ELF64 (ET_REL, x86_64) such as purgatory.ro: laid out at a
// chosen physical address, relocated, and patched by symbol name the way
// kexec-tools' kexec-elf-rel.c does it. The input is hostile: every
// offset, size and index is checked before use.
#pragma once
#include <charon/result.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace charon::loader {

// The only relocation types kexec-tools and Linux apply for x86_64
// purgatories (kexec-elf-rel-x86_64.c, arch/x86/kernel/machine_kexec_64.c).
inline constexpr uint32_t R_X86_64_64 = 1;
inline constexpr uint32_t R_X86_64_PC32 = 2;
inline constexpr uint32_t R_X86_64_PLT32 = 4;
inline constexpr uint32_t R_X86_64_32 = 10;
inline constexpr uint32_t R_X86_64_32S = 11;

struct ElfSymbolInfo {
  uint64_t address;  // after placement: base + section offset + st_value
  uint64_t size;
  bool in_nobits;
};

class RelocatableElf {
 public:
  static Result<RelocatableElf> parse(std::span<const uint8_t> file);

  // Bytes to reserve (sections and bss) and the bytes to copy (sections
  // only; bss follows as zeros).
  uint64_t mem_size() const { return mem_size_; }
  uint64_t max_align() const { return max_align_; }
  const std::vector<uint8_t>& image() const { return image_; }
  uint64_t base() const { return base_; }

  // Lays the image out for `base` and applies every relocation to the
  // allocated sections. Undoes any earlier patching: patch afterwards.
  Status relocate(uint64_t base);

  // Whether any relocation of the allocated sections has `type`: with
  // R_X86_64_32S the image must sit below 2 GiB, with only PC-relative
  // ones anywhere its 32-bit code can run.
  bool has_relocation(uint32_t type) const;
  // A global symbol (kexec-tools' elf_rel_find_symbol looks at STB_GLOBAL
  // only) with its address at the current base.
  Result<ElfSymbolInfo> find_symbol(std::string_view name) const;

  // kexec-tools' elf_rel_set_symbol/get_symbol: the symbol's st_size must
  // equal `size`, and it must not live in SHT_NOBITS (its bytes would not
  // be loaded).
  Status set_symbol(std::string_view name, const void* data, size_t size);
  Status get_symbol(std::string_view name, void* out, size_t size) const;

 private:
  struct Section {
    uint32_t type;
    uint64_t flags;
    uint64_t offset;  // in the file
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t entsize;
    bool placed;  // SHF_ALLOC: part of the image
    uint64_t at;  // offset in the image when placed
  };
  struct Symbol {
    std::string name;
    uint8_t info;
    uint16_t shndx;
    uint64_t value;
    uint64_t size;
  };
  struct Rela {
    uint32_t target;  // section index
    uint64_t offset;
    uint32_t type;
    uint32_t sym;
    int64_t addend;
  };
  Result<const Symbol*> symbol_bytes(std::string_view name, size_t size) const;

  std::vector<uint8_t> file_;
  std::vector<Section> sections_;
  std::vector<Symbol> symbols_;
  std::vector<Rela> relas_;
  std::vector<uint8_t> image_;
  uint64_t mem_size_ = 0;
  uint64_t max_align_ = 1;
  uint64_t base_ = 0;
};

}  // namespace charon::loader
