// Bytes with whatever keeps them alive: a mapped input file (the kernel,
// the initrd), a buffer the loader built (boot_params, the purgatory), or
// static storage (the built-in purgatory). Copies share the owner, so a
// segment's view stays valid for as long as any copy of the image lives,
// and a file's bytes are never copied to be passed on.
#pragma once
#include <charon/loader/mapped_file.h>

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace charon::loader {

class Bytes {
 public:
  Bytes() = default;
  // Takes the buffer over (implicit: a built buffer is the common case).
  Bytes(std::vector<uint8_t> owned)
      : buf_(std::make_shared<const std::vector<uint8_t>>(std::move(owned))), view_(*buf_) {}
  // The whole of a mapped file.
  explicit Bytes(std::shared_ptr<const MappedFile> file)
      : file_(std::move(file)), view_(file_->bytes()) {}
  // Storage that outlives every image (the purgatory linked into the binary).
  static Bytes of_static(std::span<const uint8_t> s) {
    Bytes b;
    b.view_ = s;
    return b;
  }

  const uint8_t* data() const { return view_.data(); }
  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  const uint8_t* begin() const { return view_.data(); }
  const uint8_t* end() const { return view_.data() + view_.size(); }
  operator std::span<const uint8_t>() const { return view_; }

  // `len` bytes from `offset`, with the same owner; the caller keeps them
  // inside size().
  Bytes slice(size_t offset, size_t len) const {
    Bytes b = *this;
    b.view_ = view_.subspan(offset, len);
    return b;
  }
  // The mapped file these bytes are part of, or null.
  const MappedFile* file() const { return file_.get(); }

 private:
  std::shared_ptr<const std::vector<uint8_t>> buf_;
  std::shared_ptr<const MappedFile> file_;
  std::span<const uint8_t> view_;
};

}  // namespace charon::loader
