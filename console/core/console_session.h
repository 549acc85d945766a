#pragma once
// Ties an AgentClient to the models: the single place that turns stream updates into model
// batches, tracks the master for the banner and the connection for the status bar. Used by the
// window and by the headless mode alike.
//
// Updates are coalesced: the latest state and all events received since the last flush are
// applied together every flushInterval (default 100 ms), so a burst costs one batch.
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <functional>
#include <memory>

#include "console/core/agent_client.h"
#include "console/core/events_model.h"
#include "console/core/nodes_model.h"
#include "console/core/traffic_series.h"

namespace egw::console {

struct BannerInfo {
  bool connected = false;  // a snapshot has been received from the current client
  QString master;          // empty: no master
  QString egressIp;        // the master's egress IP, or the VIP in virtual-ip mode
  quint64 term = 0;
  qint64 sinceMs = 0;
  qint64 lastFailoverGapMs = -1;
  QString servedBy;
  QString mode;
  bool operator==(const BannerInfo&) const = default;
};

class ConsoleSession final : public QObject {
  Q_OBJECT

 public:
  using Clock = std::function<qint64()>;  // ms since epoch

  explicit ConsoleSession(QObject* parent = nullptr);
  ~ConsoleSession() override;

  // Takes ownership, connects and starts it; the previous client is stopped and deleted.
  void setClient(std::unique_ptr<AgentClient> client);
  AgentClient* client() const { return client_.get(); }

  NodesModel* nodes() { return &nodes_; }
  EventsModel* events() { return &events_; }
  TrafficSeries* traffic() { return &traffic_; }
  const ClusterSnapshot& state() const { return state_; }
  const BannerInfo& banner() const { return banner_; }
  ConnectionState connectionState() const { return connState_; }
  QString endpoint() const { return endpoint_; }
  QString connectionDetail() const { return detail_; }
  // Why each endpoint failed last, one line per endpoint; kept until the next snapshot.
  QString lastError() const;

  // "master egress-1 term 4 · nodes 3/3 healthy · streaming via 10.0.0.11:7401"; served by an
  // observer, egw::partialViewNotice follows ("· served by observer worker-3: it knows only ...").
  QString statusLine() const;

  void setClock(Clock clock) { clock_ = std::move(clock); }
  void setFlushInterval(int ms) { flushTimer_.setInterval(ms); }
  // Applies what is pending now (tests and the bench call this instead of waiting).
  void flush();

 signals:
  void bannerChanged(const egw::console::BannerInfo& banner);
  void connectionChanged(egw::console::ConnectionState state, const QString& endpoint, const QString& detail);
  void stateApplied();
  void actionFinished(const egw::console::ActionResult& result);

 private:
  void onState(const ClusterSnapshot& s);
  void onEvent(const ClusterEvent& e);
  void onConnection(ConnectionState st, const QString& endpoint, const QString& detail);
  void schedule();
  void updateBanner();

  std::unique_ptr<AgentClient> client_;
  NodesModel nodes_;
  EventsModel events_;
  TrafficSeries traffic_;
  ClusterSnapshot state_;
  bool statePending_ = false;
  bool haveState_ = false;
  QList<ClusterEvent> pendingEvents_;
  BannerInfo banner_;
  ConnectionState connState_ = ConnectionState::Idle;
  QString endpoint_;
  QString detail_;
  QMap<QString, QString> errors_;  // endpoint -> why its last attempt failed
  QTimer flushTimer_;
  QTimer ageTimer_;
  Clock clock_;
};

}  // namespace egw::console

Q_DECLARE_METATYPE(egw::console::BannerInfo)
