// The one interface a built image goes through to be loaded: "load these
// segments", with unload, status and exec beside it. Two worlds implement
// it: the Linux syscalls (kexec_load(2), /sys/kernel/kexec_*loaded,
// reboot(2)) and Xen's kexec hypercall from dom0. The image-building core
// is the same for both; only the facts it is given differ.
#pragma once
#include <charon/loader/image.h>
#include <charon/loader/kexec_sys.h>
#include <charon/loader/xen.h>
#include <charon/result.h>

#include <memory>
#include <string>

namespace charon::loader {

class SegmentLoader {
 public:
  virtual ~SegmentLoader() = default;
  virtual const char* name() const = 0;  // for --dry-run and messages
  virtual Status load(const KexecImage& img, bool on_crash) = 0;
  virtual Status unload(bool on_crash) = 0;
  virtual Result<bool> loaded(bool on_crash) = 0;
  virtual Status exec() = 0;  // returns only on failure
};

// kexec_load(2) with charon's purgatory; `root` for the sysfs files its
// messages and status read.
std::unique_ptr<SegmentLoader> make_syscall_loader(KexecSys& sys, const std::string& root);

// KEXEC_CMD_kexec_load and the rest. Xen calls purgatory_start in long
// mode (EM_X86_64), or with --entry-32bit enters charon_entry32 in 32-bit
// mode with paging off (EM_386).
std::unique_ptr<SegmentLoader> make_xen_loader(XenHypercall& xen);

}  // namespace charon::loader
