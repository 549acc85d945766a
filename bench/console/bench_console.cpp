// bench_console [--nodes N]: replays 500 nodes (or N) and 200 events/s into the console's models (with the proxies
// the window attaches) and prints the cost per batch of 100 updates and the share of time the GUI
// thread is busy; then the same replay into a baseline that resets its models on every batch.
//
// Each batch also reads what a view would repaint (40 visible rows of both tables). Painting
// itself (QtWidgets) is not measured here.
//
// An update is one node's new status or one event. Every node reports once a second, so the
// stream carries 500 status updates + 200 events per second = 7 batches of 100 per second.
#include <QtCore/QAbstractTableModel>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSortFilterProxyModel>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "console/core/events_model.h"
#include "console/core/nodes_model.h"
#include "console/core/traffic_series.h"

using namespace egw::console;

namespace {

int kNodes = 500;  // --nodes N (issue 15: 1,000)
constexpr int kEgress = 50;
constexpr int kEventsPerSecond = 200;
constexpr int kSeconds = 30;
constexpr int kBatch = 100;
constexpr qint64 kStart = 1'700'000'000'000;

struct Update {
  qint64 timeMs;
  int node;  // >= 0: status update of that node; -1: an event
  ClusterEvent event;
};

struct Batch {
  qint64 timeMs;
  ClusterSnapshot state;  // the whole state after the batch's status updates (as the stream sends it)
  QList<ClusterEvent> events;
};

std::vector<Batch> makeReplay() {
  QRandomGenerator rng(42);
  std::vector<Update> updates;
  quint64 seq = 0;
  for (int s = 0; s < kSeconds; ++s) {
    for (int n = 0; n < kNodes; ++n) updates.push_back(Update{kStart + s * 1000 + (n * 1000) / kNodes, n, {}});
    for (int e = 0; e < kEventsPerSecond; ++e) {
      using K = egw::EventKind;
      static constexpr K kinds[] = {K::HealthChanged, K::CandidacyChanged, K::MasterElected, K::DatapathSwitched,
                                    K::NodeJoined};
      const qint64 t = kStart + s * 1000 + (e * 1000) / kEventsPerSecond;
      const int node = int(rng.bounded(kNodes));
      ClusterEvent ev{QStringLiteral("node-%1").arg(node % kEgress), ++seq, t, labelOf(kinds[rng.bounded(5)]),
                      QStringLiteral("node-%1").arg(node), quint64(s + 1), QStringLiteral("replayed event %1").arg(seq),
                      qint64(rng.bounded(900))};
      updates.push_back(Update{t, -1, ev});
    }
  }
  std::stable_sort(updates.begin(), updates.end(), [](const Update& a, const Update& b) { return a.timeMs < b.timeMs; });

  ClusterSnapshot state;
  state.master = QStringLiteral("node-0");
  state.term = 1;
  state.protocol = 1;
  for (int n = 0; n < kNodes; ++n) {
    NodeInfo ni;
    ni.name = QStringLiteral("node-%1").arg(n);
    ni.address = QStringLiteral("10.%1.%2.1").arg(n / 250).arg(n % 250);
    ni.role = n == 0 ? egw::Role::Master : (n < kEgress ? egw::Role::Follower : egw::Role::Observer);
    ni.candidacy = n < kEgress ? Candidacy::Enabled : Candidacy::None;
    ni.egressIp = n < kEgress ? QStringLiteral("172.16.%1.%2").arg(n / 250).arg(n % 250) : QString();
    ni.healthy = true;
    ni.allowlist = AllowlistVerdict::Ok;
    ni.wallTimeMs = kStart;
    state.nodes << ni;
  }
  std::vector<Batch> batches;
  for (size_t i = 0; i < updates.size(); i += kBatch) {
    Batch b;
    for (size_t j = i; j < std::min(updates.size(), i + kBatch); ++j) {
      const Update& u = updates[j];
      if (u.node >= 0) {
        NodeInfo& ni = state.nodes[u.node];
        ni.wallTimeMs = u.timeMs;
        ni.markedBytes += rng.bounded(100'000);
        if (u.node < kEgress && u.node == 0) ni.snatBytes += 2'000'000 + rng.bounded(500'000);
        ni.healthy = rng.bounded(100) != 0;
      } else {
        b.events << u.event;
      }
      b.timeMs = u.timeMs;
    }
    b.state = state;
    batches.push_back(std::move(b));
  }
  return batches;
}

// The baseline: the same data, but the models announce a reset on every batch.
class ResetNodesModel final : public QAbstractTableModel {
 public:
  void apply(const ClusterSnapshot& s) {
    beginResetModel();
    nodes_ = s.nodes;
    endResetModel();
  }
  int rowCount(const QModelIndex& p = {}) const override { return p.isValid() ? 0 : int(nodes_.size()); }
  int columnCount(const QModelIndex& p = {}) const override { return p.isValid() ? 0 : NodesModel::ColumnCount; }
  QVariant data(const QModelIndex& i, int role) const override {
    if (role != Qt::DisplayRole && role != NodesModel::SortRole) return {};
    const NodeInfo& n = nodes_.at(i.row());
    return i.column() == NodesModel::Name ? QVariant(n.name) : QVariant(n.term);
  }

 private:
  QList<NodeInfo> nodes_;
};

class ResetEventsModel final : public QAbstractTableModel {
 public:
  void append(const QList<ClusterEvent>& e) {
    beginResetModel();
    events_.append(e);
    endResetModel();
  }
  int rowCount(const QModelIndex& p = {}) const override { return p.isValid() ? 0 : int(events_.size()); }
  int columnCount(const QModelIndex& p = {}) const override { return p.isValid() ? 0 : EventsModel::ColumnCount; }
  QVariant data(const QModelIndex& i, int role) const override {
    if (role != Qt::DisplayRole) return {};
    return events_.at(i.row()).kind;
  }

 private:
  QList<ClusterEvent> events_;
};

volatile int g_sink = 0;  // keeps the reads below from being optimised away

// What a view repaints after a batch: the visible rows' display and tooltip data.
void paintVisible(const QAbstractItemModel& m) {
  constexpr int kVisibleRows = 40;
  int sink = 0;
  for (int r = 0; r < std::min(kVisibleRows, m.rowCount()); ++r) {
    for (int c = 0; c < m.columnCount(); ++c) sink += m.index(r, c).data(Qt::DisplayRole).toString().size();
  }
  g_sink = g_sink + sink;
}

struct Figures {
  double median = 0;
  double p95 = 0;
  double busy = 0;  // share of wall time at the replay's real rate
};

Figures summarize(std::vector<double> ms, double totalMs) {
  std::sort(ms.begin(), ms.end());
  Figures f;
  f.median = ms[ms.size() / 2];
  f.p95 = ms[std::min(ms.size() - 1, size_t(double(ms.size()) * 0.95))];
  f.busy = totalMs / (kSeconds * 1000.0);
  return f;
}

Figures runIncremental(const std::vector<Batch>& batches) {
  NodesModel nodes;
  EventsModel events;
  TrafficSeries traffic;
  QSortFilterProxyModel nodesProxy;  // what the window attaches: sorted nodes, filtered events
  nodesProxy.setSourceModel(&nodes);
  nodesProxy.setSortRole(NodesModel::SortRole);
  nodesProxy.sort(NodesModel::Name);
  EventsFilterProxy eventsProxy;
  eventsProxy.setSourceModel(&events);
  eventsProxy.setKindFilter(labelOf(egw::EventKind::MasterElected));
  std::vector<double> ms;
  double total = 0;
  QElapsedTimer t;
  for (const Batch& b : batches) {
    t.start();
    events.appendEvents(b.events);
    traffic.addEvents(b.events);
    traffic.record(b.timeMs, b.state);
    nodes.applyState(b.state, b.timeMs, traffic.currentRates());
    paintVisible(nodesProxy);
    paintVisible(eventsProxy);
    const double e = double(t.nsecsElapsed()) / 1e6;
    ms.push_back(e);
    total += e;
  }
  return summarize(ms, total);
}

Figures runBaseline(const std::vector<Batch>& batches) {
  ResetNodesModel nodes;
  ResetEventsModel events;
  TrafficSeries traffic;
  QSortFilterProxyModel nodesProxy;
  nodesProxy.setSourceModel(&nodes);
  nodesProxy.setSortRole(NodesModel::SortRole);
  nodesProxy.sort(NodesModel::Name);
  QSortFilterProxyModel eventsProxy;
  eventsProxy.setSourceModel(&events);
  eventsProxy.setFilterFixedString(labelOf(egw::EventKind::MasterElected));
  std::vector<double> ms;
  double total = 0;
  QElapsedTimer t;
  for (const Batch& b : batches) {
    t.start();
    events.append(b.events);
    traffic.addEvents(b.events);
    traffic.record(b.timeMs, b.state);
    nodes.apply(b.state);
    paintVisible(nodesProxy);
    paintVisible(eventsProxy);
    const double e = double(t.nsecsElapsed()) / 1e6;
    ms.push_back(e);
    total += e;
  }
  return summarize(ms, total);
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nodes" && i + 1 < argc) {
      kNodes = std::atoi(argv[++i]);
      if (kNodes < 1 || kNodes > 100000) {
        std::fprintf(stderr, "bench_console: --nodes must be 1..100000\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: bench_console [--nodes N (500)]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const std::vector<Batch> batches = makeReplay();
  std::printf("bench_console: %d nodes (%d egress), %d events/s + %d status updates/s, %d s replayed, "
              "%zu batches of %d updates\n",
              kNodes, kEgress, kEventsPerSecond, kNodes, kSeconds, batches.size(), kBatch);
  runIncremental(batches);  // warm-up
  const Figures inc = runIncremental(batches);
  const Figures base = runBaseline(batches);
  std::printf("incremental (diff, batched dataChanged/inserts): median %.3f ms, p95 %.3f ms per batch; GUI thread busy %.2f%%\n",
              inc.median, inc.p95, inc.busy * 100);
  std::printf("baseline (model reset per batch):                median %.3f ms, p95 %.3f ms per batch; GUI thread busy %.2f%%\n",
              base.median, base.p95, base.busy * 100);
  std::printf("ratio baseline/incremental: median %.2fx, p95 %.2fx, busy %.2fx\n", base.median / inc.median,
              base.p95 / inc.p95, base.busy / inc.busy);
  const bool ok = inc.p95 <= 5.0 && inc.busy <= 0.20;
  std::printf("targets (<= 5 ms per batch at p95, <= 20%% busy): %s\n", ok ? "met" : "MISSED");
  return ok ? 0 : 1;
}
