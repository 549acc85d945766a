#pragma once
// One name for one thing, everywhere a user can see it: a node's role and the kinds of events the
// agents record. The agent, the console and egressctl print these names and no others.
//
// On the wire a role is egressgw.v1.Role (egw/wire_vocabulary.h converts, in proto/) and an event
// kind is its name here in Event.kind, a string: journals written by any version keep reading,
// and a kind this build does not know parses to nullopt and is shown as its raw text.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace egw {

// Observer: neither voter nor candidate; it follows the master and never stands.
enum class Role { Observer, Follower, PreCandidate, Candidate, Master };  // Master stays last
inline constexpr std::size_t kRoleCount = static_cast<std::size_t>(Role::Master) + 1;

// "observer", "follower", "pre-candidate", "candidate", "master".
std::string_view roleName(Role r);
std::optional<Role> parseRole(std::string_view name);  // exactly roleName's spelling; else nullopt

// What docs/architecture.md "Events" lists; gap_ms is set for MasterElected and DatapathSwitched.
enum class EventKind {
  NodeStarted,
  NodeStopped,
  ElectionStarted,
  MasterElected,
  MasterLost,
  Handover,
  CandidacyChanged,
  HealthChanged,
  NodeJoined,
  NodeLeft,
  DatapathSwitched,
  DatapathFailed,
  DatapathRepaired,
  AllowlistChanged,  // stays last
};
inline constexpr std::size_t kEventKindCount = static_cast<std::size_t>(EventKind::AllowlistChanged) + 1;

// snake_case: "node_started", "master_elected", "datapath_switched", ...
std::string_view eventKindName(EventKind k);
std::optional<EventKind> parseEventKind(std::string_view name);  // nullopt: unknown here, show the text

// What the console's status line and `egressctl status` say when the serving agent is an observer
// (ClusterState.partial): "served by observer worker-3: it knows only itself and the master;
// connect to a voter (egress-1, egress-2, egress-3) for the whole cluster". Without voters the
// parenthesis is left out.
std::string partialViewNotice(std::string_view servedBy, const std::vector<std::string>& voters);

// Every value, in declaration order (for tests, filters, column widths).
inline constexpr auto kRoles = [] {
  std::array<Role, kRoleCount> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<Role>(i);
  return a;
}();
inline constexpr auto kEventKinds = [] {
  std::array<EventKind, kEventKindCount> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<EventKind>(i);
  return a;
}();

}  // namespace egw
