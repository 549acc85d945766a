#pragma once
// The cluster state as the Cluster API last published it, versioned per node, so that every Watch
// stream gets what changed since the version it holds (ClusterDelta, cluster.proto) at a cost in
// the number of changed nodes, whatever the size of the cluster and however far apart the streams
// are.
//
// publish() compares each node's serialized status, without wall_time_ms (it changes with every
// report; agent/node/agent.cpp compares the same way before it notifies), with the bytes kept from
// the last publish: O(all nodes), once per update for all streams. Each change gets the next
// version; deltaSince(v) walks the nodes by version from v on: O(changed since v).
//
// Not thread-safe: ClusterService locks around it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "egressgw/v1/cluster.pb.h"

namespace egw {

class StateVersions {
 public:
  // At most this many removed nodes are remembered; a stream older than the oldest one forgotten
  // gets the whole state instead of a delta. Members leave rarely (docs/membership.md).
  static constexpr std::size_t kMaxRemoved = 4096;

  explicit StateVersions(std::size_t maxRemoved = kMaxRemoved) : maxRemoved_(maxRemoved) {}

  // Takes a new state; true if it differs from the last one (ignoring wall_time_ms), which then
  // makes a new version. Either way the whole state and each node's entry are the new ones.
  bool publish(egressgw::v1::ClusterState state);

  // 0 before the first publish.
  std::uint64_t version() const { return version_; }
  // The last state published, whole (as a `snapshot` or a `state` update).
  std::shared_ptr<const egressgw::v1::ClusterState> whole() const { return whole_; }
  // What a client holding version `from` needs to reach version(). nullopt when `from` is older
  // than what is remembered (a removal forgotten, or `from` not yet published): send whole().
  std::optional<egressgw::v1::ClusterDelta> deltaSince(std::uint64_t from) const;

 private:
  struct Node {
    std::uint64_t version = 0;  // of its last change (or removal)
    std::string bytes;          // serialized without wall_time_ms
    int index = -1;             // in whole_->nodes(); -1: removed
    std::uint64_t pass = 0;     // the last publish() that saw it
  };
  void touch(const std::string& name, Node& n, std::uint64_t v);  // n changed in version v
  void forgetOldRemovals();

  const std::size_t maxRemoved_;
  std::uint64_t version_ = 0;
  std::uint64_t horizon_ = 0;  // deltas are known from this version on
  egressgw::v1::ClusterState header_;  // whole_ without its nodes
  std::string headerBytes_;
  std::shared_ptr<const egressgw::v1::ClusterState> whole_ = std::make_shared<egressgw::v1::ClusterState>();
  std::map<std::string, Node> nodes_;                          // removed ones too, until forgotten
  std::set<std::pair<std::uint64_t, std::string>> byVersion_;  // (version, name) of every entry
  std::size_t removed_ = 0;
  std::uint64_t pass_ = 0;
};

}  // namespace egw
