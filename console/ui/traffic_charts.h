#pragma once
// Two charts that read TrafficSeries: bytes/s per egress node over time with failovers marked,
// and the measured gap of each failover.
#include <QtCore/QHash>
#include <QtWidgets/QWidget>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QDateTimeAxis;
class QLineSeries;
class QScatterSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace egw::console {

class TrafficSeries;

class TrafficCharts final : public QWidget {
  Q_OBJECT

 public:
  explicit TrafficCharts(TrafficSeries* series, QWidget* parent = nullptr);
  void setDark(bool dark);
  // Re-reads the series (called on TrafficSeries::changed).
  void refresh();

 private:
  QLineSeries* lineFor(const QString& node);

  TrafficSeries* series_;
  QChart* traffic_;
  QChart* gaps_;
  QChartView* trafficView_;
  QChartView* gapsView_;
  QDateTimeAxis* trafficX_;
  QValueAxis* trafficY_;
  QDateTimeAxis* gapsX_;
  QValueAxis* gapsY_;
  QScatterSeries* failoverMarks_;
  QScatterSeries* gapPoints_;
  QHash<QString, QLineSeries*> lines_;
};

}  // namespace egw::console
