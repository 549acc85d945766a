#include "console/core/console_session.h"

#include <QtCore/QDateTime>

#include <string>
#include <vector>

namespace egw::console {

ConsoleSession::ConsoleSession(QObject* parent)
    : QObject(parent), clock_([] { return QDateTime::currentMSecsSinceEpoch(); }) {
  flushTimer_.setSingleShot(true);
  flushTimer_.setInterval(100);
  connect(&flushTimer_, &QTimer::timeout, this, &ConsoleSession::flush);
  ageTimer_.setInterval(1000);
  connect(&ageTimer_, &QTimer::timeout, this, [this] { nodes_.setNow(clock_()); });
  ageTimer_.start();
}

ConsoleSession::~ConsoleSession() {
  // The client's stop() signal must not reach a half-destroyed session.
  if (client_) client_->disconnect(this);
}

void ConsoleSession::setClient(std::unique_ptr<AgentClient> client) {
  if (client_) {
    client_->disconnect(this);
    client_->stop();
  }
  client_ = std::move(client);
  haveState_ = false;
  errors_.clear();
  banner_.connected = false;
  if (!client_) return;
  connect(client_.get(), &AgentClient::snapshotReceived, this, &ConsoleSession::onState);
  connect(client_.get(), &AgentClient::stateUpdated, this, &ConsoleSession::onState);
  connect(client_.get(), &AgentClient::eventReceived, this, [this](const ClusterEvent& e, quint64) { onEvent(e); });
  connect(client_.get(), &AgentClient::connectionStateChanged, this, &ConsoleSession::onConnection);
  connect(client_.get(), &AgentClient::actionFinished, this, &ConsoleSession::actionFinished);
  client_->start();
}

void ConsoleSession::onState(const ClusterSnapshot& s) {
  state_ = s;
  statePending_ = true;
  schedule();
}

void ConsoleSession::onEvent(const ClusterEvent& e) {
  pendingEvents_.append(e);
  schedule();
}

void ConsoleSession::schedule() {
  if (!flushTimer_.isActive()) flushTimer_.start();
}

void ConsoleSession::flush() {
  flushTimer_.stop();
  const qint64 now = clock_();
  if (!pendingEvents_.isEmpty()) {
    const QList<ClusterEvent> batch = std::exchange(pendingEvents_, {});
    events_.appendEvents(batch);
    traffic_.addEvents(batch);
  }
  if (statePending_) {
    statePending_ = false;
    haveState_ = true;
    errors_.clear();
    traffic_.record(now, state_);
    nodes_.applyState(state_, now, traffic_.currentRates());
    updateBanner();
    emit stateApplied();
  }
}

void ConsoleSession::updateBanner() {
  BannerInfo b;
  b.connected = haveState_ && connState_ == ConnectionState::Streaming;
  b.master = state_.master;
  b.term = state_.term;
  b.sinceMs = state_.masterSinceMs;
  b.lastFailoverGapMs = state_.lastFailoverGapMs;
  b.servedBy = state_.servedBy;
  b.mode = state_.mode;
  if (state_.mode == QLatin1String("virtual-ip") && !state_.virtualIp.isEmpty()) {
    b.egressIp = state_.virtualIp;
  } else if (const NodeInfo* m = state_.findNode(state_.master)) {
    b.egressIp = m->egressIp;
  }
  if (b == banner_) return;
  banner_ = b;
  emit bannerChanged(banner_);
}

void ConsoleSession::onConnection(ConnectionState st, const QString& endpoint, const QString& detail) {
  connState_ = st;
  endpoint_ = endpoint;
  detail_ = detail;
  if (st == ConnectionState::Backoff || st == ConnectionState::Incompatible) errors_.insert(endpoint, detail);
  updateBanner();
  emit connectionChanged(st, endpoint, detail);
}

QString ConsoleSession::lastError() const {
  QStringList lines;
  for (auto it = errors_.cbegin(); it != errors_.cend(); ++it) {
    lines << (it.value().startsWith(it.key()) ? it.value() : QStringLiteral("%1: %2").arg(it.key(), it.value()));
  }
  return lines.join(QLatin1Char('\n'));
}

QString ConsoleSession::statusLine() const {
  int healthy = 0;
  for (const NodeInfo& n : state_.nodes) healthy += n.healthy ? 1 : 0;
  QString master = state_.master.isEmpty() ? QStringLiteral("(none)") : state_.master;
  QString line = QStringLiteral("master %1 term %2 · nodes %3/%4 healthy · %5 via %6")
                     .arg(master)
                     .arg(state_.term)
                     .arg(healthy)
                     .arg(state_.nodes.size())
                     .arg(labelOf(connState_), endpoint_.isEmpty() ? QStringLiteral("-") : endpoint_);
  if (state_.partial) {
    std::vector<std::string> voters;
    for (const QString& v : state_.voters) voters.push_back(v.toStdString());
    line += QStringLiteral(" · ") +
            QString::fromStdString(egw::partialViewNotice(state_.servedBy.toStdString(), voters));
  }
  if (connState_ != ConnectionState::Streaming) {
    // While reconnecting, the reason the last attempt failed says more than "opening Watch".
    const QString why = errors_.isEmpty() ? detail_ : errors_.value(endpoint_, errors_.last());
    if (!why.isEmpty()) line += QStringLiteral(" · ") + why;
  }
  return line;
}

}  // namespace egw::console
