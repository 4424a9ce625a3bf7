// ELF64 relocatable loading (System V gABI, "Object Files"; x86-64 psABI,
// "Relocation Types"). The layout follows kexec-tools' elf_rel_load:
// allocated sections in file order with their alignment, SHT_NOBITS last.
#include <charon/loader/elf_reloc.h>
#include <elf.h>

#include <cstring>

namespace charon::loader {

namespace {

constexpr size_t kMaxSections = 4096;
constexpr uint64_t kMaxAlign = 4096;  // the segment is only page-aligned

unsigned long long ull(uint64_t v) {
  return v;
}

template <class T>
T load(const std::vector<uint8_t>& f, uint64_t off) {
  T v;
  std::memcpy(&v, f.data() + off, sizeof(T));
  return v;
}

bool in_file(uint64_t off, uint64_t size, uint64_t file_size) {
  return off <= file_size && size <= file_size - off;
}

const char* rel_name(uint32_t type) {
  switch (type) {
    case R_X86_64_64:
      return "R_X86_64_64";
    case R_X86_64_PC32:
      return "R_X86_64_PC32";
    case R_X86_64_PLT32:
      return "R_X86_64_PLT32";
    case R_X86_64_32:
      return "R_X86_64_32";
    case R_X86_64_32S:
      return "R_X86_64_32S";
    case R_X86_64_GOTPCREL:
      return "R_X86_64_GOTPCREL";
    case R_X86_64_GOTPCRELX:
      return "R_X86_64_GOTPCRELX";
    case R_X86_64_REX_GOTPCRELX:
      return "R_X86_64_REX_GOTPCRELX";
    case R_X86_64_PC64:
      return "R_X86_64_PC64";
    case R_X86_64_NONE:
      return "R_X86_64_NONE";
    default:
      return "an unknown type";
  }
}

}  // namespace

Result<RelocatableElf> RelocatableElf::parse(std::span<const uint8_t> bytes) {
  RelocatableElf e;
  e.file_.assign(bytes.begin(), bytes.end());
  const std::vector<uint8_t>& f = e.file_;
  const uint64_t fsize = f.size();
  if (fsize < sizeof(Elf64_Ehdr))
    return fail("purgatory: %llu bytes is too short for an ELF header", ull(fsize));
  const auto eh = load<Elf64_Ehdr>(f, 0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return fail("purgatory: not an ELF file (bad magic)");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64)
    return fail("purgatory: EI_CLASS %u is not ELFCLASS64", eh.e_ident[EI_CLASS]);
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return fail("purgatory: EI_DATA %u is not little-endian", eh.e_ident[EI_DATA]);
  if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
    return fail("purgatory: ELF version %u is not EV_CURRENT", eh.e_version);
  if (eh.e_type != ET_REL)
    return fail("purgatory: e_type %u is not ET_REL (a relocatable object like purgatory.ro)",
                eh.e_type);
  if (eh.e_machine != EM_X86_64)
    return fail("purgatory: e_machine %u is not EM_X86_64", eh.e_machine);
  if (eh.e_shentsize != sizeof(Elf64_Shdr))
    return fail("purgatory: e_shentsize %u is not %zu", eh.e_shentsize, sizeof(Elf64_Shdr));
  if (eh.e_shnum == 0 || eh.e_shnum > kMaxSections)
    return fail("purgatory: e_shnum %u is out of range (1..%zu)", eh.e_shnum, kMaxSections);
  if (!in_file(eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr), fsize))
    return fail("purgatory: section headers at 0x%llx run past the end of the file",
                ull(eh.e_shoff));

  // ---- section headers
  for (uint32_t i = 0; i < eh.e_shnum; ++i) {
    const auto sh = load<Elf64_Shdr>(f, eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr));
    Section s{sh.sh_type, sh.sh_flags,   sh.sh_offset, sh.sh_size, sh.sh_link,
              sh.sh_info, sh.sh_entsize, false,        0};
    if (i != 0 && sh.sh_type != SHT_NOBITS && !in_file(sh.sh_offset, sh.sh_size, fsize))
      return fail(
          "purgatory: section %u (offset 0x%llx, size 0x%llx) runs past the end of the file", i,
          ull(sh.sh_offset), ull(sh.sh_size));
    const uint64_t align = sh.sh_addralign ? sh.sh_addralign : 1;
    if (i != 0 && (sh.sh_flags & SHF_ALLOC) && sh.sh_size != 0) {
      if ((align & (align - 1)) != 0 || align > kMaxAlign)
        return fail("purgatory: section %u alignment 0x%llx is not a power of two up to 4096", i,
                    ull(align));
      if (align > e.max_align_) e.max_align_ = align;
      s.placed = true;
    }
    e.sections_.push_back(s);
  }

  // ---- layout: PROGBITS (everything with bytes) first, NOBITS at the end
  uint64_t at = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < eh.e_shnum; ++i) {
      Section& s = e.sections_[i];
      if (!s.placed || (s.type == SHT_NOBITS) != (pass == 1)) continue;
      const auto sh = load<Elf64_Shdr>(f, eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr));
      const uint64_t align = sh.sh_addralign ? sh.sh_addralign : 1;
      at = (at + align - 1) & ~(align - 1);
      s.at = at;
      if (s.size > (1ull << 30) || at + s.size > (1ull << 30))
        return fail("purgatory: section %u makes the image larger than 1 GiB", i);
      at += s.size;
      if (pass == 0) e.image_.resize(at);
    }
  }
  e.mem_size_ = at;
  if (e.mem_size_ == 0) return fail("purgatory: no allocated sections");

  // ---- the symbol table (exactly one)
  uint32_t symtab = 0;
  for (uint32_t i = 1; i < eh.e_shnum; ++i) {
    if (e.sections_[i].type != SHT_SYMTAB) continue;
    if (symtab) return fail("purgatory: more than one symbol table");
    symtab = i;
  }
  if (!symtab) return fail("purgatory: no symbol table");
  {
    const Section& st = e.sections_[symtab];
    if (st.entsize != sizeof(Elf64_Sym) || st.size % sizeof(Elf64_Sym) != 0)
      return fail("purgatory: symbol table entry size %llu is not %zu", ull(st.entsize),
                  sizeof(Elf64_Sym));
    if (st.link == 0 || st.link >= eh.e_shnum || e.sections_[st.link].type != SHT_STRTAB)
      return fail("purgatory: symbol table's string table index %u is invalid", st.link);
    const Section& str = e.sections_[st.link];
    const uint64_t count = st.size / sizeof(Elf64_Sym);
    for (uint64_t j = 0; j < count; ++j) {
      const auto sym = load<Elf64_Sym>(f, st.offset + j * sizeof(Elf64_Sym));
      Symbol s{{}, sym.st_info, sym.st_shndx, sym.st_value, sym.st_size};
      if (sym.st_name != 0) {
        if (sym.st_name >= str.size)
          return fail("purgatory: symbol %llu name offset 0x%x is outside the string table", ull(j),
                      sym.st_name);
        const char* p = reinterpret_cast<const char*>(f.data() + str.offset + sym.st_name);
        const size_t room = static_cast<size_t>(str.size - sym.st_name);
        const size_t len = strnlen(p, room);
        if (len == room) return fail("purgatory: symbol %llu name is not NUL-terminated", ull(j));
        s.name.assign(p, len);
      }
      if (s.shndx != SHN_UNDEF && s.shndx != SHN_ABS && s.shndx != SHN_COMMON &&
          s.shndx >= eh.e_shnum)
        return fail("purgatory: symbol '%s' has section index %u of %u", s.name.c_str(), s.shndx,
                    eh.e_shnum);
      e.symbols_.push_back(std::move(s));
    }
  }

  // ---- relocations for allocated sections
  for (uint32_t i = 1; i < eh.e_shnum; ++i) {
    const Section& rs = e.sections_[i];
    if (rs.type == SHT_REL)
      return fail("purgatory: section %u is SHT_REL; x86_64 uses SHT_RELA only", i);
    if (rs.type != SHT_RELA) continue;
    if (rs.info == 0 || rs.info >= eh.e_shnum)
      return fail("purgatory: relocation section %u targets section %u of %u", i, rs.info,
                  eh.e_shnum);
    if (!e.sections_[rs.info].placed) continue;  // debug info and the like
    if (rs.link != symtab)
      return fail("purgatory: relocation section %u does not use the symbol table", i);
    if (rs.entsize != sizeof(Elf64_Rela) || rs.size % sizeof(Elf64_Rela) != 0)
      return fail("purgatory: relocation section %u entry size %llu is not %zu", i, ull(rs.entsize),
                  sizeof(Elf64_Rela));
    const Section& target = e.sections_[rs.info];
    if (target.type == SHT_NOBITS)
      return fail("purgatory: relocation section %u patches a NOBITS section", i);
    for (uint64_t j = 0; j < rs.size / sizeof(Elf64_Rela); ++j) {
      const auto r = load<Elf64_Rela>(f, rs.offset + j * sizeof(Elf64_Rela));
      Rela rel{rs.info, r.r_offset, static_cast<uint32_t>(ELF64_R_TYPE(r.r_info)),
               static_cast<uint32_t>(ELF64_R_SYM(r.r_info)), r.r_addend};
      uint64_t width = 0;
      switch (rel.type) {
        case R_X86_64_64:
          width = 8;
          break;
        case R_X86_64_PC32:
        case R_X86_64_PLT32:
        case R_X86_64_32:
        case R_X86_64_32S:
          width = 4;
          break;
        default:
          return fail(
              "purgatory: relocation type %u (%s) at section %u offset 0x%llx is not one of "
              "R_X86_64_64, _32, _32S, _PC32, _PLT32",
              rel.type, rel_name(rel.type), rel.target, ull(rel.offset));
      }
      if (!in_file(rel.offset, width, target.size))
        return fail("purgatory: relocation at offset 0x%llx is outside its %llu-byte section %u",
                    ull(rel.offset), ull(target.size), rel.target);
      if (rel.sym >= e.symbols_.size())
        return fail("purgatory: relocation names symbol %u of %zu", rel.sym, e.symbols_.size());
      const Symbol& s = e.symbols_[rel.sym];
      if (s.shndx == SHN_UNDEF)
        return fail("purgatory: relocation against undefined symbol '%s'", s.name.c_str());
      if (s.shndx == SHN_COMMON)
        return fail("purgatory: symbol '%s' is in a common section", s.name.c_str());
      if (s.shndx != SHN_ABS && !e.sections_[s.shndx].placed)
        return fail("purgatory: relocation against '%s' in unallocated section %u", s.name.c_str(),
                    s.shndx);
      e.relas_.push_back(rel);
    }
  }
  if (auto st = e.relocate(0); !st) return Error{st.error()};
  return e;
}

bool RelocatableElf::has_relocation(uint32_t type) const {
  for (const Rela& r : relas_)
    if (r.type == type) return true;
  return false;
}

Status RelocatableElf::relocate(uint64_t base) {
  if (base % max_align_ != 0)
    return fail("purgatory: base 0x%llx is not aligned to 0x%llx", ull(base), ull(max_align_));
  if (base > UINT64_MAX - mem_size_) return fail("purgatory: base 0x%llx wraps", ull(base));
  base_ = base;
  std::fill(image_.begin(), image_.end(), 0);
  for (const Section& s : sections_)
    if (s.placed && s.type != SHT_NOBITS && s.size)
      std::memcpy(image_.data() + s.at, file_.data() + s.offset, s.size);
  for (const Rela& r : relas_) {
    const Symbol& sym = symbols_[r.sym];
    const uint64_t sec_base = sym.shndx == SHN_ABS ? 0 : base + sections_[sym.shndx].at;
    const uint64_t S = sec_base + sym.value;
    const uint64_t value = S + static_cast<uint64_t>(r.addend);
    const uint64_t where = sections_[r.target].at + r.offset;
    const uint64_t P = base + where;
    uint8_t* loc = image_.data() + where;
    switch (r.type) {
      case R_X86_64_64:
        std::memcpy(loc, &value, 8);
        break;
      case R_X86_64_32: {
        if (value > UINT32_MAX)
          return fail(
              "purgatory: R_X86_64_32 to '%s' overflows: 0x%llx does not fit 32 bits (base 0x%llx)",
              sym.name.c_str(), ull(value), ull(base));
        const uint32_t v = static_cast<uint32_t>(value);
        std::memcpy(loc, &v, 4);
        break;
      }
      case R_X86_64_32S: {
        const int64_t sv = static_cast<int64_t>(value);
        if (sv < INT32_MIN || sv > INT32_MAX)
          return fail(
              "purgatory: R_X86_64_32S to '%s' overflows: 0x%llx is not a sign-extended 32-bit "
              "value (base 0x%llx must be below 2 GiB)",
              sym.name.c_str(), ull(value), ull(base));
        const int32_t v = static_cast<int32_t>(sv);
        std::memcpy(loc, &v, 4);
        break;
      }
      default: {  // PC32, PLT32: S + A - P
        const int64_t sv = static_cast<int64_t>(value - P);
        if (sv < INT32_MIN || sv > INT32_MAX)
          return fail("purgatory: %s to '%s' overflows: displacement 0x%llx is out of 32-bit range",
                      rel_name(r.type), sym.name.c_str(), ull(value - P));
        const int32_t v = static_cast<int32_t>(sv);
        std::memcpy(loc, &v, 4);
        break;
      }
    }
  }
  return Status::Ok();
}

Result<ElfSymbolInfo> RelocatableElf::find_symbol(std::string_view name) const {
  for (const Symbol& s : symbols_) {
    if (ELF64_ST_BIND(s.info) != STB_GLOBAL || s.name != name) continue;
    if (s.shndx == SHN_UNDEF || s.shndx == SHN_COMMON)
      return fail("purgatory: symbol '%.*s' is not defined in a section",
                  static_cast<int>(name.size()), name.data());
    if (s.shndx == SHN_ABS) return ElfSymbolInfo{s.value, s.size, false};
    const Section& sec = sections_[s.shndx];
    if (!sec.placed)
      return fail("purgatory: symbol '%.*s' is in unallocated section %u",
                  static_cast<int>(name.size()), name.data(), s.shndx);
    return ElfSymbolInfo{base_ + sec.at + s.value, s.size, sec.type == SHT_NOBITS};
  }
  return fail("purgatory: symbol '%.*s' not found", static_cast<int>(name.size()), name.data());
}

Result<const RelocatableElf::Symbol*> RelocatableElf::symbol_bytes(std::string_view name,
                                                                   size_t size) const {
  const int n = static_cast<int>(name.size());
  for (const Symbol& s : symbols_) {
    if (ELF64_ST_BIND(s.info) != STB_GLOBAL || s.name != name) continue;
    if (s.size != size)
      return fail("purgatory: symbol '%.*s' has size %llu, not %zu", n, name.data(), ull(s.size),
                  size);
    if (s.shndx == SHN_UNDEF || s.shndx == SHN_ABS || s.shndx == SHN_COMMON ||
        !sections_[s.shndx].placed)
      return fail("purgatory: symbol '%.*s' is not in a loaded section", n, name.data());
    const Section& sec = sections_[s.shndx];
    if (sec.type == SHT_NOBITS)
      return fail("purgatory: symbol '%.*s' is in a bss (SHT_NOBITS) section and cannot be set", n,
                  name.data());
    if (s.value > sec.size || size > sec.size - s.value)
      return fail("purgatory: symbol '%.*s' (0x%llx + %zu) lies outside its section", n,
                  name.data(), ull(s.value), size);
    return &s;
  }
  return fail("purgatory: symbol '%.*s' not found", n, name.data());
}

Status RelocatableElf::set_symbol(std::string_view name, const void* data, size_t size) {
  auto s = symbol_bytes(name, size);
  if (!s) return Error{s.error()};
  std::memcpy(image_.data() + sections_[(*s)->shndx].at + (*s)->value, data, size);
  return Status::Ok();
}

Status RelocatableElf::get_symbol(std::string_view name, void* out, size_t size) const {
  auto s = symbol_bytes(name, size);
  if (!s) return Error{s.error()};
  std::memcpy(out, image_.data() + sections_[(*s)->shndx].at + (*s)->value, size);
  return Status::Ok();
}

}  // namespace charon::loader
