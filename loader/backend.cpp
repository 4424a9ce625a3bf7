// The two SegmentLoader worlds over their edges (kexec_sys.cpp,
// xen_kexec.cpp).
#include <charon/loader/backend.h>
#include <unistd.h>

namespace charon::loader {

namespace {

class SyscallLoader final : public SegmentLoader {
 public:
  SyscallLoader(KexecSys& sys, std::string root) : sys_(sys), root_(std::move(root)) {}
  const char* name() const override { return "kexec_load(2)"; }
  Status load(const KexecImage& img, bool on_crash) override {
    return kexec_load_image(sys_, img, on_crash, root_);
  }
  Status unload(bool on_crash) override { return kexec_unload(sys_, on_crash, root_); }
  Result<bool> loaded(bool on_crash) override { return kexec_status(on_crash, root_); }
  Status exec() override { return kexec_execute(sys_, root_); }

 private:
  KexecSys& sys_;
  std::string root_;
};

class XenLoader final : public SegmentLoader {
 public:
  explicit XenLoader(XenHypercall& xen) : xen_(xen) {}
  const char* name() const override { return "Xen's kexec hypercall (__HYPERVISOR_kexec_op)"; }
  Status load(const KexecImage& img, bool on_crash) override {
    // --entry-32bit: Xen enters the purgatory as EM_386, in 32-bit mode
    // with paging off (kexec_reloc's compatibility_mode), at
    // charon_entry32; otherwise it calls purgatory_start in long mode.
    const bool at32 = img.params.handoff == CHARON_HANDOFF_LINUX32;
    return xen_kexec_load(xen_, img, on_crash, at32 ? kEm386 : kEmX86_64);
  }
  Status unload(bool on_crash) override { return xen_kexec_unload(xen_, on_crash); }
  Result<bool> loaded(bool on_crash) override { return xen_kexec_status(xen_, on_crash); }
  Status exec() override {
    ::sync();  // as before reboot(2): Xen replaces the machine at once
    return xen_kexec_exec(xen_);
  }

 private:
  XenHypercall& xen_;
};

}  // namespace

std::unique_ptr<SegmentLoader> make_syscall_loader(KexecSys& sys, const std::string& root) {
  return std::make_unique<SyscallLoader>(sys, root);
}

std::unique_ptr<SegmentLoader> make_xen_loader(XenHypercall& xen) {
  return std::make_unique<XenLoader>(xen);
}

}  // namespace charon::loader
