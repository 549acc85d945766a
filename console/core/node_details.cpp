#include "console/core/node_details.h"

namespace egw::console {

DetailRows nodeDetails(const ClusterSnapshot& s, const QString& name) {
  const NodeInfo* n = s.findNode(name);
  if (n == nullptr) return {};
  auto orDash = [](const QString& v) { return v.isEmpty() ? QStringLiteral("—") : v; };
  DetailRows d;
  d << qMakePair(QStringLiteral("Node"), n->name);
  d << qMakePair(QStringLiteral("Role"), labelOf(n->role) + (n->voter ? QStringLiteral(" · voter") : QString()));
  d << qMakePair(QStringLiteral("Candidacy"), labelOf(n->candidacy) +
                                                   (n->isEgress() ? QStringLiteral(" · priority %1").arg(n->priority) : QString()));
  d << qMakePair(QStringLiteral("Address"), orDash(n->address));
  d << qMakePair(QStringLiteral("API endpoint"), orDash(n->apiEndpoint));
  d << qMakePair(QStringLiteral("Egress"), n->egressIp.isEmpty() && n->egressInterface.isEmpty()
                                               ? QStringLiteral("—")
                                               : QStringLiteral("%1 on %2").arg(orDash(n->egressIp), orDash(n->egressInterface)));
  d << qMakePair(QStringLiteral("Health"), n->healthy ? QStringLiteral("healthy")
                                                      : QStringLiteral("unhealthy: %1").arg(n->healthProblems.isEmpty()
                                                                                                ? QStringLiteral("(no reason given)")
                                                                                                : n->healthProblems.join(QStringLiteral("; "))));
  d << qMakePair(QStringLiteral("Datapath"), n->datapathReady ? QStringLiteral("applied") : QStringLiteral("not applied"));
  QString verdict = labelOf(n->allowlist);
  if (!n->allowlistDetail.isEmpty()) verdict += QStringLiteral(": ") + n->allowlistDetail;
  d << qMakePair(QStringLiteral("Allowlist"), n->isEgress() ? verdict : QStringLiteral("— (not an egress node)"));
  // The figures are the serving agent's (its election settings); every node should run the same.
  const QString from = s.servedBy.isEmpty() ? QString() : QStringLiteral(" (as %1 computes it)").arg(s.servedBy);
  if (s.leaseMs > 0) {
    d << qMakePair(QStringLiteral("Lease"), formatDuration(s.leaseMs) + from);
    d << qMakePair(QStringLiteral("Lease refresh"), QStringLiteral("every %1").arg(formatDuration(s.leaseRefreshMs)));
    d << qMakePair(QStringLiteral("Drift margin"), formatDuration(s.driftMarginMs));
  } else {
    d << qMakePair(QStringLiteral("Lease"), QStringLiteral("not reported by %1").arg(orDash(s.servedBy)));
  }
  d << qMakePair(QStringLiteral("Term"), QString::number(n->term));
  d << qMakePair(QStringLiteral("Version"), QStringLiteral("%1 (protocol %2)").arg(orDash(n->version)).arg(n->protocol));
  return d;
}

}  // namespace egw::console
