#pragma once
// Decodes a fuzzer's byte string into small integers and strings, front to back. Past the end
// every read returns zero/empty, so any input is a valid program (libFuzzer's FuzzedDataProvider
// does the same, but is clang-only and the replay build may use gcc).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace egw::fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}

  bool empty() const { return n_ == 0; }
  std::size_t left() const { return n_; }

  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  // 0 .. n-1 (n >= 1); one byte for n <= 256, else more.
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    std::uint64_t v = 0;
    for (std::uint64_t range = 1; range < n && range != 0; range <<= 8) v = (v << 8) | byte();
    return v % n;
  }
  bool flag() { return byte() & 1; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
  // A length byte, then that many bytes (fewer at the end of the input).
  std::string str(std::size_t max = 255) {
    std::size_t len = below(max + 1);
    if (len > n_) len = n_;
    std::string s(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    n_ -= len;
    return s;
  }
  std::string_view rest() const { return {reinterpret_cast<const char*>(p_), n_}; }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

}  // namespace egw::fuzz
