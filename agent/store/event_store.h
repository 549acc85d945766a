#pragma once
// The agent's event history: local events and events replicated from peers, persisted in a
// Journal (state_dir/events.journal), one serialized egressgw.v1.Event per record.
//
// Identity vs position: an event is identified cluster-wide by (origin, seq); seq is per origin
// and starts at 1. Each event this store accepts also gets a local cursor (1, 2, 3, ...) in the
// order it was accepted. Cursors are what Watch/ListEvents resume from; they are stable across
// restarts (rebuilt from the journal in order) but mean nothing on another agent.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "egressgw/v1/peer.pb.h"
#include "egw/journal.h"
#include "egw/result.h"

namespace egw {

class EventStore {
 public:
  // Sequences above this are refused: no node appends 2^63 events, and nothing may wrap.
  static constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 63;

  using Event = egressgw::v1::Event;
  struct Entry {
    std::uint64_t cursor = 0;
    Event event;
  };
  // Called after an event was accepted and made durable, with no store lock held, serialized
  // (never two calls at once). A subscriber may read the store (since(), known(), ...) but must
  // not append, merge, subscribe or unsubscribe from inside the callback (that deadlocks).
  // With several threads appending, calls may arrive out of cursor order: a reader that needs
  // order (Watch) treats a call as "something new" and pulls with since().
  using Subscriber = std::function<void(const Entry&)>;
  using Clock = std::function<std::int64_t()>;  // wall clock, ms since the epoch

  // Opens (or creates) stateDir/events.journal. `self` is this node's name (origin of local
  // events). A torn or corrupt journal tail is dropped and reported in recovery().
  static Result<std::unique_ptr<EventStore>> open(const std::string& stateDir, std::string self,
                                                  FlushPolicy policy = FlushPolicy::Sync, Clock clock = {});

  // A store that keeps events in memory only (the in-process SimCluster, tests): the same
  // rules, no journal.
  static std::unique_ptr<EventStore> inMemory(std::string self, Clock clock);

  // Records a local event: origin = self, seq = next, time = clock. gapMs -1 = not applicable.
  // Fails when the journal cannot be written; the event is then not recorded at all.
  Result<Entry> append(const std::string& kind, const std::string& node, std::uint64_t term,
                       const std::string& message, std::int64_t gapMs = -1);

  // Merges a replicated event. Returns true when new, false when (origin, seq) was already held
  // (idempotent). Fails for an invalid event (empty origin or kind, seq 0) or a journal error.
  // Events of our own origin that we do not hold (a wiped state_dir) are accepted, and later
  // local events continue after the highest seq seen.
  Result<bool> merge(const Event& e);

  // Events with cursor > cursor, in cursor order, at most limit.
  std::vector<Entry> since(std::uint64_t cursor, std::size_t limit) const;
  std::uint64_t lastCursor() const;  // 0 when empty

  // Per origin, the highest seq h such that seqs 1..h are all held (ElectionMessage.known_events).
  std::map<std::string, std::uint64_t> known() const;
  // The same, one call f(origin, mark) per origin in origin order, without a copy of the map (f
  // must not call back into the store). Returns the version of known() f saw (forEachKnownSince).
  template <typename F>
  std::uint64_t forEachKnown(F&& f) const {
    std::lock_guard lk(mu_);
    for (const auto& [origin, high] : known_) f(origin, high);
    return knownVersion_;
  }
  // Every change of known() (an origin's mark moved, or a new origin) makes a new version. Calls
  // f(origin, mark) for the origins changed after `version`, in the order they last changed, and
  // returns the version now: what a peer that got known() at `version` needs to be up to date.
  template <typename F>
  std::uint64_t forEachKnownSince(std::uint64_t version, F&& f) const {
    std::lock_guard lk(mu_);
    for (auto it = knownChanges_.upper_bound(version); it != knownChanges_.end(); ++it)
      f(it->second, known_.at(it->second));
    return knownVersion_;
  }
  // The same for one origin (0: none held): what a feed tells an observer with every answer.
  std::uint64_t knownOf(const std::string& origin) const;
  // Events a peer that holds `peerKnown` (its known()) lacks, in cursor order, at most limit.
  std::vector<Event> missingFor(const std::map<std::string, std::uint64_t>& peerKnown, std::size_t limit) const {
    return missingForImpl(peerKnown, limit);
  }
  template <typename MapLike>
  std::vector<Event> missingFor(const MapLike& peerKnown, std::size_t limit) const {
    std::map<std::string, std::uint64_t> m(peerKnown.begin(), peerKnown.end());
    return missingForImpl(m, limit);
  }
  std::uint64_t lastLocalSeq() const;  // the seq of our latest local event (NodeStatus.event_seq)

  int subscribe(Subscriber s);  // returns an id for unsubscribe
  // After unsubscribe returns, the subscriber is not running and will not be called again.
  void unsubscribe(int id);

  const JournalRecovery& recovery() const { return recovery_; }
  const std::string& self() const { return self_; }

 private:
  EventStore(std::string self, Clock clock) : self_(std::move(self)), clock_(std::move(clock)) {}
  std::vector<Event> missingForImpl(const std::map<std::string, std::uint64_t>& peerKnown, std::size_t limit) const;
  Result<Entry> acceptLocked(Event e);  // persists, indexes; mu_ held
  void index(Event e);                  // mu_ held
  void notify(const Entry& entry);

  const std::string self_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::unique_ptr<Journal> journal_;
  JournalRecovery recovery_;
  std::vector<Event> events_;  // events_[cursor - 1]
  // origin -> seq -> cursor
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> byOrigin_;
  // origin -> the highest seq h with 1..h all held (known()), kept up to date by index().
  std::map<std::string, std::uint64_t> known_;
  std::uint64_t knownVersion_ = 0;                      // of known_: +1 per change
  std::map<std::string, std::uint64_t> knownVersionOf_; // origin -> the version of its last change
  std::map<std::uint64_t, std::string> knownChanges_;   // that version -> origin (one per origin)
  std::uint64_t nextLocalSeq_ = 1;

  std::mutex subMu_;  // held while subscribers run; serializes them
  std::map<int, Subscriber> subs_;
  int nextSubId_ = 1;
};

}  // namespace egw
