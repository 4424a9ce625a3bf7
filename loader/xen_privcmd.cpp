// The hypercall edge: IOCTL_PRIVCMD_HYPERCALL on /dev/xen/privcmd, with
// buffers as libxencall makes them (tools/libs/call/linux.c): an mmap of
// /dev/xen/hypercall (drivers/xen/privcmd-buf.c), whose pages the kernel
// keeps resident. That device gives each open file at most 64 pages
// (its `limit` parameter), so a larger buffer, or one past the limit,
// comes from anonymous memory locked in place (MAP_LOCKED, not inherited
// by a fork): libxencall's own fallback. No libxenctrl: charon-kexec is
// one static binary for initramfs use, and these two ioctls are all of
// libxencall it needs.
#include <charon/align.h>
#include <charon/loader/xen.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace charon::loader {

namespace {

// include/uapi/xen/privcmd.h. Its userspace copy includes kernel-internal
// headers that distributions do not ship, so the two definitions are here.
struct privcmd_hypercall {
  uint64_t op;
  uint64_t arg[5];
};
constexpr unsigned long IOCTL_PRIVCMD_HYPERCALL =
    _IOC(_IOC_NONE, 'P', 0, sizeof(privcmd_hypercall));
static_assert(IOCTL_PRIVCMD_HYPERCALL == 0x305000);

class PrivcmdHypercall final : public XenHypercall {
 public:
  PrivcmdHypercall(int privcmd, int hcall) : privcmd_(privcmd), hcall_(hcall) {}
  ~PrivcmdHypercall() override {
    for (const auto& [p, n] : maps_) munmap(p, n);
    if (hcall_ >= 0) close(hcall_);
    close(privcmd_);
  }

  uint8_t* buffer(size_t bytes) override {
    const size_t n = align_up(std::max<size_t>(bytes, 1), kPageSize);
    void* p = MAP_FAILED;
    if (hcall_ >= 0) p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, hcall_, 0);
    if (p == MAP_FAILED) {
      p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
      if (p == MAP_FAILED) return nullptr;
      madvise(p, n, MADV_DONTFORK);
      std::memset(p, 0, n);  // every page present before Xen touches it
    }
    maps_.push_back({p, n});
    return static_cast<uint8_t*>(p);
  }

  long call(unsigned op, uint64_t a0, uint64_t a1) override {
    privcmd_hypercall h{};
    h.op = op;
    h.arg[0] = a0;
    h.arg[1] = a1;
    const long r = ioctl(privcmd_, IOCTL_PRIVCMD_HYPERCALL, &h);
    return r < 0 ? -errno : r;
  }

 private:
  int privcmd_, hcall_;
  std::vector<std::pair<void*, size_t>> maps_;
};

}  // namespace

Result<std::unique_ptr<XenHypercall>> open_xen_privcmd(const std::string& root) {
  const std::string dev = root + "/dev/xen/privcmd";
  const int fd = open(dev.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return fail("%s: cannot open: %s (load the xen-privcmd module, run as root)", dev.c_str(),
                std::strerror(errno));
  const int hfd = open((root + "/dev/xen/hypercall").c_str(), O_RDWR | O_CLOEXEC);
  return std::unique_ptr<XenHypercall>(new PrivcmdHypercall(fd, hfd));
}

}  // namespace charon::loader
