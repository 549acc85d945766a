// egress-console: the operator console (window), or a one-line live status (--headless).
#include <QtCore/QCommandLineParser>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QStyleFactory>

#include <cstdio>
#include <memory>

#include "console/core/connection_profiles.h"
#include "console/core/console_session.h"
#include "console/core/grpc_agent_client.h"
#include "console/ui/main_window.h"
#include "egw/version.h"

using namespace egw::console;

namespace {

// Options that never need a display: run them on a QCoreApplication, so `--help` and
// `--headless` work without X or a platform plugin.
bool needsNoDisplay(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const QLatin1String a(argv[i]);
    if (a == QLatin1String("--headless") || a == QLatin1String("--help") || a == QLatin1String("-h") ||
        a == QLatin1String("--help-all") || a == QLatin1String("--version") || a == QLatin1String("-v"))
      return true;
  }
  return false;
}

std::unique_ptr<AgentClient> makeClient(const ConnectionProfile& p) {
  ClientOptions o;
  o.endpoints = p.endpoints;
  if (!p.tlsDir.isEmpty()) o.tls = TlsOptions::fromDir(p.tlsDir);
  return std::make_unique<GrpcAgentClient>(std::move(o));
}

void printLine(const QString& s) {
  std::fputs(s.toLocal8Bit().constData(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<QCoreApplication> app;
  if (needsNoDisplay(argc, argv)) {
    app = std::make_unique<QCoreApplication>(argc, argv);
  } else {
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    app = std::make_unique<QApplication>(argc, argv);
  }
  QCoreApplication::setOrganizationName(QStringLiteral("EgressGateway"));
  QCoreApplication::setApplicationName(QStringLiteral("egress-console"));
  QCoreApplication::setApplicationVersion(QString::fromLatin1(egw::kVersion));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Operator console of the egress gateway: nodes, master, failover events, traffic charts, handover and "
      "candidacy.\n\nWithout --endpoint the current connection profile is used (Connection menu; stored with "
      "QSettings; default 127.0.0.1:7401). With several endpoints the console fails over between them."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption endpointOpt(QStringList{QStringLiteral("e"), QStringLiteral("endpoint")},
                                       QStringLiteral("Agent API endpoint HOST:PORT (listen.api). Repeat, or separate "
                                                      "with commas, to fail over between agents."),
                                       QStringLiteral("HOST:PORT"));
  const QCommandLineOption tlsOpt(QStringLiteral("tls-dir"),
                                  QStringLiteral("Use TLS: DIR/ca.pem, and for mutual TLS DIR/client.pem and "
                                                 "DIR/client-key.pem. Without it the connection is insecure."),
                                  QStringLiteral("DIR"));
  const QCommandLineOption headlessOpt(QStringLiteral("headless"),
                                       QStringLiteral("No window: print a one-line live status (master, term, healthy "
                                                      "nodes, stream state) to stdout every second."));
  const QCommandLineOption screenshotOpt(QStringLiteral("screenshot"),
                                         QStringLiteral("Save a PNG of the window after --after ms, then exit (0 when "
                                                        "saved)."),
                                         QStringLiteral("FILE"));
  const QCommandLineOption afterOpt(QStringLiteral("after"),
                                    QStringLiteral("Delay for --screenshot; with --headless: exit after MS (0 when "
                                                   "streaming at that moment, 1 otherwise). Default 3000 for "
                                                   "--screenshot, run forever for --headless."),
                                    QStringLiteral("MS"));
  parser.addOptions({endpointOpt, tlsOpt, headlessOpt, screenshotOpt, afterOpt});
  parser.process(*app);

  ConnectionProfiles profiles;
  {
    QSettings settings;
    profiles.load(settings);
  }
  ConnectionProfile profile = profiles.current();
  if (parser.isSet(endpointOpt)) {
    QString error;
    const QStringList eps = ConnectionProfiles::parseEndpoints(parser.values(endpointOpt).join(QLatin1Char(',')), &error);
    if (eps.isEmpty()) {
      std::fprintf(stderr, "egress-console: --endpoint: %s\n", qPrintable(error));
      return 2;
    }
    profile = ConnectionProfile{QStringLiteral("command line"), eps, {}};
  }
  if (parser.isSet(tlsOpt)) profile.tlsDir = parser.value(tlsOpt);

  bool afterOk = true;
  const int after = parser.isSet(afterOpt) ? parser.value(afterOpt).toInt(&afterOk) : -1;
  if (!afterOk || (parser.isSet(afterOpt) && after < 0)) {
    std::fprintf(stderr, "egress-console: --after: not a number of milliseconds\n");
    return 2;
  }

  ConsoleSession session;
  session.setClient(makeClient(profile));

  if (parser.isSet(headlessOpt)) {
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout, &session, [&session] { printLine(session.statusLine()); });
    ticker.start(1000);
    if (after >= 0) {
      QTimer::singleShot(after, &session, [&session] {
        printLine(session.statusLine());
        QCoreApplication::exit(session.connectionState() == ConnectionState::Streaming ? 0 : 1);
      });
    }
    return app->exec();
  }

  MainWindow window(&session, &profiles);
  // The add-node wizard talks to the new node's own agent with the current profile's TLS settings.
  window.setNodeClientFactory([&profile](const QString& endpoint) {
    ConnectionProfile p = profile;
    p.endpoints = QStringList{endpoint};
    return makeClient(p);
  });
  QObject::connect(&window, &MainWindow::profileActivated, &session, [&session, &profile](const ConnectionProfile& p) {
    profile = p;
    session.setClient(makeClient(p));
  });
  if (profile.name == QLatin1String("command line")) {
    window.setWindowTitle(window.windowTitle() + QStringLiteral(" — ") + profile.endpoints.join(QStringLiteral(", ")));
  }
  window.show();

  if (parser.isSet(screenshotOpt)) {
    const QString file = parser.value(screenshotOpt);
    QTimer::singleShot(after >= 0 ? after : 3000, &window, [&window, file] {
      const bool saved = window.grab().save(file, "PNG");
      if (saved) {
        printLine(QStringLiteral("screenshot saved to %1").arg(file));
      } else {
        std::fprintf(stderr, "egress-console: cannot save the screenshot to %s\n", qPrintable(file));
      }
      QCoreApplication::exit(saved ? 0 : 1);
    });
  }
  return app->exec();
}
