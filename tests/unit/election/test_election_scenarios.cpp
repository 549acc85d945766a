// Election scenarios as text scripts with golden traces (the style of etcd-io/raft testdata).
// Each file in scenarios/ is a list of blocks:
//
//   # comments
//   <command>
//   ----
//   <expected output>
//   <blank line>
//
// Run with EGW_UPDATE_GOLDEN=1 to rewrite the expected output from what the code does now (then
// read the diff!). Commands:
//   timing hb=MS et=MS lease=MS        node NAME voter|member [candidate] [priority=N] [preempt]
//   start [seed=N]                     run MS         deliver        tick NODE MS (clock jumps)
//   isolate NODE   cut A B   recover   crash NODE     restart NODE   pause NODE MS
//   set-eligible NODE true|false       set-priority NODE N           transfer FROM [TO]
//   step-down NODE                     status         delay MIN MAX  drop RATE
//   send FROM TO TYPE term=N [granted] [round=N] [transfer]   (raw message injection)
//   messages on|off                    (trace every message sent)
#include <QFile>
#include <QTest>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "unit/election/cluster.h"
#include "support/golden.h"
#include "support/paths.h"

using namespace egw::election;
using namespace egw::election::testing;

namespace {

std::optional<MsgType> parseType(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(MsgType::TimeoutNow); ++i)
    if (s == msgTypeName(static_cast<MsgType>(i))) return static_cast<MsgType>(i);
  return std::nullopt;
}

class Interpreter {
 public:
  Interpreter() {
    c_.trace = [this](const std::string& s) { out_.push_back(s); };
  }

  std::vector<std::string> exec(const std::string& line) {
    out_.clear();
    auto w = egwtest::golden::words(line);
    const std::string& cmd = w[0];
    auto node = [&](std::size_t i) -> SimNode& {
      if (i >= w.size()) throw std::runtime_error("missing node name");
      SimNode* n = c_.find(w[i]);
      if (!n) throw std::runtime_error("unknown node " + w[i]);
      return *n;
    };
    auto num = [&](std::size_t i) -> Time {
      if (i >= w.size()) throw std::runtime_error("missing number");
      return std::stoll(w[i]);
    };
    if (cmd == "timing") {
      for (std::size_t i = 1; i < w.size(); ++i) {
        if (auto v = egwtest::golden::valueOf(w[i], "hb"); !v.empty()) c_.heartbeatInterval = std::stoll(v);
        if (auto v = egwtest::golden::valueOf(w[i], "et"); !v.empty()) c_.electionTimeout = std::stoll(v);
        if (auto v = egwtest::golden::valueOf(w[i], "lease"); !v.empty()) c_.lease = std::stoll(v);
      }
    } else if (cmd == "node") {
      NodeSpec s;
      s.name = w.at(1);
      s.voter = w.at(2) == "voter";
      s.candidate = false;
      for (std::size_t i = 3; i < w.size(); ++i) {
        if (w[i] == "candidate") s.candidate = true;
        if (w[i] == "preempt") s.preempt = true;
        if (auto v = egwtest::golden::valueOf(w[i], "priority"); !v.empty()) s.priority = std::stoi(v);
      }
      c_.add(s);
    } else if (cmd == "start") {
      for (std::size_t i = 1; i < w.size(); ++i)
        if (auto v = egwtest::golden::valueOf(w[i], "seed"); !v.empty()) c_.seed = std::stoull(v);
      c_.start();
    } else if (cmd == "run") {
      c_.run(num(1));
    } else if (cmd == "deliver") {
      c_.deliverAll();
    } else if (cmd == "tick") {
      auto& n = node(1);
      n.offset += static_cast<double>(num(2));
      if (n.e) {
        n.e->tick(c_.local(n));
        c_.pump(n);
      }
    } else if (cmd == "isolate") {
      c_.isolate(node(1).spec.name);
    } else if (cmd == "cut") {
      c_.cut(node(1).spec.name, node(2).spec.name);
    } else if (cmd == "recover") {
      c_.cuts.clear();
    } else if (cmd == "crash") {
      c_.crash(node(1));
    } else if (cmd == "restart") {
      c_.restart(node(1));
    } else if (cmd == "pause") {
      node(1).pausedUntil = c_.now + num(2);
    } else if (cmd == "set-eligible") {
      auto& n = node(1);
      n.eligible = w.at(2) == "true";
      if (n.e) {
        n.e->setEligible(n.eligible, c_.local(n));
        c_.pump(n);
      }
      c_.publishPeerInfo();
    } else if (cmd == "set-priority") {
      auto& n = node(1);
      n.spec.priority = static_cast<int>(num(2));
      if (n.e) n.e->setPriority(n.spec.priority);
      c_.publishPeerInfo();
    } else if (cmd == "transfer") {
      auto& n = node(1);
      auto to = n.e->transferLeadership(w.size() > 2 ? w[2] : std::string(), c_.local(n));
      out_.push_back(to ? n.spec.name + " hands over to " + *to
                        : n.spec.name + " cannot hand over: " + n.e->lastTransferError());
      c_.pump(n);
    } else if (cmd == "step-down") {
      auto& n = node(1);
      n.e->stepDown(c_.local(n));
      c_.pump(n);
    } else if (cmd == "status") {
      for (auto& n : c_.nodes) out_.push_back(status(n));
    } else if (cmd == "delay") {
      c_.minDelay = num(1);
      c_.maxDelay = num(2);
    } else if (cmd == "messages") {
      c_.traceMessages = w.at(1) == "on";
    } else if (cmd == "drop") {
      c_.dropRate = std::stod(w.at(1));
    } else if (cmd == "send") {
      Message m;
      m.from = w.at(1);
      m.to = w.at(2);
      auto t = parseType(w.at(3));
      if (!t) throw std::runtime_error("unknown message type " + w.at(3));
      m.type = *t;
      for (std::size_t i = 4; i < w.size(); ++i) {
        if (auto v = egwtest::golden::valueOf(w[i], "term"); !v.empty()) m.term = std::stoull(v);
        if (auto v = egwtest::golden::valueOf(w[i], "round"); !v.empty()) m.round = std::stoull(v);
        if (w[i] == "granted") m.granted = true;
        if (w[i] == "transfer") m.transfer = true;
      }
      c_.inject(m);
    } else {
      throw std::runtime_error("unknown command " + cmd);
    }
    return out_;
  }

  std::string status(SimNode& n) {
    std::string s = n.spec.name + (n.spec.voter ? " voter " : " member ");
    if (!n.e) return s + "down term=" + std::to_string(n.disk.term);
    const Time t = c_.local(n);
    s += std::string(roleName(n.e->role())) + " term=" + std::to_string(n.e->term());
    s += " master=" + (n.e->master().empty() ? std::string("-") : n.e->master());
    s += " lease=" + std::string(n.e->leaseValid(t) ? "yes" : "no");
    s += " vote=" + (n.e->hardState().votedFor.empty() ? std::string("-") : n.e->hardState().votedFor);
    if (n.e->rejectedTotal() > 0) s += " rejected=" + std::to_string(n.e->rejectedTotal());
    return s;
  }

 private:
  Cluster c_;
  std::vector<std::string> out_;
};

QString scenarioDir() { return egwtest::sourcePath(u"tests/unit/election/scenarios"); }

}  // namespace

class TestElectionScenarios : public QObject {
  Q_OBJECT
 private slots:
  void scenario_data() { egwtest::golden::addScenarioRows(scenarioDir(), 10); }

  void scenario() {
    QFETCH(QString, path);
    Interpreter interp;
    const auto failure = egwtest::golden::runGolden(path, [&](const std::string& c) { return interp.exec(c); });
    if (!failure.empty()) QFAIL(failure.c_str());
  }
};

QTEST_GUILESS_MAIN(TestElectionScenarios)
#include "test_election_scenarios.moc"
