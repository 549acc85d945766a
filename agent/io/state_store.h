#pragma once
// Durable election state: term and vote (and the node's candidacy), one small file in
// state_dir, replaced atomically (write temp, fsync, rename, fsync dir) and checksummed.
#include <cstdint>
#include <string>

#include "core/election.h"
#include "egw/result.h"

namespace egw {

enum class CandidacyState { None, Pending, Enabled, Disabled };
const char* candidacyName(CandidacyState c);

struct PersistentState {
  election::HardState hard;
  CandidacyState candidacy = CandidacyState::None;
};

struct LoadedState {
  PersistentState state;
  bool existed = false;   // a state file was found (the node ran before)
  bool corrupt = false;   // it could not be read: the vote of some term is unknown
  std::string problem;    // why it is corrupt, with the path
};

class StateStore {
 public:
  explicit StateStore(std::string dir);
  const std::string& path() const { return path_; }
  // Creates the directory if needed. A missing file is not an error (existed = false); a
  // corrupt one is reported in LoadedState, not as an error; I/O errors are errors.
  Result<LoadedState> load();
  Status save(const PersistentState& s);

  static std::string encode(const PersistentState& s);
  static Result<PersistentState> decode(const std::string& text);

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace egw
