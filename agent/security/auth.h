#pragma once
// Who is calling, from the TLS client certificate, and what each role may do. docs/security.md.
//
// Role scheme: the certificate's Organizational Unit, exactly one of OU=node, OU=observer,
// OU=operator, OU=viewer (scripts/make-certs.sh writes them). gRPC has already verified the chain against the
// cluster CA (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY) before a handler runs;
// this file only reads the verified subject from the call's auth context.
//
//   Cluster API   Watch, ListEvents: node, operator, viewer; SetCandidacy, Handover,
//                 ProbeAllowlist: operator. An observer certificate: nothing.
//   Peer service  node, and the certificate's CN must be the sender the message names; or
//                 observer (one certificate shared by every worker, any CN): only a status
//                 report of an observer about itself (not a voter, not a candidate).
// Without TLS (loopback, or `insecure: true`) there are no certificates: everything is allowed and
// limits count per client address.
#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "egw/result.h"

namespace egw::auth {

enum class Role { None, Node, Operator, Viewer, Observer };
// The name in the shared observer certificate's SAN (DNS:observer): what a voter checks when it
// pushes to a worker that reported with that certificate.
inline constexpr const char* kObserverServerName = "observer";
const char* roleName(Role r);

// A subject as gRPC reports it (GRPC_X509_SUBJECT_PROPERTY_NAME): RFC 2253, most specific RDN
// first, e.g. "CN=egress-1,OU=node,O=egress-gateway", with \-escapes for , + " \ < > ; = and
// \XX hex for other bytes.
struct Subject {
  std::string commonName;             // the last CN if several
  std::vector<std::string> orgUnits;  // every OU, in order
};
// nullopt when the text is not RFC 2253 (an attribute without '=', a dangling escape).
std::optional<Subject> parseSubject(std::string_view rfc2253);

// The role named by the subject's OUs. Fails (with the reason) when no OU names a role, or when
// two different roles are named.
Result<Role> roleOf(const Subject& s);

struct Identity {
  bool certified = false;    // the call came with a verified client certificate
  std::string commonName;
  Role role = Role::None;
  std::string roleProblem;   // why role is None, for the refusal message
  std::string address;       // "ipv4:10.0.0.5" (the port is dropped)

  // What limits count by: "cn:alice" with a certificate (one person, any number of
  // connections and addresses), else the client address. An observer certificate is shared by
  // every worker, so it counts per address: "cn:observer@ipv4:10.0.0.21".
  std::string key() const;
  // For messages: "viewer certificate CN=alice", "certificate CN=x without a role", "ipv4:1.2.3.4".
  std::string describe() const;
};

// "ipv4:10.0.0.5:51234" -> "ipv4:10.0.0.5"; "ipv6:[::1]:5" -> "ipv6:[::1]"; anything else as is.
std::string addressOf(const std::string& grpcPeer);

// From the properties gRPC reports for a call (pure: testable without sockets).
// `securityType` is GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME ("ssl" with TLS), `subject` the
// x509_subject property (empty when the client sent no certificate).
Identity identityFrom(const std::string& securityType, const std::string& subject, const std::string& grpcPeer);
// The same from a live call's auth context.
Identity identify(const grpc::ServerContextBase& ctx);

enum class ApiAccess { Read, Mutate };
// With `certificatesRequired` (the agent has tls): Read needs any role, Mutate needs operator.
// PERMISSION_DENIED messages name the call, the role needed and the role presented, e.g.
// "handover to egress-2 needs an operator certificate; this one is a viewer (CN=bob)".
grpc::Status authorizeApi(const Identity& who, ApiAccess access, const std::string& what, bool certificatesRequired);

// What authorizePeer needs of a peer message (pure, so the rules test without protobuf).
struct PeerClaim {
  std::string from;           // the sender the message names
  bool observerReport = false;  // a status report about `from` itself, as an observer: role
                                // OBSERVER, not a voter, no candidacy
  std::string kind;           // for messages: "VOTE", "STATUS_REPORT", ...
};
// Peer service, with TLS: a node certificate whose CN is `claim.from`, or an observer
// certificate sending an observer report. Whether that node may speak at all (voter or joined
// member, a name no voter or candidate holds) is the agent's to decide.
grpc::Status authorizePeer(const Identity& who, const PeerClaim& claim);

}  // namespace egw::auth
