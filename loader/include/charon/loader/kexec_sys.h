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
  virtual int reboot_kexec() = 0;  // returns only on failure
  virtual void sync() = 0;
};

std::unique_ptr<KexecSys> make_linux_kexec_sys();

// One sentence for a failed kexec_load/reboot, telling why and what to do.
// `lockdown` is the text of /sys/kernel/security/lockdown (may be empty).
std::string explain_kexec_error(int err, const std::string& lockdown, bool on_crash);

// Loads `img` (KEXEC_ON_CRASH when on_crash) with the entry at purgatory_start.
Status kexec_load_image(KexecSys& sys, const KexecImage& img, bool on_crash,
                        const std::string& root);
Status kexec_unload(KexecSys& sys, bool on_crash, const std::string& root);
// sync(), then reboot(LINUX_REBOOT_CMD_KEXEC). Returns only on failure.
Status kexec_execute(KexecSys& sys, const std::string& root);

}  // namespace charon::loader
