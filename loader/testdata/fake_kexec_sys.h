// A KexecSys that records what it was asked and fails as told.
#pragma once
#include <charon/loader/kexec_sys.h>

#include <string>
#include <vector>

namespace charon::loader::testing {

class FakeKexecSys final : public KexecSys {
 public:
  struct LoadCall {
    uint64_t entry;
    std::vector<kexec_segment_abi> segs;
    unsigned long flags;
  };
  struct FileLoadCall {
    bool kernel_open, initrd_open;
    std::string cmdline;
    size_t cmdline_len;
    unsigned long flags;
  };
  int load_errno = 0;
  int file_load_errno = 0;
  std::vector<FileLoadCall> file_loads;
  int reboot_errno = EINVAL;
  std::vector<LoadCall> loads;
  std::vector<std::string> calls;  // "load", "sync", "reboot" in order

  int kexec_load(uint64_t entry, std::span<const kexec_segment_abi> segs,
                 unsigned long flags) override {
    calls.push_back("load");
    loads.push_back({entry, {segs.begin(), segs.end()}, flags});
    return load_errno;
  }
  int kexec_file_load(int kernel_fd, int initrd_fd, const char* cmdline, size_t cmdline_len,
                      unsigned long flags) override {
    calls.push_back("file_load");
    file_loads.push_back(
        {kernel_fd >= 0, initrd_fd >= 0, cmdline ? cmdline : "", cmdline_len, flags});
    return file_load_errno;
  }
  int reboot_kexec() override {
    calls.push_back("reboot");
    return reboot_errno;
  }
  void sync() override { calls.push_back("sync"); }
};

}  // namespace charon::loader::testing
