// Which world charon-kexec runs in, as far as Xen is concerned. Only
// files under the root are read, so tests give fake trees.
#include <charon/loader/sysinfo.h>
#include <charon/loader/xen.h>

namespace charon::loader {

namespace {

std::string first_line(const std::optional<std::string>& text) {
  if (!text) return {};
  std::string s = text->substr(0, text->find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

XenWorld detect_xen(const std::string& root) {
  // xenfs (drivers/xen/xenfs/super.c): dom0 reads "control_d" here.
  const auto caps = read_text_file(root + "/proc/xen/capabilities");
  if (caps && caps->find("control_d") != std::string::npos)
    return {XenRole::kDom0, "/proc/xen/capabilities: control_d"};
  // drivers/xen/sys-hypervisor.c. dom0's domain handle is all zeros,
  // every other domain's is its UUID: dom0 is known without xenfs.
  if (first_line(read_text_file(root + "/sys/hypervisor/type")) != "xen") return {};
  const std::string uuid = first_line(read_text_file(root + "/sys/hypervisor/uuid"));
  if (uuid == "00000000-0000-0000-0000-000000000000")
    return {XenRole::kDom0, "/sys/hypervisor: type xen, uuid of dom0"};
  // An HVM guest runs on virtual hardware of its own: the Linux syscalls
  // kexec it as they would a bare machine. A PV or PVH domU has no kexec
  // (Xen's kexec_op is dom0's, and a PV kernel's own machine_kexec
  // cannot run under Xen's page-table rules).
  const std::string type = first_line(read_text_file(root + "/sys/hypervisor/guest_type"));
  if (type == "HVM") return {XenRole::kNone, "/sys/hypervisor/guest_type: HVM"};
  return {XenRole::kUnsupported,
          type.empty() ? "a Xen guest of unknown type (/sys/hypervisor/guest_type unreadable)"
                       : "a Xen " + type + " guest (/sys/hypervisor/guest_type)"};
}

std::string xen_domu_refusal(const XenWorld& w) {
  return "this is " + w.how +
         ", not dom0: Xen gives kexec only to dom0 and HVM guests; load the kernel from dom0 "
         "(charon-kexec there uses Xen's kexec hypercall)";
}

}  // namespace charon::loader
