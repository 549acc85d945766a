#pragma once
// The cluster API's messages as the console's plain types (cluster_types.h). The client uses it
// for every message it receives; tests use it to feed models exactly what the client would.
#include "console/core/cluster_types.h"
#include "egressgw/v1/cluster.pb.h"

namespace egw::console {

Candidacy fromProto(egressgw::v1::Candidacy c);
AllowlistVerdict fromProto(egressgw::v1::AllowlistVerdict v);
NodeInfo fromProto(const egressgw::v1::NodeStatus& n);  // role: egw::roleFromProto
ClusterSnapshot fromProto(const egressgw::v1::ClusterState& s);
ClusterDelta fromProto(const egressgw::v1::ClusterDelta& d);
ClusterEvent fromProto(const egressgw::v1::Event& e);  // the kind as received, known or not

}  // namespace egw::console
