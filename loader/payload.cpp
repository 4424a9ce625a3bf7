// ELF and multiboot kernels through the core (common/kimage/payload.cpp):
// gather, plan, build, relocate and patch the purgatory, list segments.
#include <charon/align.h>
#include <charon/cpuid.h>
#include <charon/loader/payload.h>
#include <charon/loader/purgatory.h>
#include <charon/loader/ranges.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace charon::loader {

namespace {

unsigned long long ull(uint64_t v) {
  return v;
}

uint32_t le32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | uint32_t{p[3]} << 24;
}

// The multiboot2 information as --dry-run shows it, read back from the
// built bytes (Multiboot2 3.6): every tag in order, with what it holds.
std::string describe_mb2(const std::vector<uint8_t>& info, uint64_t addr) {
  std::string out =
      strf("multiboot2 information at 0x%llx, %zu bytes, tags:", ull(addr), info.size());
  for (size_t off = 8; off + 8 <= info.size();) {
    const uint8_t* t = info.data() + off;
    const uint32_t type = le32(t), size = le32(t + 4);
    if (size < 8 || size > info.size() - off) return out + " (bad tag size)";
    switch (type) {
      case 1:
        out += " 1 cmdline,";
        break;
      case 2:
        out += strf(" 2 loader name \"%s\",", reinterpret_cast<const char*>(t + 8));
        break;
      case 3:
        out += strf(" 3 module [0x%x, 0x%x),", le32(t + 8), le32(t + 12));
        break;
      case 4:
        out += strf(" 4 basic meminfo (lower %u KiB, upper %u KiB),", le32(t + 8), le32(t + 12));
        break;
      case 6:
        out += strf(" 6 memory map (%u entries of %u bytes),",
                    le32(t + 8) ? (size - 16) / le32(t + 8) : 0, le32(t + 8));
        break;
      case 14:
      case 15:
        out += strf(" %u ACPI RSDP (%u bytes),", type, size - 8);
        break;
      case 0:
        return out + " 0 end";
      default:
        out += strf(" %u,", type);
    }
    off += align_up(size, uint32_t{8});
  }
  return out + " (no end tag)";
}

}  // namespace

Bytes chunk_bytes(const Bytes& file, const kimage::PayloadImage& im, const kimage::Range& chunk) {
  // One segment that starts the chunk: its bytes are the file's, mapped,
  // never copied (a vmlinux's tens of MiB among them).
  size_t n = 0, only = 0;
  for (size_t j = 0; j < im.nseg; ++j)
    if (im.seg[j].paddr >= chunk.start && im.seg[j].paddr < chunk.end) ++n, only = j;
  if (n == 1 && im.seg[only].paddr == chunk.start)
    return file.slice(im.seg[only].offset, im.seg[only].filesz);
  std::vector<uint8_t> data(kimage::chunk_data_bytes(im, chunk));
  kimage::build_chunk(file.data(), im, chunk, data.data());
  return Bytes(std::move(data));
}

std::vector<uint8_t> read_rsdp(const std::string& root, uint64_t addr) {
  std::vector<uint8_t> b(36);
  const int fd = open((root + "/dev/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ssize_t got = pread(fd, b.data(), b.size(), static_cast<off_t>(addr));
  close(fd);
  if (got != static_cast<ssize_t>(b.size())) return {};
  // ACPI 6.5, 5.2.5.3: "RSD PTR ", checksum over the first 20 bytes;
  // from revision 2 `length` and an extended checksum over all of it.
  if (std::string(b.begin(), b.begin() + 8) != "RSD PTR ") return {};
  auto sum = [&](size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + b[i]);
    return s;
  };
  if (sum(20) != 0) return {};
  if (b[15] < 2) return b.resize(20), b;
  const uint32_t len = b[20] | b[21] << 8 | b[22] << 16 | uint32_t{b[23]} << 24;
  if (len < 36 || len > b.size() || sum(len) != 0) return {};
  return b.resize(len), b;
}

Result<KexecImage> build_payload_image(const LoadRequest& req, const PayloadRequest& pay,
                                       const SystemInfo& sys) {
  using kimage::PayloadType;
  const char* type_name = kimage::payload_type_name(pay.type);
  if (req.on_crash) return fail("-p: a %s kernel cannot be a crash kernel here", type_name);
  if (req.initrd)
    return fail("--initrd: a %s kernel takes no initrd%s", type_name,
                pay.type == PayloadType::kMultiboot || pay.type == PayloadType::kMultiboot2
                    ? "; pass it as --module"
                    : "");
  if (req.mode == EntryMode::k32)
    return fail("--entry-32bit is for bzImages; a %s kernel has its own entry", type_name);
  const bool mb = pay.type == PayloadType::kMultiboot || pay.type == PayloadType::kMultiboot2;
  if (!mb && !pay.modules.empty())
    return fail("--module: only multiboot kernels take modules; %s is %s", req.kernel_name.c_str(),
                type_name);

  auto elf = RelocatableElf::parse(req.purgatory);
  if (!elf) return Error{req.purgatory_name + ": " + elf.error()};
  if (auto p = read_params(*elf); !p) return Error{req.purgatory_name + ": " + p.error()};

  uint64_t top_of_ram = 0;
  for (const MemRange& m : sys.memory.ranges)
    if (m.type == E820Type::kRam) top_of_ram = std::max(top_of_ram, m.end);
  if (top_of_ram == 0) return fail("memory map: no System RAM");
  auto free = std::make_unique<kimage::FreeList>();
  if (auto st = free_list_from(usable_ram(sys.memory.ranges), *free); !st) return Error{st.error()};

  std::vector<kimage::ModuleSpec> mods;
  for (const PayloadModule& m : pay.modules) {
    if (m.data.empty()) return fail("--module %s: file is empty", m.name.c_str());
    mods.push_back({m.data.size(), m.cmdline.data(), m.cmdline.size()});
  }
  kimage::PayloadInput in;
  in.file = req.kernel.data();
  in.file_size = req.kernel.size();
  in.type = pay.type;
  in.args = pay.args;
  in.cmdline = req.cmdline.data();
  in.cmdline_len = req.cmdline.size();
  in.modules = mods.data();
  in.nmodules = mods.size();
  in.memmap = sys.memory.ranges.data();
  in.nmemmap = sys.memory.ranges.size();
  in.rsdp = pay.rsdp.empty() ? nullptr : pay.rsdp.data();
  in.rsdp_len = pay.rsdp.size();
  in.free = free.get();
  in.top_of_ram = top_of_ram;
  in.purgatory_size = elf->mem_size();
  in.purgatory_align = elf->max_align();
  in.purgatory_max_end = elf->has_relocation(R_X86_64_32S) ? k2GiB : k4GiB;
  in.console = req.console;
  in.flags = req.extra_flags;

  KexecImage img;
  img.cmdline = req.cmdline;
  img.notes.push_back(strf("type: %s (%s)", type_name, pay.type_forced ? "--type" : "detected"));
  if (!mb)
    img.notes.push_back(strf("arguments: %s%s", kimage::elf_args_name(pay.args),
                             pay.args == kimage::ElfArgs::kElf
                                 ? " (ELF boot notes with the command line)"
                                 : " (nothing but the entry)"));
  kimage::PayloadPlan plan;
  if (kimage::Status s = kimage::plan_payload(in, plan); s != kimage::Status::kOk) {
    std::string msg = req.kernel_name + " (" + type_name + "): " + kimage::status_message(s);
    if (s == kimage::Status::kNotThisType && pay.type_forced)
      msg = strf("%s: --type %s, but the file is not one", req.kernel_name.c_str(), type_name);
    // Name the fixed places that did not fit.
    kimage::PayloadImage im;
    if (s == kimage::Status::kSegmentNotFree &&
        kimage::parse_payload(in.file, in.file_size, in.type, im) == kimage::Status::kOk) {
      msg += " (segments at";
      for (size_t i = 0; i < im.nseg; ++i)
        msg +=
            strf(" [0x%llx, 0x%llx)", ull(im.seg[i].paddr), ull(im.seg[i].paddr + im.seg[i].memsz));
      msg += ")";
    }
    return Error{msg};
  }

  // ---- segments: the image's chunks, the modules, the information
  const auto seg = [](const kimage::Range& r) { return r.end - r.start; };
  for (size_t i = 0; i < plan.nchunks; ++i)
    img.segments.push_back({req.kernel_name, strf("kernel segment %zu", i),
                            chunk_bytes(req.kernel, plan.image, plan.chunks[i]),
                            plan.chunks[i].start, seg(plan.chunks[i])});
  for (size_t i = 0; i < pay.modules.size(); ++i) {
    img.segments.push_back({pay.modules[i].name, strf("module %zu", i), pay.modules[i].data,
                            plan.modules[i].start, seg(plan.modules[i])});
    img.notes.push_back(strf("module %zu: %s at 0x%llx, %zu bytes, cmdline \"%s\"", i,
                             pay.modules[i].name.c_str(), ull(plan.modules[i].start),
                             pay.modules[i].data.size(), pay.modules[i].cmdline.c_str()));
  }
  if (!plan.info.empty()) {
    std::vector<uint8_t> info(kimage::payload_info_bytes(in));
    if (kimage::Status s = kimage::build_payload_info(in, plan, info.data(), info.size());
        s != kimage::Status::kOk)
      return Error{kimage::status_message(s)};
    if (pay.type == PayloadType::kMultiboot2)
      img.notes.push_back(describe_mb2(info, plan.info.start));
    img.segments.push_back({"generated",
                            pay.type == PayloadType::kMultiboot2 ? "multiboot2 information"
                            : mb                                 ? "multiboot information"
                                                                 : "ELF boot notes",
                            std::move(info), plan.info.start, seg(plan.info)});
    img.notes.push_back(pay.type == PayloadType::kMultiboot2 && pay.rsdp.empty()
                            ? "ACPI: no RSDP tag (the RSDP could not be read through /dev/mem)"
                            : "");
    if (img.notes.back().empty()) img.notes.pop_back();
  }

  // ---- purgatory: relocate, then patch
  if (auto st = elf->relocate(plan.purgatory.start); !st)
    return Error{req.purgatory_name + ": " + st.error()};
  auto stack = elf->find_symbol("stack_end");
  if (!stack) return Error{req.purgatory_name + ": " + stack.error()};
  auto params = read_params(*elf);
  if (!params) return Error{params.error()};
  charon_params& p = *params;
  // kexec-tools' elf-x86 frame goes through the block's stack_arg32_2.
  uint64_t stack_arg = 0;
  if (auto a = elf->find_symbol("stack_arg32_2")) stack_arg = a->address;
  if (kimage::Status s = kimage::fill_payload_params(in, plan, stack->address, stack_arg, p);
      s != kimage::Status::kOk)
    return Error{kimage::status_message(s)};
  if (Status st = finish_image(req, *elf, p, plan.purgatory, plan.scratch, img); !st)
    return Error{st.error()};
  return img;
}

}  // namespace charon::loader
