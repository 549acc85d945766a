// Crash safety of the durable state (issue 8): crash_writer writes election state (StateStore:
// fsync + rename) and events (EventStore over the Journal, local appends and replicated merges)
// in a tight loop; this test kills it with SIGKILL at random moments, then reads the files with
// the real readers and checks them against what the writer had acknowledged:
//   - the state file is never corrupt, its term never goes back, an acknowledged vote is never
//     lost or changed, and no term ever gets two different votes (over all incarnations);
//   - every journal record that is read parses, no (origin, seq) is on disk twice (merges are
//     idempotent), local seqs are exactly 1..N with N >= the last acknowledged one (at most one
//     more: an append that completed but was not acknowledged), peer seqs are contiguous and
//     every acknowledged merge is there, each event's content is the one written;
//   - a restarted writer recovers the same picture and the journal continues after it.
// A torn journal tail may be dropped (that is the crash), never a record before it.
//
//   EGW_CRASH_ITERATIONS=N  kills (default 200)
//   EGW_CRASH_SEED=S        seed of the kill moments (default 1; a failure prints it)
//   EGW_CRASH_MAX_DELAY_US  latest kill after the writer is ready (default 15000)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crash_record.h"
#include "egressgw/v1/peer.pb.h"
#include "egw/journal.h"
#include "agent/store/state_store.h"
#include "support/paths.h"

namespace {

std::uint64_t envU64(const char* name, std::uint64_t dflt) {
  const QByteArray v = qgetenv(name);
  return v.isEmpty() ? dflt : v.toULongLong();
}

struct Run {
  std::vector<std::string> lines;  // complete lines the writer printed before it died
  int status = 0;
};

// Starts the writer, kills it (after READY plus a random delay, or, when early, at a random
// moment during start-up and recovery), and returns what it acknowledged.
Run runOnce(const std::string& dir, std::uint64_t incarnation, bool early, std::uint64_t delayUs) {
  static const std::string writer = egwtest::binaryPath(u"tests/integration/crash/crash_writer").toStdString();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) qFatal("pipe: %s", std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) qFatal("fork: %s", std::strerror(errno));
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    const std::string inc = std::to_string(incarnation);
    ::execl(writer.c_str(), writer.c_str(), dir.c_str(), inc.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  std::string buf;
  auto readSome = [&](int timeoutMs) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) <= 0) return true;
    char tmp[65536];
    const ssize_t n = ::read(fds[0], tmp, sizeof tmp);
    if (n <= 0) return false;  // EOF: it exited
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
  };
  using Clock = std::chrono::steady_clock;
  if (early) {
    ::usleep(static_cast<useconds_t>(delayUs));
  } else {
    while (buf.find('\n') == std::string::npos)
      if (!readSome(-1)) break;
    const auto deadline = Clock::now() + std::chrono::microseconds(delayUs);
    // Keep draining the pipe so the writer never blocks on it while we wait.
    for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      if (!readSome(static_cast<int>(left))) break;
      if (left == 0) break;
    }
  }
  ::kill(pid, SIGKILL);
  Run r;
  ::waitpid(pid, &r.status, 0);
  while (readSome(-1)) {
  }
  ::close(fds[0]);
  std::size_t start = 0;
  for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n', start)) {
    r.lines.push_back(buf.substr(start, nl - start));
    start = nl + 1;
  }
  return r;
}


}  // namespace

class TestCrashSafety : public QObject {
  Q_OBJECT

 private slots:
  void killNineDuringWrites() {
    const std::uint64_t iterations = envU64("EGW_CRASH_ITERATIONS", 200);
    const std::uint64_t seed = envU64("EGW_CRASH_SEED", 1);
    const std::uint64_t maxDelayUs = envU64("EGW_CRASH_MAX_DELAY_US", 15000);
    std::mt19937_64 rng(seed);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string dir = tmp.path().toStdString() + "/state";
    const std::string where = " (EGW_CRASH_SEED=" + std::to_string(seed) + ")";

    // What the writers acknowledged, over all incarnations.
    std::uint64_t ackTerm = 0;
    std::string ackVote = "-";
    std::map<std::uint64_t, std::string> voteOfTerm;
    std::uint64_t ackLocal = 0;
    std::set<std::uint64_t> ackPeer;
    std::optional<std::string> expectReady;  // what the next READY must say
    std::uint64_t tornTails = 0, earlyKills = 0, acked = 0, unackedAppends = 0;

    // Returns what is wrong, or an empty string.
    auto noteVote = [&](std::uint64_t term, const std::string& vote, const std::string& ctx) -> std::string {
      if (vote == "-") return {};
      auto [it, fresh] = voteOfTerm.emplace(term, vote);
      if (fresh || it->second == vote) return {};
      return ctx + ": term " + std::to_string(term) + " voted " + it->second + ", now " + vote + where;
    };

    for (std::uint64_t it = 1; it <= iterations; ++it) {
      const std::string ctx = "iteration " + std::to_string(it);
      const bool early = rng() % 8 == 0;
      const std::uint64_t delay = rng() % (maxDelayUs + 1);
      earlyKills += early;
      const Run run = runOnce(dir, it, early, delay);
      QVERIFY2(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL,
               qPrintable(QString::fromStdString(ctx + ": the writer exited by itself (status " +
                                                 std::to_string(run.status) + "; see its stderr above)" + where)));
      for (std::size_t i = 0; i < run.lines.size(); ++i) {
        std::istringstream l(run.lines[i]);
        std::string kind;
        l >> kind;
        if (i == 0) {
          QVERIFY2(kind == "READY", qPrintable(QString::fromStdString(ctx + ": first line " + run.lines[i])));
          if (expectReady)
            QVERIFY2(run.lines[i] == *expectReady,
                     qPrintable(QString::fromStdString(ctx + ": writer recovered '" + run.lines[i] + "', the files say '" +
                                                       *expectReady + "'" + where)));
          continue;
        }
        ++acked;
        if (kind == "STATE") {
          std::uint64_t term = 0;
          std::string vote;
          l >> term >> vote;
          QVERIFY2(term >= ackTerm, qPrintable(QString::fromStdString(ctx + ": writer went back a term" + where)));
          ackTerm = term;
          ackVote = vote;
          const std::string bad = noteVote(term, vote, ctx);
          QVERIFY2(bad.empty(), bad.c_str());
        } else if (kind == "EVENT") {
          std::uint64_t seq = 0;
          l >> seq;
          QVERIFY2(seq == ackLocal + 1, qPrintable(QString::fromStdString(ctx + ": local seq " + std::to_string(seq) +
                                                                          " after " + std::to_string(ackLocal) + where)));
          ackLocal = seq;
        } else if (kind == "MERGE") {
          std::uint64_t seq = 0;
          std::string how;
          l >> seq >> how;
          // "dup" exactly for a seq that is held (on disk or merged earlier in this run).
          QVERIFY2((how == "dup") == (ackPeer.count(seq) > 0),
                   qPrintable(QString::fromStdString(ctx + ": " + run.lines[i] + where)));
          ackPeer.insert(seq);
        } else {
          QFAIL(qPrintable(QString::fromStdString(ctx + ": unexpected line " + run.lines[i])));
        }
      }
      if (run.lines.empty()) expectReady.reset();  // killed before READY: no statement to compare

      // --- state: the real loader --------------------------------------------------------
      auto loaded = egw::StateStore(dir).load();
      QVERIFY2(loaded.ok(), qPrintable(QString::fromStdString(ctx + ": " + (loaded.ok() ? "" : loaded.error()))));
      QVERIFY2(!loaded->corrupt, qPrintable(QString::fromStdString(ctx + ": corrupt state file: " + loaded->problem + where)));
      const auto& hs = loaded->state.hard;
      const std::string vote = hs.votedFor.empty() ? "-" : hs.votedFor;
      QVERIFY2(hs.term >= ackTerm, qPrintable(QString::fromStdString(ctx + ": acknowledged term " + std::to_string(ackTerm) +
                                                                       " lost, file has " + std::to_string(hs.term) + where)));
      QVERIFY2(hs.term <= ackTerm + 1, qPrintable(QString::fromStdString(ctx + ": term " + std::to_string(hs.term) +
                                                                           " was never written" + where)));
      if (hs.term == ackTerm && ackVote != "-")
        QVERIFY2(vote == ackVote, qPrintable(QString::fromStdString(ctx + ": acknowledged vote " + ackVote + " in term " +
                                                                      std::to_string(ackTerm) + " reads back as " + vote + where)));
      const std::string bad = noteVote(hs.term, vote, ctx + " (on disk)");
      QVERIFY2(bad.empty(), bad.c_str());
      ackTerm = hs.term;  // what the next incarnation starts from
      ackVote = vote;

      // --- events: every record of the journal, as the reader returns it -------------------
      std::vector<egressgw::v1::Event> recs;
      bool unparsable = false;
      auto j = egw::Journal::open(
          dir + "/events.journal",
          [&](std::string_view p) {
            egressgw::v1::Event e;
            if (!e.ParseFromArray(p.data(), static_cast<int>(p.size()))) unparsable = true;
            recs.push_back(std::move(e));
          },
          egw::FlushPolicy::None);
      QVERIFY2(j.ok(), qPrintable(QString::fromStdString(ctx + ": " + (j.ok() ? "" : j.error()))));
      tornTails += (*j)->recovery().droppedBytes > 0;
      j = egw::Result<std::unique_ptr<egw::Journal>>::failure("closed");
      QVERIFY2(!unparsable, qPrintable(QString::fromStdString(ctx + ": a record that is not an event" + where)));
      std::set<std::pair<std::string, std::uint64_t>> ids;
      std::uint64_t local = 0, peer = 0;
      for (const auto& e : recs) {
        QVERIFY2(ids.emplace(e.origin(), e.seq()).second,
                 qPrintable(QString::fromStdString(ctx + ": event (" + e.origin() + ", " + std::to_string(e.seq()) +
                                                   ") is in the journal twice" + where)));
        if (e.origin() == "local") {
          QVERIFY2(e.seq() == local + 1, qPrintable(QString::fromStdString(ctx + ": local seq " + std::to_string(e.seq()) +
                                                                           " after " + std::to_string(local) + where)));
          QVERIFY2(e.message() == crashEventBody(e.seq()), qPrintable(QString::fromStdString(ctx + ": event content differs" + where)));
          local = e.seq();
        } else {
          QVERIFY2(e.origin() == "peer" && e.message() == "peer seq=" + std::to_string(e.seq()),
                   qPrintable(QString::fromStdString(ctx + ": foreign or altered event" + where)));
          QVERIFY2(e.seq() == peer + 1, qPrintable(QString::fromStdString(ctx + ": peer seq " + std::to_string(e.seq()) +
                                                                          " after " + std::to_string(peer) + where)));
          peer = e.seq();
        }
      }
      QVERIFY2(local >= ackLocal, qPrintable(QString::fromStdString(ctx + ": acknowledged event " + std::to_string(ackLocal) +
                                                                      " lost (journal ends at " + std::to_string(local) + ")" + where)));
      QVERIFY2(local <= ackLocal + 1, qPrintable(QString::fromStdString(ctx + ": events past the last append" + where)));
      unackedAppends += local - ackLocal;
      const std::uint64_t lastMerged = ackPeer.empty() ? 0 : *ackPeer.rbegin();
      QVERIFY2(peer >= lastMerged, qPrintable(QString::fromStdString(ctx + ": acknowledged merge " +
                                                                     std::to_string(lastMerged) + " lost" + where)));
      ackLocal = local;
      ackPeer.clear();
      for (std::uint64_t s = 1; s <= peer; ++s) ackPeer.insert(s);
      expectReady = "READY term=" + std::to_string(hs.term) + " vote=" + vote + " local=" + std::to_string(local) +
                    " peer=" + std::to_string(peer);
    }
    std::fprintf(stderr,
                 "%llu kills (%llu during start-up), %llu acknowledged writes, %llu torn journal tails dropped, %llu "
                 "appends completed but not acknowledged; final term %llu, %llu local and %zu peer events\n",
                 static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(earlyKills),
                 static_cast<unsigned long long>(acked), static_cast<unsigned long long>(tornTails),
                 static_cast<unsigned long long>(unackedAppends), static_cast<unsigned long long>(ackTerm),
                 static_cast<unsigned long long>(ackLocal), ackPeer.size());
    // The run must have exercised the writers at all (not a timing bound: any write counts).
    QVERIFY(acked > 0);
  }
};

QTEST_GUILESS_MAIN(TestCrashSafety)
#include "test_crash_safety.moc"
