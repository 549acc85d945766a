#include "console/ui/traffic_charts.h"

#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>
#include <QtCore/QDateTime>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>

#include "console/core/traffic_series.h"

namespace egw::console {
namespace {

QChartView* makeView(QChart* chart, QWidget* parent) {
  chart->setMargins(QMargins(4, 4, 4, 4));
  chart->legend()->setAlignment(Qt::AlignBottom);
  auto* v = new QChartView(chart, parent);
  v->setRenderHint(QPainter::Antialiasing);
  v->setMinimumHeight(160);
  v->setMinimumWidth(380);
  return v;
}

}  // namespace

TrafficCharts::TrafficCharts(TrafficSeries* series, QWidget* parent)
    : QWidget(parent), series_(series), traffic_(new QChart), gaps_(new QChart) {
  traffic_->setTitle(QStringLiteral("Traffic per egress node (SNAT)"));
  trafficX_ = new QDateTimeAxis;
  trafficX_->setFormat(QStringLiteral("HH:mm:ss"));
  trafficX_->setTickCount(5);
  trafficY_ = new QValueAxis;
  trafficY_->setLabelFormat(QStringLiteral("%.1f"));
  trafficY_->setTitleText(QStringLiteral("MB/s"));
  traffic_->addAxis(trafficX_, Qt::AlignBottom);
  traffic_->addAxis(trafficY_, Qt::AlignLeft);
  failoverMarks_ = new QScatterSeries;
  failoverMarks_->setName(QStringLiteral("failover"));
  failoverMarks_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
  failoverMarks_->setMarkerSize(9);
  failoverMarks_->setColor(QColor(0xe5, 0x39, 0x35));
  traffic_->addSeries(failoverMarks_);
  failoverMarks_->attachAxis(trafficX_);
  failoverMarks_->attachAxis(trafficY_);

  gaps_->setTitle(QStringLiteral("Failover gap"));
  gapsX_ = new QDateTimeAxis;
  gapsX_->setFormat(QStringLiteral("HH:mm:ss"));
  gapsX_->setTickCount(5);
  gapsY_ = new QValueAxis;
  gapsY_->setLabelFormat(QStringLiteral("%.0f"));
  gapsY_->setTitleText(QStringLiteral("ms"));
  gaps_->addAxis(gapsX_, Qt::AlignBottom);
  gaps_->addAxis(gapsY_, Qt::AlignLeft);
  gapPoints_ = new QScatterSeries;
  gapPoints_->setName(QStringLiteral("gap per failover"));
  gapPoints_->setMarkerSize(10);
  gapPoints_->setColor(QColor(0xe5, 0x39, 0x35));
  gaps_->addSeries(gapPoints_);
  gapPoints_->attachAxis(gapsX_);
  gapPoints_->attachAxis(gapsY_);

  trafficView_ = makeView(traffic_, this);
  gapsView_ = makeView(gaps_, this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(trafficView_, 1);
  layout->addWidget(gapsView_, 1);

  connect(series_, &TrafficSeries::changed, this, &TrafficCharts::refresh);
  refresh();
}

QLineSeries* TrafficCharts::lineFor(const QString& node) {
  if (QLineSeries* s = lines_.value(node)) return s;
  auto* s = new QLineSeries;
  s->setName(node);
  traffic_->addSeries(s);
  s->attachAxis(trafficX_);
  s->attachAxis(trafficY_);
  lines_.insert(node, s);
  return s;
}

void TrafficCharts::refresh() {
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  double minX = double(now - 60'000);
  double maxX = double(now);
  double maxY = 1.0;  // MB/s
  for (const QString& node : series_->nodes()) {
    QList<QPointF> pts = series_->samples(node);
    for (QPointF& p : pts) {
      p.setY(p.y() / 1e6);
      minX = std::min(minX, p.x());
      maxX = std::max(maxX, p.x());
      maxY = std::max(maxY, p.y());
    }
    lineFor(node)->replace(pts);
  }
  maxY *= 1.15;

  QList<QPointF> marks;
  QList<QPointF> gaps;
  double minGapX = minX;
  double maxGapX = maxX;
  double maxGap = 100.0;
  for (const FailoverMarker& m : series_->failovers()) {
    const double t = double(m.timeMs);
    if (t >= minX && t <= maxX) marks.append(QPointF(t, maxY * 0.97));
    if (m.gapMs >= 0) {
      gaps.append(QPointF(t, double(m.gapMs)));
      minGapX = std::min(minGapX, t);
      maxGapX = std::max(maxGapX, t);
      maxGap = std::max(maxGap, double(m.gapMs));
    }
  }
  failoverMarks_->replace(marks);
  gapPoints_->replace(gaps);
  trafficX_->setRange(QDateTime::fromMSecsSinceEpoch(qint64(minX)), QDateTime::fromMSecsSinceEpoch(qint64(maxX)));
  trafficY_->setRange(0, maxY);
  const double pad = std::max(5'000.0, (maxGapX - minGapX) * 0.05);
  gapsX_->setRange(QDateTime::fromMSecsSinceEpoch(qint64(minGapX - pad)),
                   QDateTime::fromMSecsSinceEpoch(qint64(maxGapX + pad)));
  gapsY_->setRange(0, maxGap * 1.2);
}

void TrafficCharts::setDark(bool dark) {
  for (QChart* c : {traffic_, gaps_}) {
    c->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  }
  // setTheme recolours every series; the failover marks keep their warning colour.
  failoverMarks_->setColor(QColor(0xe5, 0x39, 0x35));
  gapPoints_->setColor(QColor(0xe5, 0x39, 0x35));
}

}  // namespace egw::console
