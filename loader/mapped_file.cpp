// Input files mapped read-only and private, with a SIGBUS guard for files
// that shrink underneath (mapped_file.h says what it does and why).
#include <charon/loader/mapped_file.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace charon::loader {

namespace {

// The guard's table: the live mappings, as [start, end) of whole pages.
// The handler reads it without a lock, so every field is atomic; a slot is
// taken and freed under g_lock, with end stored last and cleared first.
struct Slot {
  std::atomic<uintptr_t> start{0}, end{0};
  std::atomic<bool> shrank{false};
};
constexpr int kSlots = 32;
Slot g_slots[kSlots];
std::mutex g_lock;
bool g_installed = false;
struct sigaction g_previous;

void on_sigbus(int sig, siginfo_t* si, void* uc) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(si->si_addr);
  for (Slot& s : g_slots) {
    const uintptr_t end = s.end.load();
    const uintptr_t start = s.start.load();
    if (at < start || at >= end) continue;
    // The file ends before this page now. Zero pages over the rest of the
    // mapping let the access go on; check_unchanged() reports the file.
    // (mmap is a plain system call, safe in a handler.)
    const uintptr_t page = at & ~uintptr_t{4095};
    if (mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
      s.shrank.store(true);
      return;
    }
    break;
  }
  // Not one of ours: what was there before.
  if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(sig, si, uc);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  } else {
    // The faulting access runs again and takes the default action.
    signal(SIGBUS, SIG_DFL);
  }
}

// A slot for [start, end), with the handler installed on first use; -1
// when the table is full.
int take_slot(uintptr_t start, uintptr_t end) {
  std::lock_guard<std::mutex> hold(g_lock);
  if (!g_installed) {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &g_previous) != 0) return -1;
    g_installed = true;
  }
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i].end.load() != 0) continue;
    g_slots[i].shrank.store(false);
    g_slots[i].start.store(start);
    g_slots[i].end.store(end);
    return i;
  }
  return -1;
}

void free_slot(int i) {
  std::lock_guard<std::mutex> hold(g_lock);
  g_slots[i].end.store(0);
  g_slots[i].start.store(0);
}

unsigned long long ull(uint64_t v) {
  return v;
}

}  // namespace

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const std::string& path,
                                                           const char* what, uint64_t max_bytes) {
  const char* p = path.c_str();
  std::shared_ptr<MappedFile> f(new MappedFile);
  f->what_ = what;
  f->path_ = path;
  f->fd_ = ::open(p, O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) return fail("%s %s: cannot open: %s", what, p, std::strerror(errno));
  if (fstat(f->fd_, &f->st_) != 0)
    return fail("%s %s: cannot stat: %s", what, p, std::strerror(errno));
  // A pipe or a device has no size to map; kexec-tools would read it, but
  // a loader that maps its inputs takes files.
  if (S_ISDIR(f->st_.st_mode)) return fail("%s %s: is a directory", what, p);
  if (!S_ISREG(f->st_.st_mode))
    return fail("%s %s: not a regular file (charon-kexec maps its input files)", what, p);
  const uint64_t size = static_cast<uint64_t>(f->st_.st_size);
  if (size > max_bytes)
    return fail("%s %s: %llu bytes is larger than the %llu MiB this loader takes", what, p,
                ull(size), ull(max_bytes >> 20));
  if (size == 0) return std::shared_ptr<const MappedFile>(std::move(f));
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f->fd_, 0);
  if (m == MAP_FAILED) return fail("%s %s: cannot map: %s", what, p, std::strerror(errno));
  f->base_ = static_cast<const uint8_t*>(m);
  f->size_ = size;
  f->map_len_ = (size + 4095) & ~uint64_t{4095};
  const uintptr_t start = reinterpret_cast<uintptr_t>(m);
  f->slot_ = take_slot(start, start + f->map_len_);
  if (f->slot_ < 0)
    return fail("%s %s: cannot guard the mapping (more than %d files mapped at once)", what, p,
                kSlots);
  // One pass from start to end follows (the digest): read ahead
  // generously when the file is not in the page cache yet. (Faulting it
  // in ahead with MADV_POPULATE_READ measured no faster than the kernel's
  // fault-around.)
  madvise(m, f->map_len_, MADV_SEQUENTIAL);
  return std::shared_ptr<const MappedFile>(std::move(f));
}

MappedFile::~MappedFile() {
  if (slot_ >= 0) free_slot(slot_);
  if (base_) munmap(const_cast<uint8_t*>(base_), map_len_);
  if (fd_ >= 0) close(fd_);
}

Status MappedFile::check_unchanged() const {
  struct stat now {};
  if (fstat(fd_, &now) != 0)
    return fail("%s %s: cannot stat: %s", what_.c_str(), path_.c_str(), std::strerror(errno));
  const bool faulted = slot_ >= 0 && g_slots[slot_].shrank.load();
  if (faulted || now.st_size < st_.st_size)
    return fail("%s %s: the file shrank from %llu to %llu bytes while it was being loaded",
                what_.c_str(), path_.c_str(), ull(static_cast<uint64_t>(st_.st_size)),
                ull(static_cast<uint64_t>(now.st_size)));
  if (now.st_size != st_.st_size || now.st_mtim.tv_sec != st_.st_mtim.tv_sec ||
      now.st_mtim.tv_nsec != st_.st_mtim.tv_nsec || now.st_ctim.tv_sec != st_.st_ctim.tv_sec ||
      now.st_ctim.tv_nsec != st_.st_ctim.tv_nsec)
    return fail("%s %s: the file changed while it was being loaded", what_.c_str(), path_.c_str());
  return Status::Ok();
}

}  // namespace charon::loader
