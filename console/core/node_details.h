#pragma once
// The node details panel's content: label/value pairs for one node of the cluster view, with
// the lease timing (lease length, refresh interval, drift margin) the serving agent derives from
// its election settings, and the allowlist verdict with the probe's own words.
#include <QtCore/QList>
#include <QtCore/QPair>
#include <QtCore/QString>

#include "console/core/cluster_types.h"

namespace egw::console {

using DetailRows = QList<QPair<QString, QString>>;
// Empty when the node is not in the state.
DetailRows nodeDetails(const ClusterSnapshot& state, const QString& node);

}  // namespace egw::console
