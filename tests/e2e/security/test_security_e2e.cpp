// Mutual TLS with roles, end to end: real egress-agent processes (--no-datapath) on a loopback
// /24 of their own, real certificates from scripts/make-certs.sh, real gRPC clients and egressctl.
//
//   - an impostor voter (the name of a configured voter, a certificate from another CA, or no
//     certificate at all) adds nothing to a quorum: one real voter and the impostor elect nobody;
//   - candidates with a foreign certificate or none never join, never become master, and see no
//     master themselves; Watch without a cluster certificate fails;
//   - a node certificate cannot speak as another node, a viewer certificate cannot speak on the
//     peer service, a node that has not joined cannot ask for votes (PERMISSION_DENIED, logged);
//   - a viewer can Watch and ListEvents but not Handover; an operator can hand over (gRPC and egressctl).
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <memory>
#include <optional>

#include "egressgw/v1/cluster.grpc.pb.h"
#include "egressgw/v1/peer.grpc.pb.h"
#include "egw/version.h"
#include "support/paths.h"
#include "support/run_process.h"

namespace pb = egressgw::v1;

namespace {

QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}
bool writeText(const QString& path, const QString& text) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text.toUtf8()) >= 0;
}

struct Pem {
  std::string ca, cert, key;
};

std::shared_ptr<grpc::ChannelCredentials> tlsCreds(const Pem& p) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = p.ca;
  o.pem_cert_chain = p.cert;
  o.pem_private_key = p.key;
  return grpc::SslCredentials(o);
}

egwtest::Run run(const QString& exe, const QStringList& args) { return egwtest::runProcess(exe, args, 30000); }

}  // namespace

class TestSecurityE2e : public QObject {
  Q_OBJECT

  struct Node {
    QString name, host, config, log, stateDir;
    QString tlsDir;        // certs dir holding node.pem; empty: no tls
    bool voter = true;
    int priority = 100;
    std::unique_ptr<QProcess> proc;
    QString peer() const { return host + QStringLiteral(":7400"); }
    QString api() const { return host + QStringLiteral(":7401"); }
    bool running() const { return proc && proc->state() == QProcess::Running; }
  };

  QTemporaryDir dir_;
  QString certs_, rogueCerts_;
  QString net_;  // "127.x.y."
  std::map<QString, Node> nodes_;

  QString host(int i) const { return net_ + QString::number(i); }

  Pem pem(const QString& d, const QString& certName, const QString& keyName, const QString& caDir = {}) {
    return {readText((caDir.isEmpty() ? d : caDir) + QStringLiteral("/ca.pem")).toStdString(),
            readText(d + QLatin1Char('/') + certName).toStdString(),
            readText(d + QLatin1Char('/') + keyName).toStdString()};
  }
  Pem client(const QString& name) { return pem(certs_ + QLatin1Char('/') + name, QStringLiteral("client.pem"), QStringLiteral("client-key.pem")); }
  Pem nodeCert(const QString& name) { return pem(certs_ + QLatin1Char('/') + name, QStringLiteral("node.pem"), QStringLiteral("node-key.pem")); }

  bool makeCerts(const QString& d, const QStringList& args) {
    auto r = run(egwtest::sourcePath(u"scripts/make-certs.sh"), QStringList{QStringLiteral("--dir"), d} + args);
    if (r.code != 0) qWarning("make-certs.sh %s: %s", qPrintable(args.join(QLatin1Char(' '))), qPrintable(r.err));
    return r.code == 0;
  }

  // `i` tells apart several agents of one name (impostors); `at` is the host number it listens on.
  Node& add(const QString& name, int i, int at, const QString& tlsDir, bool voter, int priority = 100) {
    Node n;
    n.name = name;
    n.host = host(at);
    n.config = dir_.filePath(name + QStringLiteral("-%1.yaml").arg(i));
    n.log = dir_.filePath(name + QStringLiteral("-%1.log").arg(i));
    n.stateDir = dir_.filePath(name + QStringLiteral("-%1-state").arg(i));
    n.tlsDir = tlsDir;
    n.voter = voter;
    n.priority = priority;
    auto key = name + QStringLiteral("@") + QString::number(i);
    nodes_[key] = std::move(n);
    auto& ref = nodes_[key];
    QString voters;
    for (int v = 1; v <= 3; ++v)
      voters += QStringLiteral("  - { name: egress-%1, address: \"%2:7400\" }\n").arg(v).arg(host(v));
    QString tls = tlsDir.isEmpty() ? QString()
                                   : QStringLiteral("tls: { ca: %1/ca.pem, cert: %1/node.pem, key: %1/node-key.pem }\n").arg(tlsDir);
    writeText(ref.config, QStringLiteral("node: { name: %1, address: %2, egress: { interface: lo, ip: %2 }, candidate: true, priority: %3 }\n"
                                         "listen: { peer: \"%2:7400\", api: \"%2:7401\" }\n"
                                         "voters:\n%4"
                                         "election: { heartbeat_interval: 100ms, election_timeout: 600ms }\n"
                                         "%5state_dir: %6\nlog: { level: debug }\n")
                              .arg(name, ref.host)
                              .arg(priority)
                              .arg(voters, tls, ref.stateDir));
    return ref;
  }
  Node& node(const QString& name, int i) { return nodes_.at(name + QStringLiteral("@") + QString::number(i)); }

  void start(Node& n) {
    n.proc = std::make_unique<QProcess>();
    n.proc->setProcessChannelMode(QProcess::MergedChannels);
    n.proc->setStandardOutputFile(n.log, QIODevice::Append);
    n.proc->start(egwtest::agentBinary(),
                  {QStringLiteral("--config"), n.config, QStringLiteral("--no-datapath")});
    QVERIFY(n.proc->waitForStarted());
  }
  void stop(Node& n) {
    if (!n.running()) return;
    n.proc->terminate();
    if (!n.proc->waitForFinished(8000)) {
      n.proc->kill();
      n.proc->waitForFinished(3000);
    }
  }

  QString logs() const {
    QString all;
    for (const auto& [k, n] : nodes_) {
      auto text = readText(n.log);
      QString infos;
      for (const auto& l : text.split(QLatin1Char('\n')))
        if (!l.contains(QStringLiteral(" debug "))) infos += l + QLatin1Char('\n');
      all += QStringLiteral("=== ") + k + QLatin1Char('\n') + infos.right(3000);
    }
    return all.right(20000);
  }

  // The snapshot of a Watch with the given credentials, or the status of the failure.
  static std::pair<std::optional<pb::ClusterState>, grpc::Status> watch(const QString& endpoint,
                                                                          std::shared_ptr<grpc::ChannelCredentials> creds,
                                                                          int timeoutMs = 2000) {
    auto stub = pb::Cluster::NewStub(grpc::CreateChannel(endpoint.toStdString(), std::move(creds)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeoutMs));
    auto reader = stub->Watch(&ctx, pb::WatchRequest{});
    pb::WatchUpdate u;
    if (reader->Read(&u) && u.has_snapshot()) {
      ctx.TryCancel();
      reader->Finish();
      return {u.snapshot(), grpc::Status::OK};
    }
    return {std::nullopt, reader->Finish()};
  }

  std::optional<pb::ClusterState> stateOf(const Node& n) { return watch(n.api(), tlsCreds(client(QStringLiteral("viewer"))), 1000).first; }
  std::optional<pb::ClusterState> stateOfPlain(const Node& n) {
    return watch(n.api(), grpc::InsecureChannelCredentials(), 1000).first;
  }

  // The master every given (TLS) node reports; empty unless they all agree.
  QString agreedMaster(std::initializer_list<Node*> ns) {
    QString master;
    for (auto* n : ns) {
      auto s = stateOf(*n);
      if (!s || s->master().empty()) return {};
      auto m = QString::fromStdString(s->master());
      if (!master.isEmpty() && m != master) return {};
      master = m;
    }
    return master;
  }

  static bool lists(const pb::ClusterState& s, const std::string& name) {
    for (const auto& n : s.nodes())
      if (n.name() == name) return true;
    return false;
  }

  grpc::Status sendPeer(const Node& to, std::shared_ptr<grpc::ChannelCredentials> creds, pb::MessageType type,
                        const std::string& from, pb::Ack* ack, const std::string& overrideName = {}) {
    grpc::ChannelArguments args;
    if (!overrideName.empty()) args.SetSslTargetNameOverride(overrideName);
    auto stub = pb::Peer::NewStub(grpc::CreateCustomChannel(to.peer().toStdString(), std::move(creds), args));
    pb::ElectionMessage m;
    m.set_type(type);
    m.set_from(from);
    m.set_to(to.name.toStdString());
    m.set_term(1'000'000);
    m.set_protocol(egw::kProtocolVersion);
    m.set_from_endpoint((host(200) + QStringLiteral(":7400")).toStdString());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    return stub->Send(&ctx, m, ack);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    const int pid = static_cast<int>(getpid());
    net_ = QStringLiteral("127.%1.%2.").arg(200 + pid % 50).arg((pid / 50) % 250 + 1);
    certs_ = dir_.filePath(QStringLiteral("certs"));
    rogueCerts_ = dir_.filePath(QStringLiteral("rogue-certs"));
    for (int i = 1; i <= 3; ++i)
      QVERIFY(makeCerts(certs_, {QStringLiteral("node"), QStringLiteral("egress-%1").arg(i), QStringLiteral("--ip"), host(i)}));
    QVERIFY(makeCerts(certs_, {QStringLiteral("node"), QStringLiteral("egress-6"), QStringLiteral("--ip"), host(6)}));
    QVERIFY(makeCerts(certs_, {QStringLiteral("operator")}));
    QVERIFY(makeCerts(certs_, {QStringLiteral("viewer")}));
    // Another cluster's CA: the names and the roles are right, the issuer is not.
    QVERIFY(makeCerts(rogueCerts_, {QStringLiteral("node"), QStringLiteral("egress-3"), QStringLiteral("--ip"), host(3)}));
    QVERIFY(makeCerts(rogueCerts_, {QStringLiteral("node"), QStringLiteral("egress-4"), QStringLiteral("--ip"), host(4)}));
    QVERIFY(makeCerts(rogueCerts_, {QStringLiteral("operator")}));

    add(QStringLiteral("egress-1"), 1, 1, certs_ + QStringLiteral("/egress-1"), true);
    add(QStringLiteral("egress-2"), 2, 2, certs_ + QStringLiteral("/egress-2"), true);
    add(QStringLiteral("egress-3"), 3, 3, certs_ + QStringLiteral("/egress-3"), true);
    // Impostors of the voter egress-3 at its configured address (real egress-3 is down then):
    // one with a certificate of another CA, one without TLS.
    add(QStringLiteral("egress-3"), 103, 3, rogueCerts_ + QStringLiteral("/egress-3"), true);
    add(QStringLiteral("egress-3"), 203, 3, QString(), true);
    // Candidates that are not voters, preferred by priority if they could join.
    add(QStringLiteral("egress-4"), 4, 4, rogueCerts_ + QStringLiteral("/egress-4"), false, 1000);
    add(QStringLiteral("egress-5"), 5, 5, QString(), false, 1000);
  }
  void cleanupTestCase() {
    for (auto& [k, n] : nodes_) stop(n);
  }

  void impostorVotersMakeNoQuorum() {
    // egress-1 alone has 1 of 3 votes; an impostor egress-3 would make it 2 of 3.
    auto& e1 = node(QStringLiteral("egress-1"), 1);
    start(e1);
    for (int impostor : {103, 203}) {
      auto& fake = node(QStringLiteral("egress-3"), impostor);
      start(fake);
      // Five election timeouts and more: time for several rounds of (pre-)votes.
      QTest::qWait(4000);
      auto s = stateOf(e1);
      QVERIFY2(s.has_value(), qPrintable(logs()));
      QVERIFY2(s->master().empty(), qPrintable(QStringLiteral("egress-1 elected %1 with an impostor's vote\n").arg(QString::fromStdString(s->master())) + logs()));
      // The impostor has no master either: nobody answers it.
      if (impostor == 203) {
        auto fs = stateOfPlain(fake);
        QVERIFY2(fs.has_value(), qPrintable(logs()));
        QVERIFY(fs->master().empty());
      }
      stop(fake);
      QVERIFY(!fake.running());
    }
    const auto log1 = readText(e1.log);
    // The impostor without a certificate reached the TLS listener and was refused in the
    // handshake; the one with a foreign CA the same. Neither got a message through.
    QVERIFY2(!log1.contains(QStringLiteral("elected")), qPrintable(log1.right(4000)));
  }

  void clusterElectsWithRealCertificates() {
    auto& e1 = node(QStringLiteral("egress-1"), 1);
    auto& e2 = node(QStringLiteral("egress-2"), 2);
    auto& e3 = node(QStringLiteral("egress-3"), 3);
    start(e2);
    start(e3);
    QString master;
    QTRY_VERIFY2_WITH_TIMEOUT(!(master = agreedMaster({&e1, &e2, &e3})).isEmpty(), qPrintable(logs()), 20000);
  }

  void strangersCannotJoinOrStand() {
    auto& e1 = node(QStringLiteral("egress-1"), 1);
    auto& e2 = node(QStringLiteral("egress-2"), 2);
    auto& e3 = node(QStringLiteral("egress-3"), 3);
    auto& e4 = node(QStringLiteral("egress-4"), 4);
    auto& e5 = node(QStringLiteral("egress-5"), 5);
    const QString before = agreedMaster({&e1, &e2, &e3});
    QVERIFY(!before.isEmpty());
    start(e4);
    start(e5);
    QTest::qWait(4000);
    for (auto* n : {&e1, &e2, &e3}) {
      auto s = stateOf(*n);
      QVERIFY2(s.has_value(), qPrintable(logs()));
      QVERIFY2(!lists(*s, "egress-4") && !lists(*s, "egress-5"),
               qPrintable(n->name + QStringLiteral(" lists a stranger\n") + logs()));
      QCOMPARE(QString::fromStdString(s->master()), before);
    }
    auto s4 = watch(e4.api(), tlsCreds(pem(rogueCerts_ + QStringLiteral("/operator"), QStringLiteral("client.pem"),
                                            QStringLiteral("client-key.pem"))));
    QVERIFY2(s4.first.has_value(), s4.second.error_message().c_str());
    QVERIFY2(s4.first->master().empty(), "the stranger with a foreign certificate follows a master");
    auto s5 = stateOfPlain(e5);
    QVERIFY(s5.has_value());
    QVERIFY2(s5->master().empty(), "the stranger without a certificate follows a master");
    stop(e4);
    stop(e5);
  }

  void watchNeedsAClusterCertificate() {
    auto& e1 = node(QStringLiteral("egress-1"), 1);
    // No TLS at all.
    auto plain = watch(e1.api(), grpc::InsecureChannelCredentials());
    QVERIFY(!plain.first.has_value());
    QCOMPARE(plain.second.error_code(), grpc::StatusCode::UNAVAILABLE);
    // TLS that trusts the agent but presents no client certificate.
    auto noCert = watch(e1.api(), tlsCreds({client(QStringLiteral("viewer")).ca, {}, {}}));
    QVERIFY(!noCert.first.has_value());
    QCOMPARE(noCert.second.error_code(), grpc::StatusCode::UNAVAILABLE);
    // A client certificate of another CA (the agent refuses it in the handshake).
    auto rogue = pem(rogueCerts_ + QStringLiteral("/operator"), QStringLiteral("client.pem"), QStringLiteral("client-key.pem"));
    rogue.ca = client(QStringLiteral("viewer")).ca;
    auto foreign = watch(e1.api(), tlsCreds(rogue));
    QVERIFY(!foreign.first.has_value());
    QCOMPARE(foreign.second.error_code(), grpc::StatusCode::UNAVAILABLE);
    // The viewer: the snapshot, and ListEvents.
    auto ok = watch(e1.api(), tlsCreds(client(QStringLiteral("viewer"))));
    QVERIFY2(ok.first.has_value(), ok.second.error_message().c_str());
    auto stub = pb::Cluster::NewStub(grpc::CreateChannel(e1.api().toStdString(), tlsCreds(client(QStringLiteral("viewer")))));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    pb::ListEventsResponse events;
    auto st = stub->ListEvents(&ctx, pb::ListEventsRequest{}, &events);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(events.events_size() > 0);
  }

  void watchStreamsAreCappedPerCertificate() {
    // Eight concurrent Watch streams per client; with TLS the client is the certificate's CN,
    // whatever the connection. A ninth of the viewer's is refused, the operator still gets one.
    auto& e2 = node(QStringLiteral("egress-2"), 2);
    // A viewer certificate of its own: the other tests' streams with "viewer" end asynchronously
    // after their cancel, and must not count against this one's cap.
    QVERIFY(makeCerts(certs_, {QStringLiteral("viewer"), QStringLiteral("capped")}));
    struct Stream {
      std::shared_ptr<grpc::Channel> channel;
      std::unique_ptr<pb::Cluster::Stub> stub;
      grpc::ClientContext ctx;
      std::unique_ptr<grpc::ClientReader<pb::WatchUpdate>> reader;
    };
    auto open = [&](const Pem& p) {
      auto st = std::make_unique<Stream>();
      // A channel each: separate connections, so only the certificate ties them together.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      st->channel = grpc::CreateCustomChannel(e2.api().toStdString(), tlsCreds(p), args);
      st->stub = pb::Cluster::NewStub(st->channel);
      st->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      st->reader = st->stub->Watch(&st->ctx, pb::WatchRequest{});
      return st;
    };
    std::vector<std::unique_ptr<Stream>> held;
    for (int i = 0; i < 8; ++i) {
      held.push_back(open(client(QStringLiteral("capped"))));
      pb::WatchUpdate u;
      QVERIFY2(held.back()->reader->Read(&u) && u.has_snapshot(), qPrintable(QStringLiteral("stream %1").arg(i)));
    }
    auto ninth = open(client(QStringLiteral("capped")));
    pb::WatchUpdate u;
    QVERIFY(!ninth->reader->Read(&u));
    auto st = ninth->reader->Finish();
    QCOMPARE(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    QVERIFY2(QString::fromStdString(st.error_message()).contains(QStringLiteral("viewer certificate CN=capped")), st.error_message().c_str());
    auto other = open(client(QStringLiteral("operator")));
    QVERIFY2(other->reader->Read(&u) && u.has_snapshot(), "the operator's stream was refused with the viewer's");
    held.push_back(std::move(other));
    for (auto& h : held) {
      h->ctx.TryCancel();
      h->reader->Finish();
    }
  }

  void peerServiceChecksTheNodeCertificate() {
    auto& e1 = node(QStringLiteral("egress-1"), 1);
    pb::Ack ack;
    // egress-6 holds a real node certificate, but claims to be egress-2.
    auto spoof = sendPeer(e1, tlsCreds(nodeCert(QStringLiteral("egress-6"))), pb::HEARTBEAT, "egress-2", &ack, "egress-1");
    QCOMPARE(spoof.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(QString::fromStdString(spoof.error_message()).contains(QStringLiteral("CN=egress-6")), spoof.error_message().c_str());
    // As itself, but it never joined: it may not ask for votes.
    auto stranger = sendPeer(e1, tlsCreds(nodeCert(QStringLiteral("egress-6"))), pb::PRE_VOTE, "egress-6", &ack, "egress-1");
    QCOMPARE(stranger.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(QString::fromStdString(stranger.error_message()).contains(QStringLiteral("neither a configured voter")),
             stranger.error_message().c_str());
    // A viewer (or operator) certificate is not a node's.
    auto viewer = sendPeer(e1, tlsCreds(client(QStringLiteral("viewer"))), pb::HEARTBEAT, "viewer", &ack, "egress-1");
    QCOMPARE(viewer.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(QString::fromStdString(viewer.error_message()).contains(QStringLiteral("need a node certificate; this one is a viewer")),
             viewer.error_message().c_str());
    // The peer channel checks the server's name too: egress-1's listener is not egress-2.
    auto wrongServer = sendPeer(e1, tlsCreds(nodeCert(QStringLiteral("egress-6"))), pb::STATUS_REPORT, "egress-6", &ack, "egress-2");
    QCOMPARE(wrongServer.error_code(), grpc::StatusCode::UNAVAILABLE);
    // Refusals are logged with the certificate and the claimed sender.
    QTRY_VERIFY2_WITH_TIMEOUT(readText(e1.log).contains(QStringLiteral("claiming to be from 'egress-2' (node certificate CN=egress-6")),
                              qPrintable(readText(e1.log).right(3000)), 3000);
    // The cluster is undisturbed by the term 1000000 in those messages.
    auto s = stateOf(e1);
    QVERIFY(s.has_value());
    QVERIFY(s->term() < 1000);
  }

  void viewerCannotHandOverOperatorCan() {
    auto& e1 = node(QStringLiteral("egress-1"), 1);
    auto& e2 = node(QStringLiteral("egress-2"), 2);
    auto& e3 = node(QStringLiteral("egress-3"), 3);
    const QString master = agreedMaster({&e1, &e2, &e3});
    QVERIFY(!master.isEmpty());
    Node* m = master == e1.name ? &e1 : master == e2.name ? &e2 : &e3;

    auto stub = pb::Cluster::NewStub(grpc::CreateChannel(m->api().toStdString(), tlsCreds(client(QStringLiteral("viewer")))));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    pb::HandoverResponse resp;
    auto st = stub->Handover(&ctx, pb::HandoverRequest{}, &resp);
    QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(QString::fromStdString(st.error_message()).contains(QStringLiteral("needs an operator certificate; this one is a viewer (CN=viewer)")),
             st.error_message().c_str());

    const QString ctl = egwtest::egressctlBinary();
    auto viewer = run(ctl, {QStringLiteral("--tls-dir"), certs_ + QStringLiteral("/viewer"), QStringLiteral("--endpoint"), m->api(),
                            QStringLiteral("--timeout"), QStringLiteral("5s"), QStringLiteral("handover")});
    QCOMPARE(viewer.code, 1);
    QVERIFY2(viewer.err.contains(QStringLiteral("needs an operator certificate; this one is a viewer (CN=viewer)")), qPrintable(viewer.err));
    QCOMPARE(agreedMaster({&e1, &e2, &e3}), master);

    // A TLS dir without the client certificate: the missing file is named.
    QDir().mkpath(dir_.filePath(QStringLiteral("only-ca")));
    QFile::copy(certs_ + QStringLiteral("/ca.pem"), dir_.filePath(QStringLiteral("only-ca/ca.pem")));
    auto missing = run(ctl, {QStringLiteral("--tls-dir"), dir_.filePath(QStringLiteral("only-ca")), QStringLiteral("--endpoint"), m->api(),
                             QStringLiteral("status")});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains(dir_.filePath(QStringLiteral("only-ca/client.pem"))), qPrintable(missing.err));

    // The viewer may read.
    auto status = run(ctl, {QStringLiteral("--tls-dir"), certs_ + QStringLiteral("/viewer"), QStringLiteral("--endpoint"), m->api(),
                            QStringLiteral("status"), QStringLiteral("-o"), QStringLiteral("json")});
    QVERIFY2(status.code == 0, qPrintable(status.err));
    QVERIFY(status.out.contains(QStringLiteral("\"master\": \"") + master + QLatin1Char('"')));

    auto op = run(ctl, {QStringLiteral("--tls-dir"), certs_ + QStringLiteral("/operator"), QStringLiteral("--endpoint"), m->api(),
                        QStringLiteral("--timeout"), QStringLiteral("10s"), QStringLiteral("handover")});
    QVERIFY2(op.code == 0, qPrintable(op.err + logs()));
    QVERIFY2(op.out.contains(QStringLiteral("new master:")), qPrintable(op.out));
    QString after;
    QTRY_VERIFY2_WITH_TIMEOUT(!(after = agreedMaster({&e1, &e2, &e3})).isEmpty() && after != master, qPrintable(logs()), 15000);
    QVERIFY2(readText(m->log).contains(QStringLiteral("operator certificate CN=operator: handover")), qPrintable(readText(m->log).right(3000)));
  }
};

QTEST_GUILESS_MAIN(TestSecurityE2e)
#include "test_security_e2e.moc"
