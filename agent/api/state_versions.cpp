#include "agent/api/state_versions.h"

namespace egw {

namespace v1 = egressgw::v1;

void StateVersions::touch(const std::string& name, Node& n, std::uint64_t v) {
  byVersion_.erase({n.version, name});
  n.version = v;
  byVersion_.insert({v, name});
}

bool StateVersions::publish(v1::ClusterState state) {
  const std::uint64_t next = version_ + 1;
  bool changed = false;

  google::protobuf::RepeatedPtrField<v1::NodeStatus> nodes;
  nodes.Swap(state.mutable_nodes());
  std::string header = state.SerializeAsString();
  if (header != headerBytes_) {
    changed = true;
    headerBytes_ = std::move(header);
    header_ = state;
  }
  nodes.Swap(state.mutable_nodes());

  ++pass_;
  for (int i = 0; i < state.nodes_size(); ++i) {
    v1::NodeStatus& n = *state.mutable_nodes(i);
    const std::int64_t wall = n.wall_time_ms();
    n.clear_wall_time_ms();
    std::string bytes = n.SerializeAsString();
    n.set_wall_time_ms(wall);
    auto [it, added] = nodes_.try_emplace(n.name());
    Node& e = it->second;
    if (!added && e.index < 0) --removed_;  // back after a removal
    if (added || e.index < 0 || e.bytes != bytes) {
      e.bytes = std::move(bytes);
      touch(n.name(), e, next);
      changed = true;
    }
    e.index = i;
    e.pass = pass_;
  }
  for (auto& [name, e] : nodes_) {
    if (e.index < 0 || e.pass == pass_) continue;
    e.index = -1;
    e.bytes.clear();
    touch(name, e, next);
    ++removed_;
    changed = true;
  }
  whole_ = std::make_shared<const v1::ClusterState>(std::move(state));
  if (changed) version_ = next;
  forgetOldRemovals();
  return changed;
}

void StateVersions::forgetOldRemovals() {
  for (auto it = byVersion_.begin(); removed_ > maxRemoved_ && it != byVersion_.end();) {
    auto n = nodes_.find(it->second);
    if (n->second.index >= 0) {
      ++it;
      continue;
    }
    horizon_ = it->first;  // a client at an older version may miss this removal
    nodes_.erase(n);
    it = byVersion_.erase(it);
    --removed_;
  }
}

std::optional<v1::ClusterDelta> StateVersions::deltaSince(std::uint64_t from) const {
  if (from < horizon_ || from > version_) return std::nullopt;
  v1::ClusterDelta d;
  *d.mutable_header() = header_;
  for (auto it = byVersion_.lower_bound({from + 1, std::string()}); it != byVersion_.end(); ++it) {
    const Node& n = nodes_.at(it->second);
    if (n.index >= 0)
      *d.add_changed() = whole_->nodes(n.index);
    else
      d.add_removed(it->second);
  }
  return d;
}

}  // namespace egw
