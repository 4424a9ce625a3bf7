// The checks follow what fs/proc/vmcore.c itself accepts and produces:
// an ELF64 ET_CORE header, the merged PT_NOTE with each crashed CPU's
// NT_PRSTATUS ("CORE") and the "VMCOREINFO" note, and one PT_LOAD per
// memory range with p_offset rewritten to its place in the file.
#include "vmcore_check.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bounded_read.h"

namespace charon::loader {

namespace {

constexpr uint64_t kLowEnd = 640 * 1024;  // what the purgatory backs up
constexpr uint64_t kMaxNoteBytes = 64ull << 20;

// The file being read, with its tool's name in every message.
struct Core : BoundedFile {
  Core() { tool = "vmcore-check"; }
};

// One "vmcore-check: ..." line on `err`; returns 1, the failure status.
[[gnu::format(printf, 2, 3)]] int complain(FILE* err, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("vmcore-check: ", err);
  std::vfprintf(err, fmt, ap);
  std::fputc('\n', err);
  va_end(ap);
  return 1;
}

bool parse_u64(const char* s, uint64_t& v) {
  char* end = nullptr;
  errno = 0;
  v = std::strtoull(s, &end, 0);
  return errno == 0 && end != s && (*end == '\0' || *end == ',');
}

// The notes of one PT_NOTE: 4-byte aligned name and desc (ELF64 cores use
// 4-byte alignment, as Linux's own notes do).
struct NoteScan {
  int prstatus = 0;
  std::optional<std::string> vmcoreinfo;
  bool ok = true;
};

void scan_notes(const std::vector<uint8_t>& buf, NoteScan& scan, FILE* err) {
  size_t at = 0;
  auto align4 = [](uint64_t v) { return (v + 3) & ~uint64_t{3}; };
  while (at + sizeof(Elf64_Nhdr) <= buf.size()) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, buf.data() + at, sizeof(nh));
    if (nh.n_namesz == 0 && nh.n_descsz == 0 && nh.n_type == 0) break;  // zero padding
    const uint64_t name_at = at + sizeof(nh);
    const uint64_t desc_at = name_at + align4(nh.n_namesz);
    const uint64_t end = desc_at + align4(nh.n_descsz);
    if (end > buf.size()) {
      std::fprintf(err, "vmcore-check: a note at 0x%zx runs past its PT_NOTE\n", at);
      scan.ok = false;
      return;
    }
    std::string_view name(reinterpret_cast<const char*>(buf.data() + name_at), nh.n_namesz);
    if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
    if (name == "CORE" && nh.n_type == NT_PRSTATUS) ++scan.prstatus;
    if (name == "VMCOREINFO")
      scan.vmcoreinfo.emplace(reinterpret_cast<const char*>(buf.data() + desc_at), nh.n_descsz);
    at = end;
  }
}

}  // namespace

int vmcore_check_main(int argc, char** argv, FILE* out, FILE* err) {
  const char* path = nullptr;
  bool extract = false;
  uint64_t ex_addr = 0, ex_len = 0;
  std::string ex_out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--extract=")) {
      // ADDR,LEN,OUT
      const char* s = argv[i] + 10;
      const char* c1 = std::strchr(s, ',');
      const char* c2 = c1 ? std::strchr(c1 + 1, ',') : nullptr;
      if (!c2 || !parse_u64(s, ex_addr) || !parse_u64(c1 + 1, ex_len) || ex_len == 0 ||
          c2[1] == '\0' || ex_addr > UINT64_MAX - ex_len) {
        std::fprintf(err,
                     "vmcore-check: --extract=ADDR,LEN,OUT, e.g. --extract=0x800,2048,low.bin\n");
        return 2;
      }
      extract = true;
      ex_out = c2 + 1;
    } else if (!path && !a.starts_with("-")) {
      path = argv[i];
    } else {
      std::fprintf(err, "vmcore-check: usage: vmcore-check [--extract=ADDR,LEN,OUT] VMCORE\n");
      return 2;
    }
  }
  if (!path) {
    std::fprintf(err, "vmcore-check: usage: vmcore-check [--extract=ADDR,LEN,OUT] VMCORE\n");
    return 2;
  }

  Core core;
  core.err = err;
  core.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (core.fd < 0) {
    std::fprintf(err, "vmcore-check: %s: %s\n", path, std::strerror(errno));
    return 1;
  }
  struct stat st;
  if (fstat(core.fd, &st) != 0 || st.st_size <= 0) {
    std::fprintf(err, "vmcore-check: %s: empty or unreadable\n", path);
    close(core.fd);
    return 1;
  }
  core.size = static_cast<uint64_t>(st.st_size);
  int failed = 0;
  // ---- ELF header (fs/proc/vmcore.c, parse_crash_elf64_headers)
  Elf64_Ehdr eh;
  if (!core.read(0, &eh, sizeof(eh), "the ELF header")) {
    close(core.fd);
    return 1;
  }
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_ident[EI_VERSION] != EV_CURRENT ||
      eh.e_type != ET_CORE || eh.e_machine != EM_X86_64 || eh.e_version != EV_CURRENT ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM) {
    failed =
        complain(err,
                 "not an ELF64 little-endian x86_64 core (magic, class, type, machine, version or "
                 "e_phentsize/e_phnum wrong)");
    close(core.fd);
    return 1;
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!core.read(eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr), "the program headers")) {
    close(core.fd);
    return 1;
  }

  // ---- notes
  NoteScan notes;
  int nloads = 0, nnotes = 0;
  const Elf64_Phdr* low = nullptr;
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type == PT_NOTE) {
      ++nnotes;
      if (p.p_filesz > kMaxNoteBytes) {
        failed =
            complain(err, "a PT_NOTE of 0x%" PRIx64 " bytes", static_cast<uint64_t>(p.p_filesz));
        continue;
      }
      std::vector<uint8_t> buf(p.p_filesz);
      if (!core.read(p.p_offset, buf.data(), buf.size(), "a PT_NOTE")) {
        failed = 1;
        continue;
      }
      scan_notes(buf, notes, err);
      if (!notes.ok) failed = 1;
    } else if (p.p_type == PT_LOAD) {
      ++nloads;
      if (p.p_offset > core.size || p.p_filesz > core.size - p.p_offset)
        failed =
            complain(err, "PT_LOAD for 0x%" PRIx64 "+0x%" PRIx64 " lies past the end of the file",
                     static_cast<uint64_t>(p.p_paddr), static_cast<uint64_t>(p.p_filesz));
      if (p.p_paddr == 0) low = &p;
    }
  }
  std::fprintf(out, "vmcore-check: ELF64 x86_64 core, %d PT_LOAD, %d PT_NOTE, %" PRIu64 " bytes\n",
               nloads, nnotes, core.size);
  std::fprintf(out, "vmcore-check: %d NT_PRSTATUS note(s)\n", notes.prstatus);
  if (notes.prstatus == 0)
    failed = complain(err, "no NT_PRSTATUS note: no CPU's registers are in the dump");
  if (!notes.vmcoreinfo) {
    failed = complain(err, "no VMCOREINFO note");
  } else {
    const std::string& v = *notes.vmcoreinfo;
    const size_t at = v.find("OSRELEASE=");
    if (at == std::string::npos) {
      failed = complain(err, "the VMCOREINFO note has no OSRELEASE= line");
    } else {
      std::fprintf(out, "vmcore-check: VMCOREINFO %s\n",
                   v.substr(at, v.find('\n', at) - at).c_str());
    }
  }

  // ---- low memory: one PT_LOAD for [0, 640 KiB), as charon-kexec writes it
  if (!low || low->p_filesz < kLowEnd) {
    failed = complain(err, "no PT_LOAD covers [0, 640 KiB)");
  } else {
    std::fprintf(out, "vmcore-check: [0x0, 0x%" PRIx64 ") at file offset 0x%" PRIx64 "\n",
                 static_cast<uint64_t>(low->p_filesz), static_cast<uint64_t>(low->p_offset));
  }

  // ---- the bytes of a physical range
  if (extract && !failed) {
    const Elf64_Phdr* in = nullptr;
    for (const Elf64_Phdr& p : ph)
      if (p.p_type == PT_LOAD && p.p_paddr <= ex_addr && ex_addr - p.p_paddr <= p.p_filesz &&
          ex_len <= p.p_filesz - (ex_addr - p.p_paddr))
        in = &p;
    if (!in) {
      failed = complain(err, "no PT_LOAD holds [0x%" PRIx64 ", 0x%" PRIx64 ")", ex_addr,
                        ex_addr + ex_len);
    } else {
      std::vector<uint8_t> buf(ex_len);
      FILE* f = nullptr;
      if (!core.read(in->p_offset + (ex_addr - in->p_paddr), buf.data(), ex_len,
                     "the extracted range")) {
        failed = 1;
      } else if (!(f = std::fopen(ex_out.c_str(), "wb")) ||
                 std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) {
        failed = complain(err, "%s: cannot write", ex_out.c_str());
      } else {
        std::fprintf(out, "vmcore-check: wrote [0x%" PRIx64 ", 0x%" PRIx64 ") to %s\n", ex_addr,
                     ex_addr + ex_len, ex_out.c_str());
      }
      if (f && std::fclose(f) != 0) failed = complain(err, "%s: cannot write", ex_out.c_str());
    }
  }
  close(core.fd);
  if (!failed) std::fprintf(out, "vmcore-check: OK\n");
  return failed;
}

}  // namespace charon::loader
