// Reading a core file (/proc/vmcore, /proc/kcore) for the test tools: every
// read is checked against the file's size, when known, and every failure
// names what was being read, once.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace charon::loader {

struct BoundedFile {
  int fd = -1;
  uint64_t size = 0;  // 0: unknown, do not check against it
  FILE* err = nullptr;
  const char* tool = "";

  bool read(uint64_t off, void* buf, uint64_t len, const char* what) const {
    if (size && (off > size || len > size - off)) {
      std::fprintf(err, "%s: %s at 0x%" PRIx64 "+0x%" PRIx64 " lies past the end (0x%" PRIx64 ")\n",
                   tool, what, off, len, size);
      return false;
    }
    auto* p = static_cast<uint8_t*>(buf);
    while (len) {
      const ssize_t n = pread(fd, p, len, static_cast<off_t>(off));
      if (n <= 0) {
        std::fprintf(err, "%s: reading %s: %s\n", tool, what,
                     n < 0 ? std::strerror(errno) : "unexpected end of file");
        return false;
      }
      p += n;
      off += static_cast<uint64_t>(n);
      len -= static_cast<uint64_t>(n);
    }
    return true;
  }
};

}  // namespace charon::loader
