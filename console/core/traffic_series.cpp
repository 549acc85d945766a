#include "console/core/traffic_series.h"

#include <algorithm>

namespace egw::console {

TrafficSeries::TrafficSeries(QObject* parent) : QObject(parent) {}

void TrafficSeries::record(qint64 nowMs, const ClusterSnapshot& state) {
  for (const NodeInfo& n : state.nodes) {
    if (!n.isEgress()) continue;
    // The counters were read when the node reported: its clock gives the right interval (the
    // console's receive times bunch up behind network and batching delays).
    const qint64 at = n.wallTimeMs > 0 ? n.wallTimeMs : nowMs;
    auto it = last_.find(n.name);
    if (it == last_.end()) {
      last_.insert(n.name, Last{at, n.snatBytes});
      order_.append(n.name);
      samples_[n.name];
      continue;
    }
    const qint64 dt = at - it->timeMs;
    if (dt <= 0) continue;  // no new report from this node
    const quint64 delta = n.snatBytes >= it->bytes ? n.snatBytes - it->bytes : n.snatBytes;
    const double rate = double(delta) * 1000.0 / double(dt);
    *it = Last{at, n.snatBytes};
    rates_.insert(n.name, rate);
    samples_[n.name].append(QPointF(double(at), rate));
  }
  prune(nowMs);
  emit changed();
}

void TrafficSeries::addEvents(const QList<ClusterEvent>& events) {
  bool any = false;
  for (const ClusterEvent& e : events) {
    const bool switched = e.is(EventKind::DatapathSwitched);
    if (!switched && !e.is(EventKind::MasterElected)) continue;
    auto it = std::find_if(markers_.begin(), markers_.end(), [&](const FailoverMarker& m) { return m.term == e.term; });
    if (it == markers_.end()) {
      markers_.append(FailoverMarker{e.timeMs, e.term, e.node, e.gapMs});
      any = true;
    } else if (e.gapMs >= 0 && (switched || it->gapMs < 0)) {
      it->gapMs = e.gapMs;
      if (switched) it->timeMs = e.timeMs;
      any = true;
    }
  }
  if (any) emit changed();
}

const QList<QPointF>& TrafficSeries::samples(const QString& node) const {
  static const QList<QPointF> empty;
  auto it = samples_.constFind(node);
  return it == samples_.cend() ? empty : *it;
}

void TrafficSeries::prune(qint64 nowMs) {
  const double cutoff = double(nowMs - windowMs_);
  for (auto& points : samples_) {
    qsizetype n = 0;
    while (n < points.size() && points.at(n).x() < cutoff) ++n;
    if (n > 0) points.remove(0, n);
  }
  // Markers are few and the gap chart shows history too: only their count is bounded.
  constexpr qsizetype kMaxMarkers = 1000;
  if (markers_.size() > kMaxMarkers) markers_.remove(0, markers_.size() - kMaxMarkers);
}

}  // namespace egw::console
