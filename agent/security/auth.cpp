#include "agent/security/auth.h"

#include <grpc/grpc_security_constants.h>

namespace egw::auth {

const char* roleName(Role r) {
  switch (r) {
    case Role::None: return "none";
    case Role::Node: return "node";
    case Role::Operator: return "operator";
    case Role::Viewer: return "viewer";
    case Role::Observer: return "observer";
  }
  return "?";
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Subject> parseSubject(std::string_view text) {
  Subject out;
  std::size_t i = 0;
  while (i < text.size()) {
    // One attribute "TYPE=VALUE", ended by an unescaped ',' (next RDN) or '+' (same RDN).
    auto eq = text.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string type(text.substr(i, eq - i));
    std::string value;
    std::size_t j = eq + 1;
    for (; j < text.size() && text[j] != ',' && text[j] != '+'; ++j) {
      if (text[j] != '\\') {
        value += text[j];
        continue;
      }
      if (j + 1 >= text.size()) return std::nullopt;
      const int hi = hexValue(text[j + 1]);
      const int lo = j + 2 < text.size() ? hexValue(text[j + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        value += static_cast<char>(hi * 16 + lo);
        j += 2;
      } else {
        value += text[j + 1];
        ++j;
      }
    }
    if (type.empty()) return std::nullopt;
    if (type == "CN" || type == "2.5.4.3") out.commonName = value;
    else if (type == "OU" || type == "2.5.4.11") out.orgUnits.push_back(value);
    i = j + 1;
    if (j < text.size() && j + 1 == text.size()) return std::nullopt;  // trailing separator
  }
  return out;
}

Result<Role> roleOf(const Subject& s) {
  std::optional<Role> found;
  for (const auto& ou : s.orgUnits) {
    Role r = ou == "node"       ? Role::Node
             : ou == "operator" ? Role::Operator
             : ou == "viewer"   ? Role::Viewer
             : ou == "observer" ? Role::Observer
                                : Role::None;
    if (r == Role::None) continue;
    if (found && *found != r)
      return Result<Role>::failure(std::string("names two roles (OU=") + roleName(*found) + " and OU=" + roleName(r) + ")");
    found = r;
  }
  if (!found) return Result<Role>::failure("has no role (expected OU=node, OU=observer, OU=operator or OU=viewer)");
  return *found;
}

std::string addressOf(const std::string& grpcPeer) {
  if (grpcPeer.rfind("ipv4:", 0) == 0 || grpcPeer.rfind("ipv6:", 0) == 0) {
    auto colon = grpcPeer.rfind(':');
    if (colon > 4) return grpcPeer.substr(0, colon);
  }
  return grpcPeer;
}

std::string Identity::key() const {
  if (!certified) return address;
  if (role == Role::Observer) return "cn:" + commonName + "@" + address;
  return "cn:" + commonName;
}

std::string Identity::describe() const {
  if (!certified) return address;
  if (role == Role::None) return "certificate CN=" + commonName + " without a role";
  return std::string(roleName(role)) + " certificate CN=" + commonName;
}

Identity identityFrom(const std::string& securityType, const std::string& subject, const std::string& grpcPeer) {
  Identity id;
  id.address = addressOf(grpcPeer);
  if (securityType != GRPC_SSL_TRANSPORT_SECURITY_TYPE || subject.empty()) return id;
  id.certified = true;
  auto s = parseSubject(subject);
  if (!s) {
    id.commonName = subject.substr(0, 200);
    id.roleProblem = "has a subject that cannot be read: " + id.commonName;
    return id;
  }
  id.commonName = s->commonName;
  auto role = roleOf(*s);
  if (role) id.role = *role;
  else id.roleProblem = role.error();
  return id;
}

Identity identify(const grpc::ServerContextBase& ctx) {
  std::string type, subject;
  if (auto auth = ctx.auth_context()) {
    auto first = [&](const char* name) {
      auto v = auth->FindPropertyValues(name);
      return v.empty() ? std::string() : std::string(v.front().data(), v.front().size());
    };
    type = first(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
    subject = first(GRPC_X509_SUBJECT_PROPERTY_NAME);
  }
  return identityFrom(type, subject, ctx.peer());
}

namespace {
std::string presented(const Identity& who) {
  if (who.role == Role::None) return "this certificate (CN=" + who.commonName + ") " + who.roleProblem;
  const bool vowel = who.role == Role::Operator || who.role == Role::Observer;
  return std::string("this one is a") + (vowel ? "n " : " ") + roleName(who.role) +
         " (CN=" + who.commonName + ")";
}
}  // namespace

grpc::Status authorizeApi(const Identity& who, ApiAccess access, const std::string& what, bool certificatesRequired) {
  if (!certificatesRequired) return grpc::Status::OK;
  if (!who.certified)
    return {grpc::StatusCode::UNAUTHENTICATED, what + " needs a client certificate of the cluster CA"};
  if (who.role == Role::None)
    return {grpc::StatusCode::PERMISSION_DENIED, what + " needs a certificate with a role; " + presented(who)};
  if (who.role == Role::Observer)
    return {grpc::StatusCode::PERMISSION_DENIED,
            what + " needs an operator or viewer certificate; " + presented(who) +
                ", which only reports a worker's own status to the voters"};
  if (access == ApiAccess::Mutate && who.role != Role::Operator)
    return {grpc::StatusCode::PERMISSION_DENIED, what + " needs an operator certificate; " + presented(who)};
  return grpc::Status::OK;
}

grpc::Status authorizePeer(const Identity& who, const PeerClaim& claim) {
  const std::string& claimedFrom = claim.from;
  if (!who.certified)
    return {grpc::StatusCode::UNAUTHENTICATED, "peer messages need a node certificate of the cluster CA"};
  if (who.role == Role::Observer) {
    if (claim.observerReport) return grpc::Status::OK;
    return {grpc::StatusCode::PERMISSION_DENIED,
            claim.kind + " from '" + claimedFrom.substr(0, 63) + "' needs a node certificate; " + presented(who) +
                ", which may only report an observer's own status (no vote, no candidacy, no handover)"};
  }
  if (who.role != Role::Node)
    return {grpc::StatusCode::PERMISSION_DENIED, "peer messages need a node certificate; " + presented(who)};
  if (who.commonName != claimedFrom)
    return {grpc::StatusCode::PERMISSION_DENIED, "the node certificate is " + who.commonName +
                                                     "'s (CN=" + who.commonName + ") but the message claims to be from '" +
                                                     claimedFrom.substr(0, 63) + "'"};
  return grpc::Status::OK;
}

}  // namespace egw::auth
