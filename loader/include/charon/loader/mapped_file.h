// The loader's input files, mapped instead of read: the kernel and the
// initrd are hashed where the page cache holds them and handed to
// kexec_load(2) as they are, so no buffer holds a second copy of the image.
//
// A file that shrinks while it is mapped would kill the process with
// SIGBUS at the first page past its new end. While any MappedFile lives, a
// SIGBUS handler stands guard: a fault inside one of these mappings maps
// zero pages over the rest of it and marks the file, so the access goes on
// (reading zeros) and check_unchanged() reports the file instead. Faults
// elsewhere go to the handler that was there before (or the default
// action). The kernel's own copy (kexec_load) fails with EFAULT instead.
#pragma once
#include <charon/result.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace charon::loader {

class MappedFile {
 public:
  // Opens `path` read-only and maps it private and read-only. Every error
  // is one sentence that starts with `what` and the path ("initrd
  // /boot/x: ..."): a missing or unreadable file, one that is not a regular
  // file, one larger than `max_bytes`, or one that cannot be mapped. An
  // empty file maps to no bytes.
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path, const char* what,
                                                        uint64_t max_bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {base_, size_}; }
  int fd() const { return fd_; }  // for kexec_file_load(2), which takes the file itself
  const std::string& path() const { return path_; }

  // One sentence if the file shrank since it was mapped (the guard saw a
  // page vanish, or its size is smaller now) or changed (size, mtime or
  // ctime differ): bytes read from it, and a digest over them, no longer
  // say what the file holds.
  Status check_unchanged() const;

 private:
  MappedFile() = default;
  std::string what_, path_;
  int fd_ = -1;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  size_t map_len_ = 0;  // size_ rounded up to pages
  struct stat st_ {};
  int slot_ = -1;  // in the SIGBUS guard's table
};

}  // namespace charon::loader
