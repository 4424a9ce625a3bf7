// kexec_load(2) and reboot(2) for real, and the messages for their errors
// (kernel/kexec.c, kernel/kexec_core.c, security/lockdown/lockdown.c).
#include <charon/align.h>
#include <charon/loader/kexec_sys.h>
#include <charon/loader/sysinfo.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace charon::loader {

namespace {

class LinuxKexecSys final : public KexecSys {
 public:
  int kexec_load(uint64_t entry, std::span<const kexec_segment_abi> segs,
                 unsigned long flags) override {
    const long r = syscall(SYS_kexec_load, static_cast<unsigned long>(entry),
                           static_cast<unsigned long>(segs.size()), segs.data(), flags);
    return r == 0 ? 0 : errno;
  }
  int kexec_file_load(int kernel_fd, int initrd_fd, const char* cmdline, size_t cmdline_len,
                      unsigned long flags) override {
    const long r = syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, cmdline_len, cmdline, flags);
    return r == 0 ? 0 : errno;
  }
  int reboot_kexec() override {
    const long r = syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                           LINUX_REBOOT_CMD_KEXEC, nullptr);
    return r == 0 ? 0 : errno;
  }
  void sync() override { ::sync(); }
};

bool locked_down(const std::string& lockdown) {
  // The active level is the bracketed one: "none [integrity] confidentiality".
  return lockdown.find("[integrity]") != std::string::npos ||
         lockdown.find("[confidentiality]") != std::string::npos;
}

}  // namespace

std::unique_ptr<KexecSys> make_linux_kexec_sys() {
  return std::make_unique<LinuxKexecSys>();
}

std::string explain_kexec_error(int err, const std::string& lockdown, bool on_crash) {
  switch (err) {
    case EPERM:
      if (locked_down(lockdown)) {
        const size_t a = lockdown.find('['), b = lockdown.find(']', a);
        return "the running kernel is in lockdown mode (" + lockdown.substr(a + 1, b - a - 1) +
               "): lockdown forbids kexec_load, which cannot check a signature; use -s "
               "(kexec_file_load), which lets the kernel verify a signed image";
      }
      return "permission denied (EPERM): kexec needs root with CAP_SYS_BOOT, and "
             "/proc/sys/kernel/kexec_load_disabled must be 0";
    case ENOSYS:
      return "the running kernel has no kexec support (ENOSYS: built without CONFIG_KEXEC)";
    case EBUSY:
      return "kexec is busy (EBUSY): another load is in progress, or the loaded crash image is in "
             "use; try again, or unload with -u first";
    case EINVAL:
      return on_crash ? "the kernel rejected the crash image (EINVAL): segments must lie inside "
                        "the crashkernel= reservation"
                      : "the kernel rejected the segment list (EINVAL): segments misaligned, "
                        "overlapping, or outside RAM";
    case EADDRNOTAVAIL:
      return "the kernel rejected a segment address (EADDRNOTAVAIL): it lies outside the "
             "memory the kernel allows for this image";
    case ENOMEM:
      return "not enough memory for the image (ENOMEM): the kernel could not allocate pages "
             "for the segments";
    case EACCES:
      return "access denied (EACCES): a security module forbids kexec";
    case EFAULT:
      return "the kernel could not read a segment's buffer (EFAULT)";
    default:
      return std::string("kexec failed: ") + std::strerror(err);
  }
}

Status kexec_load_image(KexecSys& sys, const KexecImage& img, bool on_crash,
                        const std::string& root) {
  if (img.segments.size() > KEXEC_SEGMENT_MAX)
    return fail("%zu segments; kexec_load takes at most %zu", img.segments.size(),
                KEXEC_SEGMENT_MAX);
  // The kernel copies the segments from these buffers, the files' pages
  // among them; a file that changed after its digest was taken would only
  // halt the purgatory later ("digest mismatch"), so it is refused here.
  if (Status st = check_sources_unchanged(img); !st) return st;
  std::vector<kexec_segment_abi> segs;
  for (const Segment& s : img.segments) {
    if (!is_aligned(s.mem, kPageSize) || !is_aligned(s.memsz, kPageSize) || s.data.size() > s.memsz)
      return fail("internal error: segment %s at 0x%llx is not page-aligned", s.what.c_str(),
                  static_cast<unsigned long long>(s.mem));
    segs.push_back({s.data.empty() ? nullptr : s.data.data(), s.data.size(),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(s.mem)), s.memsz});
  }
  const unsigned long flags = KEXEC_ARCH_X86_64 | (on_crash ? KEXEC_ON_CRASH : 0);
  if (int err = sys.kexec_load(img.entry, segs, flags)) {
    // EFAULT: the kernel could not read a buffer, which for a mapped file
    // means it shrank during the copy.
    if (Status st = check_sources_unchanged(img); !st) return Error{"kexec_load: " + st.error()};
    const std::string lockdown =
        read_text_file(root + "/sys/kernel/security/lockdown").value_or("");
    // kernel/kexec.c: kexec_load_disabled answers EPERM even to root.
    const std::string disabled =
        read_text_file(root + "/proc/sys/kernel/kexec_load_disabled").value_or("0");
    if (err == EPERM && !disabled.empty() && disabled[0] == '1' &&
        lockdown.find('[') == std::string::npos)
      return fail(
          "kexec_load: kexec is disabled until reboot (/proc/sys/kernel/kexec_load_disabled "
          "is 1)");
    return Error{"kexec_load: " + explain_kexec_error(err, lockdown, on_crash)};
  }
  // Changed during the copy: what was loaded is not what was hashed.
  // Unloaded, so that -e cannot run into the purgatory's digest halt.
  if (Status st = check_sources_unchanged(img); !st) {
    sys.kexec_load(0, {}, flags);
    return Error{st.error() + "; unloaded"};
  }
  return Status::Ok();
}

std::string explain_kexec_file_error(int err, const std::string& lockdown, bool on_crash) {
  switch (err) {
    case EKEYREJECTED:
      return "the kernel rejected the image's signature (EKEYREJECTED): it is signed by a key "
             "the running kernel does not trust";
    case EBADMSG:
      return "the image carries no valid signature (EBADMSG), and the running kernel requires "
             "one (CONFIG_KEXEC_SIG_FORCE, or lockdown): load a signed kernel";
    case ENOEXEC:
      return "the kernel's kexec_file_load has no loader for this image (ENOEXEC)";
    case EPERM:
      if (locked_down(lockdown))
        return "the running kernel is in lockdown mode and could not verify the image's "
               "signature (EPERM): load a kernel signed by a key it trusts";
      return explain_kexec_error(err, lockdown, on_crash);
    case ENOSYS:
      return "the running kernel has no kexec_file_load (ENOSYS: built without "
             "CONFIG_KEXEC_FILE)";
    case EINVAL:
      return "the kernel rejected the load (EINVAL): a command line too long or without its "
             "NUL, or flags it does not know";
    default:
      return explain_kexec_error(err, lockdown, on_crash);
  }
}

bool file_load_may_fall_back(int err) {
  return err == ENOSYS || err == ENOEXEC;
}

Status kexec_file_load_files(KexecSys& sys, const std::string& kernel, const std::string& initrd,
                             const std::string& cmdline, bool on_crash, const std::string& root,
                             int& err) {
  err = 0;
  const int kfd = open(kernel.c_str(), O_RDONLY | O_CLOEXEC);
  if (kfd < 0) return fail("%s: cannot open: %s", kernel.c_str(), std::strerror(errno));
  int ifd = -1;
  if (!initrd.empty()) {
    ifd = open(initrd.c_str(), O_RDONLY | O_CLOEXEC);
    if (ifd < 0) {
      close(kfd);
      return fail("%s: cannot open: %s", initrd.c_str(), std::strerror(errno));
    }
  }
  Status st = kexec_file_load_fds(sys, kfd, ifd, cmdline, on_crash, root, err);
  close(kfd);
  if (ifd >= 0) close(ifd);
  return st;
}

Status kexec_file_load_fds(KexecSys& sys, int kernel_fd, int initrd_fd, const std::string& cmdline,
                           bool on_crash, const std::string& root, int& err) {
  const unsigned long flags =
      (on_crash ? KEXEC_FILE_ON_CRASH : 0) | (initrd_fd < 0 ? KEXEC_FILE_NO_INITRAMFS : 0);
  // The length counts the NUL; an empty line is passed as none at all.
  err = sys.kexec_file_load(kernel_fd, initrd_fd, cmdline.empty() ? nullptr : cmdline.c_str(),
                            cmdline.empty() ? 0 : cmdline.size() + 1, flags);
  if (!err) return Status::Ok();
  const std::string lockdown = read_text_file(root + "/sys/kernel/security/lockdown").value_or("");
  return Error{"kexec_file_load: " + explain_kexec_file_error(err, lockdown, on_crash)};
}

Status kexec_file_unload(KexecSys& sys, bool on_crash, const std::string& root) {
  const unsigned long flags = KEXEC_FILE_UNLOAD | (on_crash ? KEXEC_FILE_ON_CRASH : 0);
  if (int err = sys.kexec_file_load(-1, -1, nullptr, 0, flags)) {
    const std::string lockdown =
        read_text_file(root + "/sys/kernel/security/lockdown").value_or("");
    return Error{"unload (kexec_file_load): " + explain_kexec_file_error(err, lockdown, on_crash)};
  }
  return Status::Ok();
}

Result<bool> kexec_status(bool on_crash, const std::string& root) {
  const std::string path =
      root + (on_crash ? "/sys/kernel/kexec_crash_loaded" : "/sys/kernel/kexec_loaded");
  const auto text = read_text_file(path);
  if (!text || text->empty() || ((*text)[0] != '0' && (*text)[0] != '1'))
    return fail("%s: cannot read (a kernel without kexec, or sysfs not mounted)", path.c_str());
  return (*text)[0] == '1';
}

Status kexec_unload(KexecSys& sys, bool on_crash, const std::string& root) {
  // kernel/kexec.c: nr_segments == 0 unloads the image of that kind.
  const unsigned long flags = KEXEC_ARCH_X86_64 | (on_crash ? KEXEC_ON_CRASH : 0);
  if (int err = sys.kexec_load(0, {}, flags)) {
    const std::string lockdown =
        read_text_file(root + "/sys/kernel/security/lockdown").value_or("");
    return Error{"unload: " + explain_kexec_error(err, lockdown, on_crash)};
  }
  return Status::Ok();
}

Status kexec_execute(KexecSys& sys, const std::string& root) {
  // kernel_kexec() answers EINVAL when nothing is loaded; say so plainly.
  if (auto loaded = read_text_file(root + "/sys/kernel/kexec_loaded");
      loaded && !loaded->empty() && (*loaded)[0] == '0')
    return fail("-e: no kexec image is loaded; load one with -l first");
  sys.sync();
  const int err = sys.reboot_kexec();
  if (err == EINVAL) return fail("-e: no kexec image is loaded; load one with -l first");
  const std::string lockdown = read_text_file(root + "/sys/kernel/security/lockdown").value_or("");
  return Error{"-e: reboot(LINUX_REBOOT_CMD_KEXEC): " + explain_kexec_error(err, lockdown, false)};
}

}  // namespace charon::loader
