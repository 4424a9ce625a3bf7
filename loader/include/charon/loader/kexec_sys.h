// The system calls the loader makes, behind a small interface so tests
// inject every failure the kernel can return.
#pragma once
#include <charon/loader/image.h>
#include <charon/result.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace charon::loader {

// include/uapi/linux/kexec.h
inline constexpr unsigned long KEXEC_ON_CRASH = 0x00000001;
inline constexpr unsigned long KEXEC_ARCH_X86_64 = 62ul << 16;  // EM_X86_64 << 16
inline constexpr size_t KEXEC_SEGMENT_MAX = 16;
// kexec_file_load(2) flags (include/uapi/linux/kexec.h).
inline constexpr unsigned long KEXEC_FILE_UNLOAD = 0x00000001;
inline constexpr unsigned long KEXEC_FILE_ON_CRASH = 0x00000002;
inline constexpr unsigned long KEXEC_FILE_NO_INITRAMFS = 0x00000004;

struct kexec_segment_abi {  // struct kexec_segment
  const void* buf;
  size_t bufsz;
  const void* mem;
  size_t memsz;
};
static_assert(sizeof(kexec_segment_abi) == 32);

class KexecSys {
 public:
  virtual ~KexecSys() = default;
  // Each returns 0 or the errno of the failure.
  virtual int kexec_load(uint64_t entry, std::span<const kexec_segment_abi> segs,
                         unsigned long flags) = 0;
  // kexec_file_load(2): the kernel reads, verifies, places and loads the
  // image itself, with its own purgatory. initrd_fd -1 with
  // KEXEC_FILE_NO_INITRAMFS; `cmdline` counts its NUL in `cmdline_len`.
  virtual int kexec_file_load(int kernel_fd, int initrd_fd, const char* cmdline, size_t cmdline_len,
                              unsigned long flags) = 0;
  virtual int reboot_kexec() = 0;  // returns only on failure
  virtual void sync() = 0;
};

std::unique_ptr<KexecSys> make_linux_kexec_sys();

// One sentence for a failed kexec_load/reboot, telling why and what to do.
// `lockdown` is the text of /sys/kernel/security/lockdown (may be empty).
std::string explain_kexec_error(int err, const std::string& lockdown, bool on_crash);

// Which system call loads: kexec-tools' -c, -s and -a (the default).
enum class Syscall { kLoad, kFileLoad, kAuto };

// The same sentence for a failed kexec_file_load: a rejected or missing
// signature, an image the kernel's loader does not know, lockdown.
std::string explain_kexec_file_error(int err, const std::string& lockdown, bool on_crash);

// -a's rule: after a failed kexec_file_load, kexec_load can still work
// only if the kernel lacks or refuses the file syscall itself (ENOSYS: no
// CONFIG_KEXEC_FILE; ENOEXEC: no loader for this image format). A
// rejected signature or lockdown would refuse kexec_load as well, and
// falling back would step around the signature policy.
bool file_load_may_fall_back(int err);

// kexec_file_load(2) of the files as they are; `initrd` and `cmdline` may
// be empty. Returns the errno in `err` as well, for -a's rule.
Status kexec_file_load_files(KexecSys& sys, const std::string& kernel, const std::string& initrd,
                             const std::string& cmdline, bool on_crash, const std::string& root,
                             int& err);
// The same for files the caller holds open (charon-kexec's mapped inputs,
// so the kernel reads the files whose headers charon checked); initrd_fd
// -1 for none. Nothing is read or hashed here: the kernel does both.
Status kexec_file_load_fds(KexecSys& sys, int kernel_fd, int initrd_fd, const std::string& cmdline,
                           bool on_crash, const std::string& root, int& err);
Status kexec_file_unload(KexecSys& sys, bool on_crash, const std::string& root);

// -S: whether an image (or with on_crash, a crash image) is loaded, from
// /sys/kernel/kexec_loaded or kexec_crash_loaded.
Result<bool> kexec_status(bool on_crash, const std::string& root);

// Loads `img` (KEXEC_ON_CRASH when on_crash) with the entry at
// purgatory_start. Mapped files behind its segments are checked before and
// after the call: one that shrank or changed is refused, and after a
// successful call unloaded again (check_sources_unchanged).
Status kexec_load_image(KexecSys& sys, const KexecImage& img, bool on_crash,
                        const std::string& root);
Status kexec_unload(KexecSys& sys, bool on_crash, const std::string& root);
// sync(), then reboot(LINUX_REBOOT_CMD_KEXEC). Returns only on failure.
Status kexec_execute(KexecSys& sys, const std::string& root);

}  // namespace charon::loader
