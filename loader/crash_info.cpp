// Where the running kernel keeps the notes a dump needs: each CPU's
// crash_notes (filled with its registers when it panics) and vmcoreinfo.
#include <charon/loader/elfcore.h>
#include <charon/loader/sysinfo.h>
#include <elf.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace charon::loader {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

std::optional<uint64_t> parse_base(std::string_view s, int base) {
  s = trim(s);
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint64_t> parse_hex(std::string_view text) {
  return parse_base(text, 16);
}

std::optional<uint64_t> parse_dec(std::string_view text) {
  return parse_base(text, 10);
}

std::optional<NoteRange> parse_vmcoreinfo(std::string_view text) {
  text = trim(text);
  const size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto addr = parse_hex(text.substr(0, sp));
  auto size = parse_hex(text.substr(sp + 1));
  if (!addr || !size || *size == 0) return std::nullopt;
  return NoteRange{*addr, *size};
}

namespace {

// x86_64's __START_KERNEL_map (arch/x86/include/asm/page_64_types.h): the
// kernel's text mapping starts here; the direct map lies below.
constexpr uint64_t kStartKernelMap = 0xffffffff80000000ull;

std::vector<uint8_t> read_head(const std::string& path, size_t n) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> b(n);
  if (!f) return {};
  f.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n));
  b.resize(static_cast<size_t>(f.gcount()));
  return b;
}

std::vector<Elf64_Phdr> kcore_loads(const std::vector<uint8_t>& h) {
  std::vector<Elf64_Phdr> out;
  Elf64_Ehdr eh;
  if (h.size() < sizeof eh) return out;
  std::memcpy(&eh, h.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return out;
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    const uint64_t at = eh.e_phoff + i * sizeof(Elf64_Phdr);
    if (at > h.size() || h.size() - at < sizeof(Elf64_Phdr)) break;
    Elf64_Phdr ph;
    std::memcpy(&ph, h.data() + at, sizeof ph);
    if (ph.p_type == PT_LOAD) out.push_back(ph);
  }
  return out;
}

std::optional<uint64_t> kallsyms(const std::string& text, std::string_view name) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    // "ffffffff81000000 T _text"
    const size_t a = line.find(' ');
    if (a == std::string_view::npos || line.size() < a + 3) continue;
    const std::string_view sym = line.substr(a + 3);
    if (sym != name) continue;
    auto v = parse_hex(line.substr(0, a));
    if (v && *v) return v;  // 0: addresses hidden from this user
  }
  return std::nullopt;
}

}  // namespace

KernelLayout layout_from_kcore(const std::vector<uint8_t>& head) {
  KernelLayout l;
  for (const Elf64_Phdr& ph : kcore_loads(head)) {
    if (ph.p_paddr == UINT64_MAX) continue;  // vmalloc, modules, vmemmap
    if (ph.p_vaddr >= kStartKernelMap) {
      // fs/proc/kcore.c: the KCORE_TEXT entry is _text.._end.
      l.text_vaddr = ph.p_vaddr;
      l.text_paddr = ph.p_paddr;
      l.text_size = ph.p_memsz;
    } else if (!l.page_offset && ph.p_vaddr > ph.p_paddr) {
      // A KCORE_RAM entry: p_paddr = __pa(p_vaddr).
      l.page_offset = ph.p_vaddr - ph.p_paddr;
      l.page_offset_from = "/proc/kcore";
    }
  }
  return l;
}

KernelLayout read_kernel_layout(const std::string& root) {
  const std::string kcore = root + "/proc/kcore";
  // The header and every program header fit in the first 64 KiB even on
  // machines with hundreds of RAM ranges.
  const std::vector<uint8_t> head = read_head(kcore, 64 * 1024);
  KernelLayout l = layout_from_kcore(head);
  const auto syms = read_text_file(root + "/proc/kallsyms");
  if (!l.page_offset && syms && l.text_size) {
    // page_offset_base's value, read through kcore's text segment, which
    // covers the kernel's data as well.
    if (auto at = kallsyms(*syms, "page_offset_base");
        at && *at >= l.text_vaddr && *at + 8 <= l.text_vaddr + l.text_size) {
      for (const Elf64_Phdr& ph : kcore_loads(head)) {
        if (ph.p_vaddr != l.text_vaddr) continue;
        std::ifstream f(kcore, std::ios::binary);
        f.seekg(static_cast<std::streamoff>(ph.p_offset + (*at - ph.p_vaddr)));
        uint64_t v = 0;
        if (f.read(reinterpret_cast<char*>(&v), 8) && v) {
          l.page_offset = v;
          l.page_offset_from = "page_offset_base (/proc/kallsyms, /proc/kcore)";
        }
      }
    }
  }
  if (!l.text_size && syms) {
    // _text.._end from kallsyms, at the physical address /proc/iomem's
    // "Kernel code" starts at (__pa_symbol(_text)).
    const auto text = kallsyms(*syms, "_text"), end = kallsyms(*syms, "_end");
    const auto iomem = read_text_file(root + "/proc/iomem");
    if (text && end && *end > *text && iomem) {
      const size_t k = iomem->find(" : Kernel code");
      const size_t nl = k == std::string::npos ? k : iomem->rfind('\n', k);
      const size_t from = nl == std::string::npos ? 0 : nl + 1;
      const std::string line = k == std::string::npos ? "" : iomem->substr(from, k - from);
      const size_t b = line.find_first_not_of(' '), dash = line.find('-');
      if (b != std::string::npos && dash != std::string::npos && dash > b) {
        if (auto pa = parse_hex(line.substr(b, dash - b))) {
          l.text_vaddr = *text;
          l.text_paddr = *pa;
          l.text_size = *end - *text;
        }
      }
    }
  }
  return l;
}

Result<CrashInfo> read_crash_info(const std::string& root) {
  CrashInfo info;
  const std::string vpath = root + "/sys/kernel/vmcoreinfo";
  auto vtext = read_text_file(vpath);
  if (!vtext)
    return fail(
        "%s: cannot read: the running kernel has no CONFIG_CRASH_DUMP, or sysfs is "
        "not mounted",
        vpath.c_str());
  auto v = parse_vmcoreinfo(*vtext);
  if (!v) return fail("%s: expected \"ADDRESS SIZE\" in hex", vpath.c_str());
  info.vmcoreinfo = *v;
  info.layout = read_kernel_layout(root);

  // Every CPU directory, in number order: cpu0, cpu1, ..., cpu10.
  const std::string cpus = root + "/sys/devices/system/cpu";
  std::vector<unsigned> ids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cpus, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 4 || name.compare(0, 3, "cpu") != 0) continue;
    if (auto n = parse_dec(std::string_view(name).substr(3))) ids.push_back(unsigned(*n));
  }
  std::sort(ids.begin(), ids.end());
  for (unsigned id : ids) {
    const std::string dir = cpus + "/cpu" + std::to_string(id);
    auto addr_text = read_text_file(dir + "/crash_notes");
    if (!addr_text) continue;  // kexec-tools too skips a CPU without notes
    auto addr = parse_hex(*addr_text);
    if (!addr || *addr == 0) return fail("%s/crash_notes: expected a hex address", dir.c_str());
    // crash_notes_size came with Linux 4.x; before it the notes were one
    // note_buf_t, whose size the loader cannot know: refuse rather than guess.
    auto size_text = read_text_file(dir + "/crash_notes_size");
    if (!size_text) return fail("%s/crash_notes_size: cannot read", dir.c_str());
    auto size = parse_dec(*size_text);
    if (!size || *size == 0) return fail("%s/crash_notes_size: expected a size", dir.c_str());
    info.cpu_notes.push_back({*addr, *size});
  }
  if (info.cpu_notes.empty())
    return fail("%s: no CPU has crash_notes (is CONFIG_CRASH_DUMP set and sysfs mounted?)",
                cpus.c_str());
  return info;
}

}  // namespace charon::loader
