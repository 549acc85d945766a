// egressctl: the cluster's state and actions for scripts and terminals.
// Synchronous gRPC against the agents' Cluster service; tries each --endpoint in order.
// Exit codes: 0 ok, 1 failure (unreachable, refused, error), 2 usage.
// drift: 0 clean, 1 drift, 2 usage or a bad allowlist file, 3 no agent reachable.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "ctl/format.h"
#include "egressgw/v1/cluster.grpc.pb.h"
#include "egw/allowlist.h"
#include "egw/config.h"
#include "egw/drift.h"
#include "egw/result.h"
#include "egw/tls_files.h"
#include "egw/version.h"
#include "egw/wire_vocabulary.h"

namespace v1 = egressgw::v1;
using namespace egw::ctl;

namespace {

constexpr int kOk = 0, kFail = 1, kUsage = 2;
constexpr int kDrift = 1, kDriftUnknown = 3;  // drift: the cluster could not be asked

// One failure of one endpoint, in words an operator understands.
std::string describe(const grpc::Status& st, std::chrono::milliseconds timeout) {
  const std::string& m = st.error_message();
  if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
    return "no answer within " + std::to_string(timeout.count()) + " ms";
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
    if (m.find("Connection refused") != std::string::npos) return "connection refused";
    if (m.find("DNS resolution failed") != std::string::npos) return "cannot resolve the host name";
    if (m.find("No route to host") != std::string::npos) return "no route to host";
    if (m.find("Ssl handshake failed") != std::string::npos || m.find("handshake") != std::string::npos)
      return "TLS handshake failed (" + m + ")";
  }
  // The agent's message names the call, the role it needs and the certificate presented, e.g.
  // "handover to egress-2 needs an operator certificate; this one is a viewer (CN=bob)".
  if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED)
    return "permission denied: " + m + " (--tls-dir must hold a certificate of the role needed; docs/security.md)";
  if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED)
    return "not authenticated: " + m + " (use --tls-dir DIR with ca.pem, client.pem and client-key.pem)";
  return m.empty() ? "error " + std::to_string(st.error_code()) : m;
}

class Client {
 public:
  Client(std::vector<std::string> endpoints, std::shared_ptr<grpc::ChannelCredentials> creds,
         std::chrono::milliseconds timeout)
      : endpoints_(std::move(endpoints)), creds_(std::move(creds)), timeout_(timeout) {}

  std::chrono::milliseconds timeout() const { return timeout_; }

  // Calls fn(stub, ctx) on each endpoint in order until one answers. Moves on only when the
  // agent could not have acted on the request: UNAVAILABLE always; DEADLINE_EXCEEDED only for
  // reads (a slow mutating call may have happened). Sets endpoint_ to the one that answered.
  template <typename Fn>
  egw::Status call(Fn&& fn, bool mutating) {
    std::string errors;
    for (const auto& ep : endpoints_) {
      auto stub = v1::Cluster::NewStub(grpc::CreateChannel(ep, creds_));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
      grpc::Status st = fn(*stub, ctx);
      if (st.ok()) {
        endpoint_ = ep;
        return {};
      }
      bool next = st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                  (!mutating && st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
      if (!next) return egw::Status::failure(ep + ": " + describe(st, timeout_));
      errors += (errors.empty() ? "" : "; ") + ep + ": " + describe(st, timeout_);
    }
    return egw::Status::failure("cannot reach any agent: " + errors);
  }

  // The first update of a Watch stream, i.e. the current cluster state.
  egw::Result<v1::ClusterState> state() {
    v1::ClusterState out;
    auto st = call(
        [&](v1::Cluster::Stub& stub, grpc::ClientContext& ctx) {
          v1::WatchRequest req;
          // Only the snapshot is wanted; the stream is cancelled after it (the server writes one
          // update at a time, so at most one event is in flight).
          auto reader = stub.Watch(&ctx, req);
          v1::WatchUpdate u;
          if (reader->Read(&u) && u.has_snapshot()) {
            out = u.snapshot();
            ctx.TryCancel();
            reader->Finish();
            return grpc::Status::OK;
          }
          return reader->Finish();
        },
        false);
    if (!st.ok()) return egw::Error{st.error()};
    if (auto e = checkProtocol(out); !e.ok()) return egw::Error{e.error()};
    return out;
  }

  egw::Status checkProtocol(const v1::ClusterState& s) const {
    if (s.protocol() != egw::kProtocolVersion)
      return egw::Status::failure(endpoint_ + ": the agent speaks protocol " + std::to_string(s.protocol()) +
                                  ", this egressctl speaks " + std::to_string(egw::kProtocolVersion) +
                                  "; use an egressctl of the agents' version");
    return {};
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  const std::shared_ptr<grpc::ChannelCredentials>& creds() const { return creds_; }

 private:
  std::vector<std::string> endpoints_;
  std::shared_ptr<grpc::ChannelCredentials> creds_;
  std::chrono::milliseconds timeout_;
  std::string endpoint_;
};

int fail(const std::string& msg) {
  std::cerr << "egressctl: " << msg << "\n";
  return kFail;
}

// Writes the whole file next to its destination and renames it into place, so readers never
// see half a file.
egw::Status writeAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return egw::Status::failure("cannot write " + path + ": " + std::strerror(errno));
  const char* p = data.data();
  std::size_t left = data.size();
  int err = 0;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    return egw::Status::failure("cannot write " + path + ": " + std::strerror(err));
  }
  return {};
}

// All events after `since`, page by page.
egw::Status listEvents(Client& c, std::uint64_t since, const std::function<void(const v1::Event&, std::uint64_t)>& out,
                       std::size_t maxPages = SIZE_MAX) {
  bool more = true;
  for (std::size_t page = 0; more && page < maxPages; ++page) {
    v1::ListEventsResponse resp;
    auto st = c.call(
        [&](v1::Cluster::Stub& stub, grpc::ClientContext& ctx) {
          v1::ListEventsRequest req;
          req.set_after_cursor(since);
          req.set_page_size(1000);
          resp.Clear();
          return stub.ListEvents(&ctx, req, &resp);
        },
        false);
    if (!st.ok()) return st;
    for (int i = 0; i < resp.events_size(); ++i) out(resp.events(i), resp.cursors(i));
    since = resp.next_cursor();
    more = resp.more();
  }
  return {};
}

// events --follow: a Watch stream, resumed from the last cursor after any failure (on the same
// agent), or replayed and deduplicated by (origin, seq) when another agent answers.
int followEvents(Client& c, std::uint64_t since, bool json) {
  std::set<std::pair<std::string, std::uint64_t>> seen;
  std::string agent;  // served_by of the stream the cursor belongs to
  auto backoff = std::chrono::milliseconds(250);
  bool everConnected = false;
  for (;;) {
    std::string lastError;
    for (const auto& ep : c.endpoints()) {
      auto stub = v1::Cluster::NewStub(grpc::CreateChannel(ep, c.creds()));
      grpc::ClientContext ctx;
      v1::WatchRequest req;
      req.set_since_seq(since);
      req.set_deltas(true);  // state changes are skipped here: let them be small
      auto reader = stub->Watch(&ctx, req);
      v1::WatchUpdate u;
      if (!reader->Read(&u)) {
        lastError = ep + ": " + describe(reader->Finish(), c.timeout());
        continue;
      }
      if (u.has_snapshot()) {
        if (u.snapshot().protocol() != egw::kProtocolVersion)
          return fail(ep + ": the agent speaks protocol " + std::to_string(u.snapshot().protocol()) +
                      ", this egressctl speaks " + std::to_string(egw::kProtocolVersion));
        if (!agent.empty() && u.snapshot().served_by() != agent && since != 0) {
          // Another agent: our cursor means nothing there. Start over; seen filters repeats.
          ctx.TryCancel();
          reader->Finish();
          since = 0;
          agent = u.snapshot().served_by();
          lastError.clear();
          break;
        }
        agent = u.snapshot().served_by();
      }
      everConnected = true;
      backoff = std::chrono::milliseconds(250);
      do {
        if (!u.has_event()) continue;
        since = u.cursor();
        if (!seen.insert({u.event().origin(), u.event().seq()}).second) continue;
        std::cout << (json ? eventJson(u.event(), u.cursor()) : eventLine(u.event(), u.cursor())) << std::endl;
      } while (reader->Read(&u));
      auto st = reader->Finish();
      std::cerr << "egressctl: stream from " << ep << " ended (" << describe(st, c.timeout()) << "); reconnecting\n";
      lastError.clear();
      break;
    }
    if (!lastError.empty()) {
      if (!everConnected) return fail("cannot reach any agent: " + lastError);
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

// --tls-dir DIR: DIR/ca.pem, DIR/client.pem, DIR/client-key.pem (egw/tls_files.h).
std::shared_ptr<grpc::ChannelCredentials> credentials(const std::string& tlsDir, std::string& err) {
  if (tlsDir.empty()) return grpc::InsecureChannelCredentials();
  auto pem = egw::readClientTls(tlsDir);
  if (!pem) {
    err = pem.error();
    return nullptr;
  }
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = pem->ca;
  o.pem_cert_chain = pem->cert;
  o.pem_private_key = pem->key;
  return grpc::SslCredentials(o);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"egressctl: status, events, allowlist export, candidacy and handover of an egress gateway cluster"};
  app.footer(R"(Examples:
  egressctl status                                  # master, term and every node (agent on 127.0.0.1:7401)
  egressctl --endpoint 10.0.0.11:7401 --endpoint 10.0.0.12:7401 status -o json
  egressctl events --since 120 -o json              # history after cursor 120, one JSON object a line
  egressctl events --follow                         # live events; resumes after reconnects
  egressctl candidacy enable egress-4               # refused until its allowlist probe verified the IP
  egressctl candidacy enable egress-4 --force --reason "NET-42: owner confirmed"
  egressctl handover --to egress-2                  # planned: the master hands over at once
  egressctl allowlist export --format csv --output allowlist.csv
  egressctl drift --allowlist partner-allowlist.csv # the external service's list against the cluster

Endpoints are tried in order; the first that answers serves the command. With --tls-dir (mutual
TLS), DIR holds ca.pem, client.pem and client-key.pem, as scripts/make-certs.sh makes them: an
operator certificate may do everything, a viewer certificate only read (status, events, export).
Exit codes: 0 ok, 1 failure (no agent reachable, request refused, error), 2 usage error.
drift: 0 clean, 1 drift (missing, stale, unverified or rejected IPs), 2 usage error or a bad
allowlist file (the message names the file and line), 3 no agent reachable.
)");
  std::vector<std::string> endpoints{"127.0.0.1:7401"};
  std::string tlsDir, timeoutText = "3s";
  app.add_option("--endpoint", endpoints, "agent API endpoint HOST:PORT; repeat to fail over between agents")
      ->default_str("127.0.0.1:7401")
      ->delimiter(',');
  app.add_option("--tls-dir", tlsDir, "mutual TLS: DIR/ca.pem, DIR/client.pem, DIR/client-key.pem (scripts/make-certs.sh)");
  app.add_option("--timeout", timeoutText, "deadline of each call, e.g. 500ms, 3s")->default_str("3s");
  app.set_version_flag("-V,--version", std::string("egressctl ") + egw::kVersion);
  app.require_subcommand(1);

  std::string output = "table";
  auto* status = app.add_subcommand("status", "show the master, term and every node");
  status->add_option("-o,--output", output, "table or json")->check(CLI::IsMember({"table", "json"}));

  std::uint64_t since = 0;
  bool follow = false;
  std::string eventsOut = "table";
  auto* events = app.add_subcommand("events", "show failover, election, health and candidacy events");
  events->add_option("--since", since, "only events after this cursor (the number after # / \"cursor\")");
  events->add_flag("-f,--follow", follow, "keep streaming new events (Ctrl-C to stop)");
  events->add_option("-o,--output", eventsOut, "table or json (one object a line)")
      ->check(CLI::IsMember({"table", "json"}));

  std::string candAction, candNode;
  bool force = false;
  auto* cand = app.add_subcommand("candidacy", "enable or disable a node's candidacy for master");
  cand->add_option("action", candAction, "enable or disable")->required()->check(CLI::IsMember({"enable", "disable"}));
  cand->add_option("node", candNode, "node name")->required();
  cand->add_flag("--force", force, "enable even though the allowlist probe has not verified the node's IP");
  std::string candReason;
  cand->add_option("--reason", candReason,
                   "a note journaled with the change, e.g. the ticket in which the service's owner confirmed the IP");

  std::string handoverTo;
  auto* handover = app.add_subcommand("handover", "planned handover: the master steps down in favour of a candidate");
  handover->add_option("--to", handoverTo, "node to hand over to (default: the best healthy candidate)");

  std::string format = "csv", outFile;
  auto* allowlist = app.add_subcommand("allowlist", "the source IPs the external service must allow");
  allowlist->require_subcommand(1);
  auto* exportCmd = allowlist->add_subcommand(
      "export", "every egress node's IP (and the VIP in virtual-ip mode), CSV header ip,node,role,state,first_seen");
  exportCmd->add_option("--format", format, "csv, txt or json")->check(CLI::IsMember({"csv", "txt", "json"}));
  exportCmd->add_option("--output", outFile, "write to FILE (atomically) instead of stdout");

  std::string allowFile, driftOut = "table", allowFormat = "auto";
  bool skipBadRows = false;
  auto* drift = app.add_subcommand(
      "drift", "compare the external service's allowlist (CSV or text file) with the cluster's egress IPs and probes");
  drift->add_option("--allowlist", allowFile, "the allowlist file as the external service has it; - for stdin")->required();
  drift->add_option("-o,--output", driftOut, "table or json")->check(CLI::IsMember({"table", "json"}));
  drift->add_option("--format", allowFormat, "auto, csv or txt")->check(CLI::IsMember({"auto", "csv", "txt"}));
  drift->add_flag("--skip-bad-rows", skipBadRows, "leave out bad rows of the file (listed as skipped) instead of failing");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }

  auto timeout = egw::parseDuration(timeoutText);
  if (!timeout || timeout->count() <= 0) {
    std::cerr << "egressctl: --timeout: not a duration: '" << timeoutText << "' (e.g. 500ms, 3s)\n";
    return kUsage;
  }
  for (const auto& ep : endpoints) {
    if (!egw::Endpoint::parse(ep)) {
      std::cerr << "egressctl: --endpoint: expected HOST:PORT, got '" << ep << "'\n";
      return kUsage;
    }
  }
  std::string credErr;
  auto creds = credentials(tlsDir, credErr);
  if (!creds) return fail("--tls-dir: " + credErr);
  Client client(endpoints, creds, std::chrono::milliseconds(timeout->count()));

  if (drift->parsed()) {
    // The file first: a bad file is the operator's to fix, whatever the cluster says.
    auto text = egw::readAllowlistFile(allowFile);
    if (!text.ok()) {
      std::cerr << "egressctl: " << text.error() << "\n";
      return kUsage;
    }
    const std::string source = allowFile == "-" ? "<stdin>" : allowFile;
    egw::AllowlistOptions opts;
    opts.format = allowFormat == "csv" ? egw::AllowlistFormat::Csv
                  : allowFormat == "txt" ? egw::AllowlistFormat::Text
                                         : egw::AllowlistFormat::Auto;
    opts.skipBadRows = skipBadRows;
    opts.source = source;
    auto list = egw::parseAllowlist(*text, opts);
    if (!list.ok()) {
      // Suggest skipping only when it would help (not for an unterminated quote or a binary file).
      auto skipping = opts;
      skipping.skipBadRows = true;
      const bool skipHelps = !skipBadRows && egw::parseAllowlist(*text, skipping).ok();
      std::cerr << "egressctl: " << list.error() << "\n"
                << "egressctl: nothing checked; fix the file" << (skipHelps ? ", or leave the bad rows out with --skip-bad-rows" : "")
                << "\n";
      return kUsage;
    }
    for (const auto& n : list->skipped) std::cerr << "egressctl: " << source << ": " << n.str() << " (skipped)\n";
    for (const auto& n : list->warnings) std::cerr << "egressctl: " << source << ": " << n.str() << " (warning)\n";
    auto s = client.state();
    if (!s.ok()) {
      std::cerr << "egressctl: " << s.error() << "\n";
      return kDriftUnknown;
    }
    auto report = egw::computeDrift(*list, driftInput(*s));
    std::cout << (driftOut == "json" ? driftJson(report, *list, source) : driftTable(report)) << std::flush;
    return report.clean() ? kOk : kDrift;
  }

  if (status->parsed()) {
    auto s = client.state();
    if (!s.ok()) return fail(s.error());
    std::cout << (output == "json" ? statusJson(*s) : statusTable(*s));
    return kOk;
  }

  if (events->parsed()) {
    bool json = eventsOut == "json";
    if (follow) return followEvents(client, since, json);
    auto st = listEvents(client, since, [&](const v1::Event& e, std::uint64_t cursor) {
      std::cout << (json ? eventJson(e, cursor) : eventLine(e, cursor)) << '\n';
    });
    std::cout.flush();
    return st.ok() ? kOk : fail(st.error());
  }

  if (cand->parsed()) {
    if (force && candAction != "enable") {
      std::cerr << "egressctl: --force only applies to 'candidacy enable'\n";
      return kUsage;
    }
    // Candidacy is kept by the node's own agent (it runs the allowlist probe that gates it):
    // find that agent's API endpoint in the cluster view and ask it directly.
    auto s = client.state();
    if (!s.ok()) return fail(s.error());
    // A node missing from the view (or without an API endpoint) is left to the agents to judge:
    // they name what is wrong with the request.
    std::vector<std::string> targets = client.endpoints();
    for (const auto& n : s->nodes())
      if (n.name() == candNode && !n.api_endpoint().empty()) targets = {n.api_endpoint()};
    Client nodeClient(targets, client.creds(), client.timeout());
    v1::SetCandidacyResponse resp;
    auto st = nodeClient.call(
        [&](v1::Cluster::Stub& stub, grpc::ClientContext& ctx) {
          v1::SetCandidacyRequest req;
          req.set_node(candNode);
          req.set_enable(candAction == "enable");
          req.set_force(force);
          req.set_reason(candReason);
          // Enabling probes the allowlist once more first: allow for the probe's timeout.
          ctx.set_deadline(std::chrono::system_clock::now() + std::max(client.timeout(), std::chrono::milliseconds(10000)));
          return stub.SetCandidacy(&ctx, req, &resp);
        },
        true);
    if (!st.ok()) return fail(st.error());
    if (!resp.ok()) return fail("refused: " + resp.message());
    std::cout << (resp.message().empty() ? "candidacy of " + candNode + " " + candAction + "d" : resp.message()) << '\n';
    return kOk;
  }

  if (handover->parsed()) {
    v1::HandoverResponse resp;
    auto st = client.call(
        [&](v1::Cluster::Stub& stub, grpc::ClientContext& ctx) {
          // A handover takes an election round trip and a datapath switch: allow more than reads.
          ctx.set_deadline(std::chrono::system_clock::now() + std::max(client.timeout(), std::chrono::milliseconds(10000)));
          v1::HandoverRequest req;
          req.set_to(handoverTo);
          return stub.Handover(&ctx, req, &resp);
        },
        true);
    if (!st.ok()) return fail(st.error());
    if (!resp.ok()) return fail("refused: " + resp.message());
    std::cout << "new master: " << resp.new_master();
    if (!resp.message().empty()) std::cout << " (" << resp.message() << ")";
    std::cout << '\n';
    return kOk;
  }

  if (exportCmd->parsed()) {
    auto s = client.state();
    if (!s.ok()) return fail(s.error());
    // first_seen: the earliest node_joined event of each node, if the history still has it.
    std::map<std::string, std::int64_t> firstSeen;
    (void)listEvents(
        client, 0,
        [&](const v1::Event& e, std::uint64_t) {
          if (egw::eventKindOf(e) != egw::EventKind::NodeJoined || e.node().empty()) return;
          auto [it, fresh] = firstSeen.emplace(e.node(), e.time_ms());
          if (!fresh && e.time_ms() < it->second) it->second = e.time_ms();
        },
        100);
    auto rows = allowlistRows(*s, firstSeen);
    std::string text = format == "csv" ? allowlistCsv(rows) : format == "txt" ? allowlistTxt(rows, s->served_by())
                                                                              : allowlistJson(rows);
    if (outFile.empty()) {
      std::cout << text << std::flush;
      if (!std::cout) return fail("cannot write to standard output");
      return kOk;
    }
    auto st = writeAtomically(outFile, text);
    if (!st.ok()) return fail(st.error());
    std::cerr << "wrote " << rows.size() << " addresses to " << outFile << "\n";
    return kOk;
  }
  return kUsage;
}
