// Helper of test_crash_safety: writes election state and events as fast as it can with the real
// StateStore and EventStore (the agent's policies: state fsync'd + renamed, events through the
// page cache), and reports on stdout, with one write(2) per line, each thing only after it is
// durable. The test kills it with SIGKILL at random moments, restarts it and checks the files
// against what was acknowledged.
//
//   crash_writer STATE_DIR INCARNATION
// Lines: "READY term=T vote=V local=S peer=P" once recovered, then any of
//   "STATE T V"      term T with vote V ('-': none) was saved
//   "EVENT S"        local event seq S was appended
//   "MERGE S new|dup" peer event (origin "peer", seq S) was merged, new or already held
// Exit 2 on a recovery problem (message on stderr): the test fails on it.
//
// What it writes is a function of what it recovered and its incarnation number: per term first
// the term alone, then a vote for "cand-<incarnation mod 7>". A vote that was acknowledged but
// lost would therefore come back as a different vote in the same term, which the test catches.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crash_record.h"
#include "agent/store/event_store.h"
#include "agent/store/state_store.h"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) std::_Exit(3);  // the test is gone
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "crash_writer: %s\n", what.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) fail("usage: crash_writer STATE_DIR INCARNATION");
  const std::string dir = argv[1];
  const unsigned long incarnation = std::strtoul(argv[2], nullptr, 10);
  const std::string myVote = "cand-" + std::to_string(incarnation % 7);

  egw::StateStore state(dir);
  auto loaded = state.load();
  if (!loaded.ok()) fail(loaded.error());
  if (loaded->corrupt) fail("corrupt state: " + loaded->problem);
  egw::PersistentState s = loaded->state;

  auto opened = egw::EventStore::open(dir, "local", egw::FlushPolicy::None, [] { return std::int64_t{1}; });
  if (!opened.ok()) fail(opened.error());
  auto& events = *opened;
  const std::uint64_t peerKnown = events->known()["peer"];
  say("READY term=" + std::to_string(s.hard.term) + " vote=" + (s.hard.votedFor.empty() ? "-" : s.hard.votedFor) +
      " local=" + std::to_string(events->lastLocalSeq()) + " peer=" + std::to_string(peerKnown));

  // Replication replays what the peer may already have sent: start a few seqs back.
  std::uint64_t peerSeq = peerKnown > 3 ? peerKnown - 3 : 1;
  for (std::uint64_t i = 0;; ++i) {
    switch (i % 4) {
      case 0:
        if (s.hard.votedFor.empty()) {
          s.hard.votedFor = myVote;  // vote in the current term
        } else {
          s.hard.term += 1;  // a new term, not voted in yet
          s.hard.votedFor.clear();
        }
        if (auto st = state.save(s); !st.ok()) fail(st.error());
        say("STATE " + std::to_string(s.hard.term) + " " + (s.hard.votedFor.empty() ? "-" : s.hard.votedFor));
        break;
      case 1:
      case 2: {
        const std::uint64_t seq = events->lastLocalSeq() + 1;
        const std::string body = crashEventBody(seq);
        auto r = events->append("crash_test", "local", s.hard.term, body);
        if (!r.ok()) fail(r.error());
        if (r->event.seq() != seq) fail("append returned seq " + std::to_string(r->event.seq()));
        say("EVENT " + std::to_string(seq));
        break;
      }
      default: {
        egressgw::v1::Event e;
        e.set_origin("peer");
        e.set_seq(peerSeq);
        e.set_kind("crash_test");
        e.set_message("peer seq=" + std::to_string(peerSeq));
        auto r = events->merge(e);
        if (!r.ok()) fail(r.error());
        say("MERGE " + std::to_string(peerSeq) + (*r ? " new" : " dup"));
        ++peerSeq;
        break;
      }
    }
  }
}
