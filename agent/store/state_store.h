#pragma once
// Durable election state: term and vote (and the node's candidacy), one small file in
// state_dir, replaced atomically (write temp, fsync, rename, fsync dir) and checksummed.
#include <cstdint>
#include <string>

#include "agent/core/persistent_state.h"
#include "agent/core/ports.h"
#include "egw/result.h"

namespace egw {

class StateStore final : public ports::DurableState {
 public:
  explicit StateStore(std::string dir);
  const std::string& path() const { return path_; }
  // Creates the directory if needed. A missing file is not an error (existed = false); a
  // corrupt one is reported in LoadedState, not as an error; I/O errors are errors.
  Result<LoadedState> load() override;
  Status save(const PersistentState& s) override;

  static std::string encode(const PersistentState& s);
  static Result<PersistentState> decode(const std::string& text);

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace egw
