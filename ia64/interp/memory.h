// Flat simulated physical memory for the interpreter: one window of bytes
// at a base address. Anything outside the window is an error, never a
// silent zero.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace charon::ia64 {

class Memory {
 public:
  Memory(uint64_t base, uint64_t size) : base_(base), bytes_(size, 0) {}

  uint64_t base() const { return base_; }
  uint64_t size() const { return bytes_.size(); }
  bool contains(uint64_t addr, uint64_t n) const {
    return addr >= base_ && n <= bytes_.size() && addr - base_ <= bytes_.size() - n;
  }
  uint8_t* at(uint64_t addr) { return bytes_.data() + (addr - base_); }
  const uint8_t* at(uint64_t addr) const { return bytes_.data() + (addr - base_); }

  uint64_t read64(uint64_t addr) const {
    uint64_t v;
    std::memcpy(&v, at(addr), 8);  // the host is little-endian, as psr.be=0 is
    return v;
  }
  void write64(uint64_t addr, uint64_t v) { std::memcpy(at(addr), &v, 8); }
  void write(uint64_t addr, const void* src, uint64_t n) { std::memcpy(at(addr), src, n); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

}  // namespace charon::ia64
