#include "agent/store/event_store.h"

#include <algorithm>
#include <chrono>

#include "egw/log.h"
#include "egw/utf8.h"

namespace egw {

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& stateDir, std::string self, FlushPolicy policy,
                                                     Clock clock) {
  if (!clock) {
    clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  std::unique_ptr<EventStore> s(new EventStore(std::move(self), std::move(clock)));
  const std::string path = stateDir + "/events.journal";
  std::uint64_t unparsable = 0;
  auto j = Journal::open(
      path,
      [&](std::string_view rec) {
        Event e;
        if (!e.ParseFromArray(rec.data(), static_cast<int>(rec.size())) || e.origin().empty() || e.seq() == 0) {
          ++unparsable;  // checksum fine but not an event: written by something else; skip
          return;
        }
        s->index(std::move(e));
      },
      policy);
  if (!j.ok()) return Error{j.error()};
  s->journal_ = std::move(j).value();
  s->recovery_ = s->journal_->recovery();
  auto log = log::get("journal");
  if (!s->recovery_.dropReason.empty())
    log->warn("{}: dropped {} bytes of a torn or corrupt tail ({}); kept {} events", path, s->recovery_.droppedBytes,
              s->recovery_.dropReason, s->events_.size());
  if (unparsable > 0) log->warn("{}: skipped {} records that are not events", path, unparsable);
  return s;
}

std::unique_ptr<EventStore> EventStore::inMemory(std::string self, Clock clock) {
  return std::unique_ptr<EventStore>(new EventStore(std::move(self), std::move(clock)));
}

void EventStore::index(Event e) {
  if (e.seq() > kMaxSeq) return;  // never written by us or accepted by merge
  auto& seqs = byOrigin_[e.origin()];
  if (seqs.count(e.seq())) return;  // a duplicate in the journal (should not happen): keep the first
  if (e.origin() == self_ && e.seq() >= nextLocalSeq_) nextLocalSeq_ = e.seq() + 1;
  events_.push_back(std::move(e));
  const auto seq = events_.back().seq();
  seqs.emplace(seq, events_.size());
  // known_ moves only forward: past this seq and any held right after it (a gap just closed).
  const auto& origin = events_.back().origin();
  auto [k, added] = known_.try_emplace(origin, 0);
  auto& high = k->second;
  const auto before = high;
  if (seq == high + 1)
    for (auto it = seqs.find(seq); it != seqs.end() && it->first == high + 1; ++it) high = it->first;
  if (added || high != before) {
    auto [v, first] = knownVersionOf_.try_emplace(origin, 0);
    if (!first) knownChanges_.erase(v->second);
    v->second = ++knownVersion_;
    knownChanges_.emplace(knownVersion_, origin);
  }
}

Result<EventStore::Entry> EventStore::acceptLocked(Event e) {
  std::string bytes;
  e.SerializeToString(&bytes);
  if (journal_)
    if (auto st = journal_->append(bytes); !st.ok()) return Error{st.error()};
  index(e);
  return Entry{events_.size(), std::move(e)};
}

Result<EventStore::Entry> EventStore::append(const std::string& kind, const std::string& node, std::uint64_t term,
                                             const std::string& message, std::int64_t gapMs) {
  Result<Entry> r = Error{""};
  {
    std::lock_guard lk(mu_);
    // A journal that already holds our event 2^63 (only a damaged or hostile one can) leaves no
    // sequence that index() and every reader accept: refuse, instead of writing an event that the
    // next start would drop.
    if (nextLocalSeq_ > kMaxSeq)
      return Error{"cannot record " + kind + ": the journal already holds local event sequence 2^63; "
                   "move the event journal aside to start a new one"};
    Event e;
    e.set_origin(self_);
    e.set_seq(nextLocalSeq_);
    e.set_time_ms(clock_());
    // Our text can carry bytes from outside (a kernel or peer message): an event with invalid
    // UTF-8 would be lost by every parser, the journal's on the next start included.
    e.set_kind(toValidUtf8(kind));
    e.set_node(toValidUtf8(node));
    e.set_term(term);
    e.set_message(toValidUtf8(message));
    e.set_gap_ms(gapMs);
    r = acceptLocked(std::move(e));
  }
  if (r.ok()) notify(*r);
  return r;
}

Result<bool> EventStore::merge(const Event& e) {
  if (e.origin().empty()) return Error{"event without origin"};
  if (e.seq() == 0) return Error{"event from " + e.origin() + " with seq 0"};
  // A peer may hand us our own events (a journal tail lost in a power cut), which moves our
  // next sequence past them; a sequence near 2^64 would make it wrap.
  if (e.seq() > kMaxSeq) return Error{"event from " + e.origin() + " with seq " + std::to_string(e.seq()) + " (above 2^63)"};
  if (e.kind().empty()) return Error{"event " + e.origin() + "/" + std::to_string(e.seq()) + " without kind"};
  Result<Entry> r = Error{""};
  {
    std::lock_guard lk(mu_);
    auto it = byOrigin_.find(e.origin());
    if (it != byOrigin_.end() && it->second.count(e.seq())) return false;
    r = acceptLocked(e);
  }
  if (!r.ok()) return Error{r.error()};
  notify(*r);
  return true;
}

void EventStore::notify(const Entry& entry) {
  std::lock_guard lk(subMu_);
  for (auto& [id, fn] : subs_) fn(entry);
}

std::vector<EventStore::Entry> EventStore::since(std::uint64_t cursor, std::size_t limit) const {
  std::lock_guard lk(mu_);
  std::vector<Entry> out;
  for (std::uint64_t c = cursor + 1; c <= events_.size() && out.size() < limit; ++c) out.push_back({c, events_[c - 1]});
  return out;
}

std::uint64_t EventStore::lastCursor() const {
  std::lock_guard lk(mu_);
  return events_.size();
}

std::map<std::string, std::uint64_t> EventStore::known() const {
  std::lock_guard lk(mu_);
  return known_;
}

std::uint64_t EventStore::knownOf(const std::string& origin) const {
  std::lock_guard lk(mu_);
  auto it = known_.find(origin);
  return it == known_.end() ? 0 : it->second;
}

std::vector<EventStore::Event> EventStore::missingForImpl(const std::map<std::string, std::uint64_t>& peerKnown,
                                                          std::size_t limit) const {
  std::lock_guard lk(mu_);
  // Collect cursors of events above the peer's contiguous mark, then emit in cursor order so the
  // peer receives them in the order we accepted them.
  // Both maps are ordered by origin: one walk over the two, no lookup per origin.
  std::vector<std::uint64_t> cursors;
  auto k = peerKnown.begin();
  for (const auto& [origin, seqs] : byOrigin_) {
    while (k != peerKnown.end() && k->first < origin) ++k;
    const std::uint64_t have = k != peerKnown.end() && k->first == origin ? k->second : 0;
    if (!seqs.empty() && seqs.rbegin()->first <= have) continue;
    for (auto it = seqs.upper_bound(have); it != seqs.end(); ++it) cursors.push_back(it->second);
  }
  std::sort(cursors.begin(), cursors.end());
  if (cursors.size() > limit) cursors.resize(limit);
  std::vector<Event> out;
  out.reserve(cursors.size());
  for (auto c : cursors) out.push_back(events_[c - 1]);
  return out;
}

std::uint64_t EventStore::lastLocalSeq() const {
  std::lock_guard lk(mu_);
  return nextLocalSeq_ - 1;
}

int EventStore::subscribe(Subscriber s) {
  std::lock_guard lk(subMu_);
  int id = nextSubId_++;
  subs_.emplace(id, std::move(s));
  return id;
}

void EventStore::unsubscribe(int id) {
  std::lock_guard lk(subMu_);
  subs_.erase(id);
}

}  // namespace egw
