// charon-kexec: kexec-tools' options for the x86_64 bzImage loader, with
// charon's purgatory. One failure, one message, one non-zero exit; nothing
// is loaded unless every step before kexec_load succeeded.
#include <charon/loader/backend.h>
#include <charon/loader/cli.h>
#include <charon/loader/mapped_file.h>
#include <charon/loader/payload.h>
#include <charon/loader/sysinfo.h>
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace charon::loader {

namespace {

constexpr const char* kVersion = "charon-kexec 0.1 (charon_params version %u, boot protocol 2.10+)";
constexpr uint64_t kMaxInputBytes = 2ull << 30;

void usage(FILE* f) {
  std::fputs(
      "Usage: charon-kexec [OPTION]... -l KERNEL   load KERNEL for a later -e\n"
      "       charon-kexec [OPTION]... -p KERNEL   load KERNEL to run on a crash\n"
      "       charon-kexec -e                      boot the loaded kernel now\n"
      "       charon-kexec -u [-p]                 unload (the crash kernel with -p)\n"
      "\n"
      "  -l, --load             load a kernel through charon's purgatory\n"
      "  -p, --load-panic       load into the crashkernel= reservation (KEXEC_ON_CRASH)\n"
      "  -e, --exec             sync, then reboot into the loaded kernel\n"
      "  -u, --unload           unload the loaded image\n"
      "  -S, --status           exit 0 if an image (with -p, a crash image) is loaded, 1 if not\n"
      "  -a, --kexec-syscall-auto  (default) try kexec_file_load, the kernel's own loader and\n"
      "                         purgatory; fall back to kexec_load with charon's purgatory\n"
      "                         only if the kernel cannot load the file (ENOSYS, ENOEXEC)\n"
      "  -s, --kexec-file-syscall  kexec_file_load only (Secure Boot, lockdown)\n"
      "  -c, --kexec-syscall    kexec_load only, with charon's purgatory\n"
      "  -t, --type=TYPE        the kernel's type, instead of detecting it: bzImage64\n"
      "                         (bzImage), elf-x86_64, elf-x86, multiboot-x86,\n"
      "                         multiboot2-x86 (kexec-tools' names)\n"
      "      --module=\"FILE ARGS\"  a multiboot module, its string its command line\n"
      "                         (repeatable, in order)\n"
      "      --args-linux       an ELF kernel gets the Linux boot protocol: boot_params with\n"
      "                         the command line, e820 and --initrd (the default for a\n"
      "                         vmlinux, which carries \"Linux\" ELF notes)\n"
      "      --args-elf         an ELF kernel gets ELF boot notes with the command line\n"
      "                         (RDI, or [ESP+4] for ELF32; the default for other ELF files)\n"
      "      --args-none        an ELF kernel gets nothing but its entry\n"
      "      --initrd=FILE      initial ramdisk (also --ramdisk)\n"
      "      --append=STRING    kernel command line (also --command-line)\n"
      "      --reuse-cmdline    start from /proc/cmdline, without BOOT_IMAGE= (and with -p,\n"
      "                         without crashkernel=)\n"
      "      --elf32-core-headers, --elf64-core-headers\n"
      "                         the crash dump's ELF core header class (default ELF64)\n"
      "      --entry-32bit      enter the kernel by the 32-bit protocol (paging off, all\n"
      "                         segments below 4 GiB); default is the 64-bit entry\n"
      "      --real-mode        enter the kernel's real-mode setup code, which calls the\n"
      "                         BIOS (BIOS-booted machines only; bzImages only)\n"
      "      --console-serial   purgatory messages on the 8250 serial port\n"
      "      --serial=PORT      its I/O port: 0x3f8 or ttyS0..ttyS3 (default ttyS0)\n"
      "      --serial-baud=N    set its divisor for N baud (9600..115200); default: keep\n"
      "      --debugcon         purgatory messages on the 0xe9 debug port (QEMU)\n"
      "      --purgatory=PATH   use this purgatory.ro instead of the built-in one\n"
      "      --dry-run          print the layout and digest; load nothing (no root needed)\n"
      "      --halt-before-jump the purgatory verifies and prepares, then halts (self-test)\n"
      "      --sysroot=DIR      read /proc and /sys under DIR (for tests)\n"
      "  -h, --help             this text\n"
      "  -v, --version          the version\n"
      "\n"
      "In a Xen dom0 every action goes through Xen's kexec hypercall (/dev/xen/privcmd),\n"
      "never the Linux kexec syscalls; a PV or PVH domU is refused.\n",
      f);
}

enum Opt {
  kOptInitrd = 256,
  kOptAppend,
  kOptReuse,
  kOptEntry32,
  kOptConsoleSerial,
  kOptConsoleVga,
  kOptSerial,
  kOptBaud,
  kOptDebugcon,
  kOptPurgatory,
  kOptDryRun,
  kOptSysroot,
  kOptHalt,
  kOptElf32,
  kOptElf64,
  kOptModule,
  kOptArgsElf,
  kOptArgsLinux,
  kOptArgsNone,
  kOptRealMode,
};

// Input files are mapped, never read into buffers: kexec_load gets the
// mapped pages, and kexec_file_load the file itself (mapped_file.h).
Result<Bytes> map_input(const std::string& path, const char* what) {
  auto f = MappedFile::open(path, what, kMaxInputBytes);
  if (!f) return Error{f.error()};
  return Bytes(*f);
}

std::optional<uint16_t> parse_serial(const std::string& s) {
  // kexec-tools' names, and the legacy COM port addresses.
  static constexpr struct {
    const char* name;
    uint16_t port;
  } kTty[] = {{"ttyS0", 0x3f8}, {"ttyS1", 0x2f8}, {"ttyS2", 0x3e8}, {"ttyS3", 0x2e8}};
  for (const auto& t : kTty)
    if (s == t.name) return t.port;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(s.c_str() + 2, &end, 16);
    if (errno == 0 && *end == '\0' && v > 0 && v < 0x10000 - 8) return static_cast<uint16_t>(v);
  }
  return std::nullopt;
}

// An ELF or multiboot kernel (payload.h): only kexec_load with charon's
// purgatory can start it (the kernel's kexec_file_load takes bzImages).
int run_payload(LoadRequest& req, kimage::PayloadType type, bool forced, kimage::ElfArgs args,
                const std::vector<std::string>& module_args, Syscall mode, bool dry_run,
                const std::string& root, const CliEnv& env) {
  const char* name = kimage::payload_type_name(type);
  auto err = [&](const std::string& msg) {
    std::fprintf(env.err, "charon-kexec: %s\n", msg.c_str());
    return 1;
  };
  if (mode == Syscall::kFileLoad)
    return err(
        strf("-s: kexec_file_load loads only bzImages; %s is %s", req.kernel_name.c_str(), name));
  PayloadRequest pay;
  pay.type = type;
  pay.type_forced = forced;
  pay.args = args;
  // kexec-tools' --module="FILE ARGS": the file is the first word, the
  // module's command line the whole string (kexec-mb2-x86.c).
  for (const std::string& m : module_args) {
    const std::string file = m.substr(0, m.find(' '));
    auto data = map_input(file, "module");
    if (!data) return err(data.error());
    pay.modules.push_back({file, std::move(*data), m});
  }
  // The command line starts with the image's name, as GRUB and
  // kexec-tools' multiboot loaders give it.
  const bool mb =
      type == kimage::PayloadType::kMultiboot || type == kimage::PayloadType::kMultiboot2;
  if (mb) req.cmdline = req.cmdline.empty() ? req.kernel_name : req.kernel_name + " " + req.cmdline;
  auto sys = read_system_info(root);
  if (!sys) return err(sys.error());
  if (type == kimage::PayloadType::kMultiboot2 && sys->acpi_rsdp)
    pay.rsdp = read_rsdp(root, sys->acpi_rsdp);
  auto img = build_payload_image(req, pay, *sys);
  if (!img) return err(img.error());
  if (dry_run) {
    std::fprintf(env.out,
                 "syscall: kexec_load with charon's purgatory (%s kernels load no other way)\n",
                 name);
    print_layout(env.out, *img);
    return 0;
  }
  auto st = kexec_load_image(*env.sys, *img, false, root);
  if (!st) return err(st.error());
  return 0;
}

}  // namespace

void print_layout(FILE* out, const KexecImage& img) {
  std::fprintf(out, "%-3s  %-34s  %-37s  %-10s  %s\n", "seg", "source", "destination", "size",
               "what");
  size_t i = 0;
  for (const Segment& s : img.segments) {
    std::fprintf(out, "%-3zu  %-34.34s  0x%016llx-0x%016llx  0x%08llx  %s", i++, s.source.c_str(),
                 static_cast<unsigned long long>(s.mem),
                 static_cast<unsigned long long>(s.mem + s.memsz - 1),
                 static_cast<unsigned long long>(s.memsz), s.what.c_str());
    if (s.data.size() != s.memsz)
      std::fprintf(out, " (0x%llx bytes from the file, rest zero)",
                   static_cast<unsigned long long>(s.data.size()));
    std::fputc('\n', out);
  }
  const charon_params& p = img.params;
  std::fprintf(out, "entry: 0x%016llx (purgatory_start)\n",
               static_cast<unsigned long long>(img.entry));
  const auto h = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (p.handoff == CHARON_HANDOFF_GENERIC64) {
    std::fprintf(out, "handoff: generic64, rip 0x%llx, rsp 0x%llx, rdi 0x%llx, rsi 0x%llx\n",
                 h(p.regs64.rip), h(p.regs64.rsp), h(p.regs64.rdi), h(p.regs64.rsi));
  } else if (p.handoff == CHARON_HANDOFF_GENERIC32 && p.stack_arg32_1) {
    // ESP names the block's stack_arg32_2: generic32 pushes the frame on
    // the purgatory's stack (README, "Stack arguments").
    std::fprintf(out,
                 "handoff: generic32 (paging off), eip 0x%llx, eax 0x%llx, ebx 0x%llx, "
                 "stack frame [esp] 0x%llx, [esp + 4] 0x%llx on the purgatory's stack\n",
                 h(p.regs32.eip), h(p.regs32.eax), h(p.regs32.ebx), h(p.stack_arg32_2),
                 h(p.stack_arg32_1));
  } else if (p.handoff == CHARON_HANDOFF_GENERIC32) {
    std::fprintf(
        out, "handoff: generic32 (paging off), eip 0x%llx, eax 0x%llx, ebx 0x%llx, esp 0x%llx\n",
        h(p.regs32.eip), h(p.regs32.eax), h(p.regs32.ebx), h(p.regs32.esp));
  } else if (p.handoff == CHARON_HANDOFF_GENERIC16) {
    std::fprintf(out, "handoff: generic16 (real mode), cs:ip %04x:%04x, ss:sp %04x:%04llx\n",
                 p.regs16.cs, p.regs16.ip, p.regs16.ss, h(p.regs16.esp));
  } else {
    std::fprintf(out, "handoff: %s, kernel entry 0x%llx, boot_params 0x%llx\n",
                 p.handoff == CHARON_HANDOFF_LINUX32 ? "linux32 (paging off)" : "linux64",
                 h(p.kernel_entry), h(p.boot_params));
  }
  std::fputs("identity map:", out);
  if (p.idmap_limit) std::fprintf(out, " [0, 0x%llx)", h(p.idmap_limit));
  bool any = false;
  for (const charon_region& r : p.memory)
    if (r.len) {
      std::fprintf(out, "%s [0x%llx, 0x%llx)", any ? "" : " memory", h(r.start),
                   h(r.start + r.len));
      any = true;
    }
  std::fputs((p.handoff == CHARON_HANDOFF_LINUX64 || p.handoff == CHARON_HANDOFF_LINUX32)
                 ? ", [0, 1 MiB), every segment and the kernel's init_size range\n"
                 : ", every segment\n",
             out);
  if (p.backup_dst)
    std::fprintf(out, "backup: [0x%llx, 0x%llx) -> 0x%llx after verification (crash kernel)\n",
                 static_cast<unsigned long long>(p.backup_src),
                 static_cast<unsigned long long>(p.backup_src + p.backup_size),
                 static_cast<unsigned long long>(p.backup_dst));
  std::fprintf(out, "cmdline: %s\n", img.cmdline.c_str());
  for (const std::string& n : img.notes) std::fprintf(out, "%s\n", n.c_str());
  std::fputs("sha256:", out);
  for (uint8_t b : p.digest) std::fprintf(out, "%02x", b);
  std::fputs(" over", out);
  for (const charon_region& r : p.regions)
    if (r.len)
      std::fprintf(out, " [0x%llx+0x%llx]", static_cast<unsigned long long>(r.start),
                   static_cast<unsigned long long>(r.len));
  std::fputc('\n', out);
}

int run_cli(int argc, char** argv, const CliEnv& env) {
  static const option kLong[] = {
      {"load", no_argument, nullptr, 'l'},
      {"load-panic", no_argument, nullptr, 'p'},
      {"exec", no_argument, nullptr, 'e'},
      {"unload", no_argument, nullptr, 'u'},
      {"status", no_argument, nullptr, 'S'},
      {"kexec-syscall-auto", no_argument, nullptr, 'a'},
      {"kexec-file-syscall", no_argument, nullptr, 's'},
      {"kexec-syscall", no_argument, nullptr, 'c'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'v'},
      {"initrd", required_argument, nullptr, kOptInitrd},
      {"ramdisk", required_argument, nullptr, kOptInitrd},
      {"append", required_argument, nullptr, kOptAppend},
      {"command-line", required_argument, nullptr, kOptAppend},
      {"reuse-cmdline", no_argument, nullptr, kOptReuse},
      {"entry-32bit", no_argument, nullptr, kOptEntry32},
      {"console-serial", no_argument, nullptr, kOptConsoleSerial},
      {"console-vga", no_argument, nullptr, kOptConsoleVga},
      {"serial", required_argument, nullptr, kOptSerial},
      {"serial-baud", required_argument, nullptr, kOptBaud},
      {"debugcon", no_argument, nullptr, kOptDebugcon},
      {"purgatory", required_argument, nullptr, kOptPurgatory},
      {"dry-run", no_argument, nullptr, kOptDryRun},
      {"sysroot", required_argument, nullptr, kOptSysroot},
      {"halt-before-jump", no_argument, nullptr, kOptHalt},
      {"elf32-core-headers", no_argument, nullptr, kOptElf32},
      {"elf64-core-headers", no_argument, nullptr, kOptElf64},
      {"type", required_argument, nullptr, 't'},
      {"module", required_argument, nullptr, kOptModule},
      {"args-elf", no_argument, nullptr, kOptArgsElf},
      {"args-linux", no_argument, nullptr, kOptArgsLinux},
      {"args-none", no_argument, nullptr, kOptArgsNone},
      {"real-mode", no_argument, nullptr, kOptRealMode},
      {nullptr, 0, nullptr, 0},
  };
  auto err = [&](const std::string& msg) {
    std::fprintf(env.err, "charon-kexec: %s\n", msg.c_str());
    return 1;
  };
  auto usage_err = [&](const std::string& msg) {
    std::fprintf(env.err, "charon-kexec: %s\nTry 'charon-kexec --help'.\n", msg.c_str());
    return 2;
  };

  bool load = false, panic = false, exec = false, unload = false, dry_run = false, reuse = false;
  bool status = false;
  Syscall syscall_mode = Syscall::kAuto;
  // Options only charon's purgatory can honour: with -a they choose
  // kexec_load, since the kernel's own purgatory would ignore them.
  std::vector<std::string> charon_only;
  std::optional<std::string> initrd_path, append, purgatory_path;
  std::optional<kimage::PayloadType> forced_type;
  std::vector<std::string> module_args;
  std::optional<kimage::ElfArgs> elf_args;
  bool entry32_asked = false;
  std::string root = env.root;
  LoadRequest req;
  optind = 0;  // GNU getopt: rescan from scratch (run_cli may run more than once)
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "lpeuhvSasct:", kLong, nullptr)) != -1) {
    switch (c) {
      case 'l':
        load = true;
        break;
      case 'p':
        panic = true;
        break;
      case 'e':
        exec = true;
        break;
      case 'u':
        unload = true;
        break;
      case 'S':
        status = true;
        break;
      case 'a':
        syscall_mode = Syscall::kAuto;
        break;
      case 's':
        syscall_mode = Syscall::kFileLoad;
        break;
      case 'c':
        syscall_mode = Syscall::kLoad;
        break;
      case 'h':
        usage(env.out);
        return 0;
      case 'v':
        std::fprintf(env.out, kVersion, CHARON_PARAMS_VERSION);
        std::fputc('\n', env.out);
        return 0;
      case kOptInitrd:
        initrd_path = optarg;
        break;
      case 't': {
        kimage::PayloadType t;
        if (!kimage::payload_type_from_name(optarg, t))
          return usage_err(
              strf("--type=%s: expected bzImage64, bzImage, elf-x86_64, elf-x86, "
                   "multiboot-x86 or multiboot2-x86",
                   optarg));
        forced_type = t;
        break;
      }
      case kOptModule:
        if (!*optarg) return usage_err("--module: expected \"FILE [ARGS]\"");
        module_args.push_back(optarg);
        break;
      case kOptArgsElf:
        elf_args = kimage::ElfArgs::kElf;
        break;
      case kOptArgsLinux:
        elf_args = kimage::ElfArgs::kLinux;
        break;
      case kOptArgsNone:
        elf_args = kimage::ElfArgs::kNone;
        break;
      case kOptAppend:
        append = optarg;
        break;
      case kOptReuse:
        reuse = true;
        break;
      case kOptEntry32:
        charon_only.push_back("--entry-32bit");
        req.mode = EntryMode::k32;
        entry32_asked = true;
        break;
      case kOptConsoleSerial:
        charon_only.push_back("--console-serial");
        req.console.serial = true;
        break;
      case kOptConsoleVga:
        break;  // accepted for kexec-tools scripts; charon has no VGA console
      case kOptElf32:
        charon_only.push_back("--elf32-core-headers");
        req.elf32_core = true;
        break;
      case kOptElf64:
        req.elf32_core = false;
        break;
      case kOptSerial: {
        charon_only.push_back("--serial");
        auto port = parse_serial(optarg);
        if (!port)
          return usage_err(
              strf("--serial=%s: expected ttyS0..ttyS3 or a hex port like 0x3f8", optarg));
        req.console.serial_base = *port;
        break;
      }
      case kOptBaud: {
        charon_only.push_back("--serial-baud");
        char* end = nullptr;
        const unsigned long v = std::strtoul(optarg, &end, 10);
        // The divisor is 115200 / baud, so only divisors of 115200 are exact.
        if (*optarg == '\0' || *end || v < 9600 || v > 115200 || 115200 % v)
          return usage_err(
              strf("--serial-baud=%s: expected a divisor of 115200 from 9600 to 115200", optarg));
        req.console.serial_baud = static_cast<uint32_t>(v);
        break;
      }
      case kOptDebugcon:
        charon_only.push_back("--debugcon");
        req.console.debugcon = true;
        break;
      case kOptPurgatory:
        charon_only.push_back("--purgatory");
        purgatory_path = optarg;
        break;
      case kOptDryRun:
        dry_run = true;
        break;
      case kOptSysroot:
        root = optarg;
        break;
      case kOptRealMode:
        charon_only.push_back("--real-mode");
        req.real_mode = true;
        // The setup code enters the kernel by its 32-bit entry.
        req.mode = EntryMode::k32;
        break;
      case kOptHalt:
        charon_only.push_back("--halt-before-jump");
        req.extra_flags |= CHARON_F_HALT_BEFORE_JUMP;
        break;
      case '?':
      default:
        if (optopt) return usage_err(strf("option -%c is unknown or lacks its argument", optopt));
        return usage_err(strf("option %s is unknown or lacks its argument", argv[optind - 1]));
    }
  }
  std::vector<std::string> rest(argv + optind, argv + argc);
  // A kernel with no -l, as in "charon-kexec KERNEL --dry-run", is a load.
  if (!rest.empty() && !exec && !unload && !panic && !status) load = true;
  const int modes = (load || panic ? 1 : 0) + (exec ? 1 : 0) + (unload ? 1 : 0) + (status ? 1 : 0);
  if ((unload || status) && panic && !load && !exec) {
    // -u -p: unload the crash image; -S -p: is a crash image loaded?
  } else if (modes != 1) {
    return usage_err("give exactly one of -l KERNEL, -p KERNEL, -e, -u, -S");
  }
  if (load && panic) return usage_err("-l and -p exclude each other");
  if (syscall_mode == Syscall::kFileLoad && !charon_only.empty())
    return usage_err(charon_only[0] +
                     " needs charon's purgatory, which kexec_file_load (-s) does not use");

  // ---- Xen: dom0 loads through the hypervisor and never calls the Linux
  // kexec syscalls (a PV dom0 kernel oopses in kexec_load); a PV or PVH
  // domU has no kexec at all.
  const XenWorld xen_world = detect_xen(root);
  if (xen_world.role == XenRole::kUnsupported) return err(xen_domu_refusal(xen_world));
  const bool under_xen = xen_world.role == XenRole::kDom0;
  // --real-mode runs the kernel's setup code, which calls the BIOS: only a
  // BIOS-booted machine still has one, and only a normal load reaches it
  // (README, "The generic16 handoff").
  if (req.real_mode && (load || panic)) {
    if (panic)
      return err(
          "--real-mode cannot load a crash kernel (-p): the BIOS is not there to call after a "
          "panic");
    if (under_xen)
      return err("--real-mode: under Xen (" + xen_world.how +
                 ") the BIOS belongs to Xen, and dom0 cannot hand the machine to real mode");
    if (access((root + "/sys/firmware/efi").c_str(), F_OK) == 0)
      return err(
          "--real-mode needs a BIOS for the setup code to call; this machine was booted by EFI "
          "(/sys/firmware/efi)");
  }
  if (under_xen && syscall_mode == Syscall::kFileLoad)
    return err(
        "-s: under Xen (" + xen_world.how +
        ") dom0 has no kexec_file_load; Xen loads the image (drop -s: charon-kexec uses Xen's "
        "kexec hypercall with charon's purgatory)");
  std::unique_ptr<XenHypercall> xen;
  if (under_xen && !(dry_run && (unload || exec))) {
    auto h = env.open_xen ? env.open_xen(root) : open_xen_privcmd(root);
    if (!h) return err("Xen dom0 (" + xen_world.how + "): " + h.error());
    xen = std::move(*h);
  }
  const std::unique_ptr<SegmentLoader> backend =
      xen ? make_xen_loader(*xen) : make_syscall_loader(*env.sys, root);

  if (status) {
    if (!rest.empty()) return usage_err("-S takes no file");
    auto loaded = backend->loaded(panic);
    if (!loaded) return err(loaded.error());
    std::fprintf(env.out, "%s: %s\n", panic ? "crash kernel" : "kexec kernel",
                 *loaded ? "loaded" : "not loaded");
    return *loaded ? 0 : 1;
  }
  if (unload) {
    if (!rest.empty()) return usage_err("-u takes no file");
    if (dry_run) return 0;
    if (under_xen) {
      auto st = backend->unload(panic);
      return st ? 0 : err(st.error());
    }
    // An image loaded by either call is freed by either (kernel/kexec.c,
    // kexec_file.c): -a tries kexec_file_load's UNLOAD first.
    if (syscall_mode != Syscall::kLoad) {
      auto st = kexec_file_unload(*env.sys, panic, root);
      if (st || syscall_mode == Syscall::kFileLoad) return st ? 0 : err(st.error());
    }
    auto st = backend->unload(panic);
    return st ? 0 : err(st.error());
  }
  if (exec) {
    if (!rest.empty()) return usage_err("-e takes no file");
    if (dry_run) return 0;
    if (under_xen) std::fflush(nullptr);
    auto st = backend->exec();
    return err(st.error());  // only returns on failure
  }

  if (rest.size() != 1)
    return usage_err(rest.empty() ? "no kernel given" : "more than one kernel given");
  req.kernel_name = rest[0];
  req.on_crash = panic;
  auto kernel = map_input(rest[0], "kernel");
  if (!kernel) return err(kernel.error());
  req.kernel = std::move(*kernel);
  if (initrd_path) {
    auto initrd = map_input(*initrd_path, "initrd");
    if (!initrd) return err(initrd.error());
    if (initrd->empty()) return err("initrd " + *initrd_path + ": file is empty");
    req.initrd = std::move(*initrd);
    req.initrd_name = *initrd_path;
  }
  if (reuse) {
    auto proc = read_text_file(root + "/proc/cmdline");
    if (!proc) return err("--reuse-cmdline: cannot read /proc/cmdline");
    req.cmdline = reuse_cmdline(*proc);
    // The running kernel's crashkernel= means nothing to a crash kernel,
    // which would try to reserve memory inside its own small world
    // (kexec-tools drops it too).
    if (panic) req.cmdline = without_arg(req.cmdline, "crashkernel");
  }
  if (append) {
    if (!req.cmdline.empty() && !append->empty()) req.cmdline += ' ';
    req.cmdline += *append;
  }
  if (purgatory_path) {
    auto purg = map_input(*purgatory_path, "purgatory");
    if (!purg) return err(purg.error());
    req.purgatory = std::move(*purg);
    req.purgatory_name = *purgatory_path;
  } else {
    if (env.builtin_purgatory.empty()) return err("no built-in purgatory; give --purgatory=PATH");
    req.purgatory = Bytes::of_static(env.builtin_purgatory);
    req.purgatory_name = "built-in purgatory.ro";
  }

  // ---- which kind of kernel: bzImages below, the others here
  kimage::PayloadType type = kimage::PayloadType::kBzImage;
  if (forced_type) {
    type = *forced_type;
  } else if (kimage::detect_payload(req.kernel.data(), req.kernel.size(), type) !=
             kimage::Status::kOk) {
    // Not a known mark: the bzImage checks give the precise sentence.
    type = kimage::PayloadType::kBzImage;
  }
  // ELF kernels: what they are handed (kexec-tools' --args-*). A vmlinux
  // gets the Linux boot protocol unless told otherwise.
  const bool elf = type == kimage::PayloadType::kElf64 || type == kimage::PayloadType::kElf32;
  if (elf_args && !elf)
    return usage_err(strf("%s: only ELF kernels (elf-x86_64, elf-x86) take it; %s is %s",
                          kimage::elf_args_name(*elf_args), req.kernel_name.c_str(),
                          kimage::payload_type_name(type)));
  const kimage::ElfArgs args = elf_args ? *elf_args
                               : elf && kimage::is_linux_elf(req.kernel.data(), req.kernel.size())
                                   ? kimage::ElfArgs::kLinux
                                   : kimage::ElfArgs::kElf;
  const bool vmlinux = elf && args == kimage::ElfArgs::kLinux;
  if (req.real_mode && type != kimage::PayloadType::kBzImage)
    return err(strf("--real-mode needs a bzImage, whose real-mode setup code it enters; %s is %s",
                    req.kernel_name.c_str(), kimage::payload_type_name(type)));
  if (type != kimage::PayloadType::kBzImage && !vmlinux)
    return run_payload(req, type, forced_type.has_value(), args, module_args, syscall_mode, dry_run,
                       root, env);
  if (!module_args.empty()) return usage_err("--module: only multiboot kernels take modules");
  if (vmlinux) {
    const char* name = kimage::payload_type_name(type);
    if (panic)
      return err(
          strf("-p: a %s kernel (--args-linux) runs where it was linked, outside the "
               "crash reservation; load its bzImage",
               name));
    if (syscall_mode == Syscall::kFileLoad)
      return err(strf("-s: kexec_file_load loads only bzImages; %s is %s (--args-linux)",
                      req.kernel_name.c_str(), name));
    if (entry32_asked && type == kimage::PayloadType::kElf64)
      return err(strf("--entry-32bit: %s is %s, whose e_entry is its 64-bit entry",
                      req.kernel_name.c_str(), name));
    req.vmlinux = true;
    req.mode = type == kimage::PayloadType::kElf64 ? EntryMode::k64 : EntryMode::k32;
  }

  // ---- which system call: -c, -s, or -a's rule
  std::string why;
  Syscall use = under_xen ? Syscall::kLoad : syscall_mode;
  if (under_xen) {
    why = "dom0 under Xen: the hypervisor loads the image";
  } else if (vmlinux) {
    use = Syscall::kLoad;
    why = strf("%s kernels load no other way", kimage::payload_type_name(type));
  } else if (use == Syscall::kAuto && !charon_only.empty()) {
    use = Syscall::kLoad;
    why = charon_only[0] + " needs charon's purgatory";
  }
  // The kernel's own loader checks the header too; charon's checks come
  // first, so a bad file gets charon's sentence whichever call loads it.
  if (auto k = parse_bzimage(req.kernel, req.mode); !vmlinux && !k)
    return err(req.kernel_name + ": " + k.error());
  if (use != Syscall::kLoad) {
    const char* what = use == Syscall::kFileLoad
                           ? "kexec_file_load (-s): the kernel reads, verifies and places the "
                             "image and runs its own purgatory"
                           : "kexec_file_load first (-a, the default): the kernel's own loader "
                             "and purgatory; kexec_load with charon's purgatory only if the "
                             "kernel cannot load the file (ENOSYS, ENOEXEC)";
    if (dry_run) {
      std::fprintf(env.out, "syscall: %s\n", what);
      if (use == Syscall::kFileLoad) return 0;
    } else {
      // The files as opened and checked above; the kernel reads them, so
      // charon neither reads nor hashes them on this path.
      int file_err = 0;
      auto st = kexec_file_load_fds(*env.sys, req.kernel.file()->fd(),
                                    req.initrd ? req.initrd->file()->fd() : -1, req.cmdline, panic,
                                    root, file_err);
      if (st) {
        std::fprintf(env.out,
                     "charon-kexec: loaded through kexec_file_load (the kernel's own "
                     "purgatory)\n");
        return 0;
      }
      if (use == Syscall::kFileLoad || !file_load_may_fall_back(file_err)) return err(st.error());
      why = st.error() + "; falling back";
      use = Syscall::kLoad;
    }
  }

  auto sys = read_system_info(root, panic);
  if (!sys) return err(sys.error());
  std::optional<XenFacts> xen_facts;
  if (xen) {
    // Xen's facts replace dom0's pseudo-physical ones: the machine map,
    // Xen's crashkernel= area and its notes.
    auto f = read_xen_facts(*xen);
    if (!f) return err(f.error());
    if (panic && !f->crash.size)
      return err(
          "-p: Xen reports no crash area (KEXEC_RANGE_MA_CRASH is empty): boot Xen, not dom0, "
          "with crashkernel=SIZE");
    apply_xen_facts(*f, root, *sys);
    if (!panic) req.usable = xen_default_usable(f->machine_map, f->xen);
    xen_facts = std::move(*f);
  }
  auto img = build_kexec_image(req, *sys);
  if (!img) return err(img.error());
  if (dry_run) {
    if (xen_facts) {
      const XenFacts& f = *xen_facts;
      const auto r = [](const XenRange& x) {
        return strf("[0x%llx-0x%llx)", static_cast<unsigned long long>(x.start),
                    static_cast<unsigned long long>(x.start + x.size));
      };
      std::fprintf(env.out, "backend: %s, %s image (%s)\n", backend->name(),
                   panic ? "KEXEC_TYPE_CRASH" : "KEXEC_TYPE_DEFAULT", xen_world.how.c_str());
      std::fprintf(env.out, "xen: machine memory map %zu entries, Xen %s, crash area %s\n",
                   f.machine_map.size(), r(f.xen).c_str(),
                   f.crash.size ? r(f.crash).c_str() : "none");
      std::fprintf(env.out, "xen: %zu CPU crash notes, vmcoreinfo %s\n", f.cpu_notes.size(),
                   f.vmcoreinfo.size ? r(f.vmcoreinfo).c_str() : "none");
      if (!panic)
        std::fprintf(env.out,
                     "xen: default image below Xen's DMA boundary 0x%llx (kimage_alloc_page "
                     "bug, see README)\n",
                     static_cast<unsigned long long>(xen_dma_limit(f.machine_map)));
    } else if (syscall_mode == Syscall::kAuto && !why.empty())
      std::fprintf(env.out, "syscall: kexec_load with charon's purgatory (%s)\n", why.c_str());
    else if (syscall_mode == Syscall::kAuto)
      std::fputs("layout if it falls back to kexec_load:\n", env.out);
    else
      std::fputs("syscall: kexec_load (-c) with charon's purgatory\n", env.out);
    print_layout(env.out, *img);
    return 0;
  }
  auto st = backend->load(*img, panic);
  if (!st) return err(st.error());
  if (under_xen)
    std::fprintf(env.out, "charon-kexec: loaded through %s\n", backend->name());
  else if (!why.empty())
    std::fprintf(env.out, "charon-kexec: loaded through kexec_load with charon's purgatory (%s)\n",
                 why.c_str());
  return 0;
}

}  // namespace charon::loader
