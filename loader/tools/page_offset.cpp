// fs/proc/kcore.c lays /proc/kcore out as an ELF64 core: one PT_LOAD per
// piece of kernel address space, p_vaddr its virtual address, p_paddr
// __pa() of it for the direct map (KCORE_RAM) and the kernel text
// (KCORE_TEXT), and -1 for everything else (vmalloc, vmemmap, modules).
#include "page_offset.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bounded_read.h"

namespace charon::loader {

namespace {

// __START_KERNEL_map: the kernel text mapping starts here, the direct map
// lies below it in every x86_64 layout (4- and 5-level, with or without
// KASLR).
constexpr uint64_t kKernelMap = 0xffffffff80000000ull;
constexpr uint64_t kNoPaddr = ~uint64_t{0};
constexpr uint16_t kMaxPhdrs = 4096;

// The file being read, with its tool's name in every message.
struct Kcore : BoundedFile {
  Kcore() { tool = "page-offset"; }
};

// The address kallsyms gives `name`, from lines "ADDR TYPE NAME [MODULE]".
std::optional<uint64_t> kallsyms_lookup(const std::string& path, std::string_view name, FILE* err) {
  std::ifstream f(path);
  if (!f) {
    std::fprintf(err, "page-offset: cannot read %s\n", path.c_str());
    return std::nullopt;
  }
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string addr, type, sym;
    if (!(in >> addr >> type >> sym) || sym != name) continue;
    char* end = nullptr;
    errno = 0;
    const uint64_t v = std::strtoull(addr.c_str(), &end, 16);
    if (errno || end == addr.c_str() || *end) {
      std::fprintf(err, "page-offset: %s: bad address '%s' for %s\n", path.c_str(), addr.c_str(),
                   sym.c_str());
      return std::nullopt;
    }
    if (v == 0) {
      std::fprintf(err, "page-offset: %s hides %s's address (kptr_restrict, or not root)\n",
                   path.c_str(), sym.c_str());
      return std::nullopt;
    }
    return v;
  }
  std::fprintf(err, "page-offset: %s has no symbol %.*s\n", path.c_str(),
               static_cast<int>(name.size()), name.data());
  return std::nullopt;
}

void usage(FILE* err) {
  std::fprintf(err, "page-offset: usage: page-offset [--kcore=PATH] [--kallsyms=PATH]\n");
}

}  // namespace

int page_offset_main(int argc, char** argv, FILE* out, FILE* err) {
  std::string kcore_path = "/proc/kcore", kallsyms_path = "/proc/kallsyms";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--kcore=") && a.size() > 8) {
      kcore_path = a.substr(8);
    } else if (a.starts_with("--kallsyms=") && a.size() > 11) {
      kallsyms_path = a.substr(11);
    } else {
      usage(err);
      return 2;
    }
  }

  const std::optional<uint64_t> var = kallsyms_lookup(kallsyms_path, "page_offset_base", err);
  Kcore k;
  k.err = err;
  k.fd = open(kcore_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (k.fd < 0) {
    std::fprintf(err, "page-offset: %s: %s\n", kcore_path.c_str(), std::strerror(errno));
    return 1;
  }
  struct stat st;
  if (fstat(k.fd, &st) == 0 && st.st_size > 0) k.size = static_cast<uint64_t>(st.st_size);

  Elf64_Ehdr eh;
  if (!k.read(0, &eh, sizeof(eh), "the ELF header")) {
    close(k.fd);
    return 1;
  }
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_CORE || eh.e_machine != EM_X86_64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > kMaxPhdrs) {
    std::fprintf(err, "page-offset: %s is not an ELF64 x86_64 core with 1..%u program headers\n",
                 kcore_path.c_str(), kMaxPhdrs);
    close(k.fd);
    return 1;
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!k.read(eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr), "the program headers")) {
    close(k.fd);
    return 1;
  }

  int failed = 0;
  // ---- the variable's value, read where kcore maps its address
  std::optional<uint64_t> value;
  if (!var) {
    failed = 1;
  } else {
    const Elf64_Phdr* in = nullptr;
    for (const Elf64_Phdr& p : ph)
      if (p.p_type == PT_LOAD && p.p_vaddr <= *var && *var - p.p_vaddr < p.p_filesz &&
          p.p_filesz - (*var - p.p_vaddr) >= 8)
        in = &p;
    uint64_t v = 0;
    if (!in) {
      std::fprintf(err, "page-offset: no PT_LOAD in %s maps page_offset_base at 0x%" PRIx64 "\n",
                   kcore_path.c_str(), *var);
      failed = 1;
    } else if (in->p_offset > UINT64_MAX - (*var - in->p_vaddr) ||
               !k.read(in->p_offset + (*var - in->p_vaddr), &v, sizeof(v), "page_offset_base")) {
      failed = 1;
    } else {
      value = v;
    }
  }

  // ---- the direct map's PT_LOADs: p_vaddr - p_paddr, the same for each
  std::optional<uint64_t> from_phdrs;
  const Elf64_Phdr* lowest = nullptr;
  int ndirect = 0;
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type != PT_LOAD || p.p_paddr == kNoPaddr || p.p_vaddr >= kKernelMap ||
        p.p_vaddr < p.p_paddr)
      continue;
    ++ndirect;
    if (!lowest || p.p_paddr < lowest->p_paddr) lowest = &p;
  }
  if (!lowest) {
    std::fprintf(err,
                 "page-offset: %s has no direct-map PT_LOAD (p_paddr set, below 0x%" PRIx64 ")\n",
                 kcore_path.c_str(), kKernelMap);
    failed = 1;
  } else {
    from_phdrs = lowest->p_vaddr - lowest->p_paddr;
    for (const Elf64_Phdr& p : ph) {
      if (p.p_type != PT_LOAD || p.p_paddr == kNoPaddr || p.p_vaddr >= kKernelMap ||
          p.p_vaddr < p.p_paddr || p.p_vaddr - p.p_paddr == *from_phdrs)
        continue;
      std::fprintf(err,
                   "page-offset: the direct-map PT_LOAD at 0x%" PRIx64 " (p_paddr 0x%" PRIx64
                   ") gives 0x%" PRIx64 ", the lowest gives 0x%" PRIx64 "\n",
                   static_cast<uint64_t>(p.p_vaddr), static_cast<uint64_t>(p.p_paddr),
                   static_cast<uint64_t>(p.p_vaddr - p.p_paddr), *from_phdrs);
      failed = 1;
    }
  }
  close(k.fd);

  if (value && from_phdrs && *value != *from_phdrs) {
    std::fprintf(err,
                 "page-offset: page_offset_base holds 0x%" PRIx64
                 ", but kcore's direct map gives 0x%" PRIx64 "\n",
                 *value, *from_phdrs);
    failed = 1;
  }
  if (failed) return 1;
  std::fprintf(out, "KDUMP-PAGE-OFFSET=%016" PRIx64 "\n", *value);
  std::fprintf(out,
               "page-offset: page_offset_base at 0x%" PRIx64 " holds 0x%" PRIx64
               "; %d direct-map PT_LOAD(s) in kcore, the lowest at p_paddr 0x%" PRIx64
               " p_vaddr 0x%" PRIx64 ", agree\n",
               *var, *value, ndirect, static_cast<uint64_t>(lowest->p_paddr),
               static_cast<uint64_t>(lowest->p_vaddr));
  return 0;
}

}  // namespace charon::loader
