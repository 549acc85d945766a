#pragma once
// Traffic per egress node over time, derived from the SNAT byte counters in successive states,
// and one marker per failover (by term) with its measured gap. The charts read this; the nodes
// table takes its current rates from here too.
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPointF>
#include <QtCore/QStringList>

#include "console/core/cluster_types.h"

namespace egw::console {

struct FailoverMarker {
  qint64 timeMs = 0;
  quint64 term = 0;
  QString newMaster;
  qint64 gapMs = -1;
  bool operator==(const FailoverMarker&) const = default;
};

class TrafficSeries final : public QObject {
  Q_OBJECT

 public:
  explicit TrafficSeries(QObject* parent = nullptr);

  // Samples every egress node's SNAT byte counter at the node's report time (wallTimeMs; `nowMs`
  // when unknown). A counter that went down (the agent restarted) counts from zero. `nowMs` also
  // ends the window.
  void record(qint64 nowMs, const ClusterSnapshot& state);
  // master_elected / datapath_switched events become markers, one per term; a datapath_switched
  // gap wins over a master_elected one.
  void addEvents(const QList<ClusterEvent>& events);
  void setWindow(qint64 ms) { windowMs_ = ms; }

  QStringList nodes() const { return order_; }
  // (time ms, bytes/s) points of a node, oldest first.
  const QList<QPointF>& samples(const QString& node) const;
  double currentRate(const QString& node) const { return rates_.value(node, 0.0); }
  const QHash<QString, double>& currentRates() const { return rates_; }
  const QList<FailoverMarker>& failovers() const { return markers_; }

 signals:
  void changed();

 private:
  struct Last {
    qint64 timeMs = 0;
    quint64 bytes = 0;
  };
  void prune(qint64 nowMs);

  QStringList order_;
  QHash<QString, QList<QPointF>> samples_;
  QHash<QString, Last> last_;
  QHash<QString, double> rates_;
  QList<FailoverMarker> markers_;
  qint64 windowMs_ = 15 * 60 * 1000;
};

}  // namespace egw::console
