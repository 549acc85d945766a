#include "egw/vocabulary.h"

#include <cassert>
#include <utility>

namespace egw {

namespace {

// The one table of names per enum, in the enum's order (checked below).
constexpr std::pair<Role, std::string_view> kRoleNames[] = {
    {Role::Observer, "observer"},
    {Role::Follower, "follower"},
    {Role::PreCandidate, "pre-candidate"},
    {Role::Candidate, "candidate"},
    {Role::Master, "master"},
};
constexpr std::pair<EventKind, std::string_view> kEventKindNames[] = {
    {EventKind::NodeStarted, "node_started"},
    {EventKind::NodeStopped, "node_stopped"},
    {EventKind::ElectionStarted, "election_started"},
    {EventKind::MasterElected, "master_elected"},
    {EventKind::MasterLost, "master_lost"},
    {EventKind::Handover, "handover"},
    {EventKind::CandidacyChanged, "candidacy_changed"},
    {EventKind::HealthChanged, "health_changed"},
    {EventKind::NodeJoined, "node_joined"},
    {EventKind::NodeLeft, "node_left"},
    {EventKind::DatapathSwitched, "datapath_switched"},
    {EventKind::DatapathFailed, "datapath_failed"},
    {EventKind::DatapathRepaired, "datapath_repaired"},
    {EventKind::AllowlistChanged, "allowlist_changed"},
};

// Every value has exactly one row, at its own index, so a name is one array access.
template <typename E, std::size_t N>
constexpr bool complete(const std::pair<E, std::string_view> (&table)[N], std::size_t count) {
  if (N != count) return false;
  for (std::size_t i = 0; i < N; ++i)
    if (static_cast<std::size_t>(table[i].first) != i || table[i].second.empty()) return false;
  return true;
}
static_assert(complete(kRoleNames, kRoleCount), "kRoleNames: one row per Role, in order");
static_assert(complete(kEventKindNames, kEventKindCount), "kEventKindNames: one row per EventKind, in order");

template <typename E, std::size_t N>
std::string_view nameOf(const std::pair<E, std::string_view> (&table)[N], E e) {
  const auto i = static_cast<std::size_t>(e);
  assert(i < N && "not a value of the enum");
  return i < N ? table[i].second : std::string_view("?");
}

template <typename E, std::size_t N>
std::optional<E> parse(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [value, text] : table)
    if (text == name) return value;
  return std::nullopt;
}

}  // namespace

std::string_view roleName(Role r) { return nameOf(kRoleNames, r); }
std::optional<Role> parseRole(std::string_view name) { return parse(kRoleNames, name); }

std::string_view eventKindName(EventKind k) { return nameOf(kEventKindNames, k); }
std::optional<EventKind> parseEventKind(std::string_view name) { return parse(kEventKindNames, name); }

std::string partialViewNotice(std::string_view servedBy, const std::vector<std::string>& voters) {
  std::string out = "served by ";
  out += roleName(Role::Observer);
  out += ' ';
  out += servedBy;
  out += ": it knows only itself and the master; connect to a voter";
  for (std::size_t i = 0; i < voters.size(); ++i) {
    out += i == 0 ? " (" : ", ";
    out += voters[i];
  }
  if (!voters.empty()) out += ')';
  out += " for the whole cluster";
  return out;
}

}  // namespace egw
