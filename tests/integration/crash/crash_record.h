#pragma once
// The body of local event `seq` as crash_writer writes it and test_crash_safety expects it:
// mostly small, every 8th up to 64 KiB (a write over many pages, so that a kill can tear it),
// so the journal stays a few MB although both sides read all of it after every kill.
#include <cstdint>
#include <string>

inline std::string crashEventBody(std::uint64_t seq) {
  return "seq=" + std::to_string(seq) + " " + std::string(seq % 8 == 0 ? (seq * 7919) % 65536 : seq % 200, 'x');
}
