// Agent driver scenarios as text scripts with golden traces: whole drivers (agent/node/driver.*)
// in one process under simulated time (tests/sim/sim_cluster.h). The trace is every event a node
// journals, each operator answer, and each crash, restart, stop and pause. Format and
// EGW_UPDATE_GOLDEN=1: tests/support/golden.h. Commands:
//   timing hb=MS et=MS                 node NAME voter|observer|candidate [candidate] [priority=N] [probe]
//   start [seed=N]   run MS            status         net delay=MIN-MAX loss=P dup=P
//   crash N   restart N [corrupt]      stop N (SIGTERM)                pause N MS
//   cut A B   isolate N   heal         handover FROM [TO]              reload N priority=P
//   candidacy N enable|disable [force] probe N accepted|refused|timeout
//   datapath N                         (the role its datapath was given, and since when)
#include <QTest>

#include <memory>
#include <stdexcept>

#include "sim/sim_cluster.h"
#include "support/golden.h"
#include "support/paths.h"

using egw::sim::NodeSpec;
using egw::sim::SimCluster;
using egwtest::golden::valueOf;

namespace {

class Interpreter {
 public:
  Interpreter() {
    c_.trace = [this](const std::string& s) { out_.push_back(s); };
  }

  std::vector<std::string> exec(const std::string& line) {
    out_.clear();
    auto w = egwtest::golden::words(line);
    const std::string& cmd = w.at(0);
    auto arg = [&](std::size_t i) -> const std::string& {
      if (i >= w.size()) throw std::runtime_error("missing argument " + std::to_string(i));
      return w[i];
    };
    auto num = [&](std::size_t i) { return std::stoll(arg(i)); };
    if (cmd == "timing") {
      for (std::size_t i = 1; i < w.size(); ++i) {
        if (auto v = valueOf(w[i], "hb"); !v.empty()) c_.heartbeat = std::stoll(v);
        if (auto v = valueOf(w[i], "et"); !v.empty()) c_.electionTimeout = std::stoll(v);
      }
    } else if (cmd == "node") {
      NodeSpec s;
      s.name = arg(1);
      s.voter = arg(2) == "voter";
      s.candidate = arg(2) == "candidate";
      for (std::size_t i = 3; i < w.size(); ++i) {
        if (w[i] == "candidate") s.candidate = true;
        if (w[i] == "probe") s.probe = true;
        if (auto v = valueOf(w[i], "priority"); !v.empty()) s.priority = std::stoi(v);
      }
      c_.add(s);
    } else if (cmd == "start") {
      for (std::size_t i = 1; i < w.size(); ++i)
        if (auto v = valueOf(w[i], "seed"); !v.empty()) c_.reseed(std::stoull(v));
      c_.start();
    } else if (cmd == "run") {
      c_.run(num(1));
    } else if (cmd == "net") {
      for (std::size_t i = 1; i < w.size(); ++i) {
        if (auto v = valueOf(w[i], "delay"); !v.empty()) {
          auto dash = v.find('-');
          c_.net.minDelay = std::stoll(v.substr(0, dash));
          c_.net.maxDelay = dash == std::string::npos ? c_.net.minDelay : std::stoll(v.substr(dash + 1));
        }
        if (auto v = valueOf(w[i], "loss"); !v.empty()) c_.net.loss = std::stod(v);
        if (auto v = valueOf(w[i], "dup"); !v.empty()) c_.net.duplicate = std::stod(v);
      }
    } else if (cmd == "crash") {
      c_.crash(arg(1));
    } else if (cmd == "restart") {
      c_.restart(arg(1), !(w.size() > 2 && w[2] == "corrupt"));
    } else if (cmd == "stop") {
      c_.stop(arg(1));
    } else if (cmd == "pause") {
      c_.pause(arg(1), num(2));
    } else if (cmd == "cut") {
      c_.cut(arg(1), arg(2));
    } else if (cmd == "isolate") {
      c_.isolate(arg(1));
    } else if (cmd == "heal") {
      c_.heal();
    } else if (cmd == "handover") {
      c_.handover(arg(1), w.size() > 2 ? w[2] : std::string());
    } else if (cmd == "candidacy") {
      c_.setCandidacy(arg(1), arg(2) == "enable", w.size() > 3 && w[3] == "force");
    } else if (cmd == "probe") {
      const auto& o = arg(2);
      c_.probe(arg(1), o == "accepted"  ? egw::ProbeOutcome::Accepted
                       : o == "refused" ? egw::ProbeOutcome::Refused
                       : o == "timeout" ? egw::ProbeOutcome::Timeout
                                        : throw std::runtime_error("probe outcome: accepted|refused|timeout"));
    } else if (cmd == "reload") {
      auto v = valueOf(arg(2), "priority");
      if (v.empty()) throw std::runtime_error("reload N priority=P");
      const int p = std::stoi(v);
      c_.reload(arg(1), [p](egw::Config& c) { c.node.priority = p; });
    } else if (cmd == "datapath") {
      out_.push_back(arg(1) + " " + c_.datapathRole(arg(1)) + " since " + std::to_string(c_.datapathSince(arg(1))) + "ms");
    } else if (cmd == "status") {
      for (auto& s : c_.status()) out_.push_back(s);
    } else {
      throw std::runtime_error("unknown command " + cmd);
    }
    return out_;
  }

 private:
  SimCluster c_;
  std::vector<std::string> out_;
};

QString scenarioDir() { return egwtest::sourcePath(u"tests/unit/driver/scenarios"); }

}  // namespace

class TestDriverScenarios : public QObject {
  Q_OBJECT
 private slots:
  void scenario_data() { egwtest::golden::addScenarioRows(scenarioDir(), 6); }

  void scenario() {
    QFETCH(QString, path);
    Interpreter interp;
    const auto failure = egwtest::golden::runGolden(path, [&](const std::string& c) { return interp.exec(c); });
    if (!failure.empty()) QFAIL(failure.c_str());
  }
};

QTEST_GUILESS_MAIN(TestDriverScenarios)
#include "test_driver_scenarios.moc"
