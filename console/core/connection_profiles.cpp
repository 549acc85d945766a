#include "console/core/connection_profiles.h"

#include <QtCore/QRegularExpression>

namespace egw::console {

ConnectionProfile ConnectionProfiles::defaultProfile() {
  return ConnectionProfile{QStringLiteral("local"), {QStringLiteral("127.0.0.1:7401")}, {}};
}

void ConnectionProfiles::load(QSettings& settings) {
  profiles_.clear();
  settings.beginGroup(QStringLiteral("profiles"));
  current_ = settings.value(QStringLiteral("current")).toString();
  for (const QString& name : settings.childGroups()) {
    settings.beginGroup(name);
    ConnectionProfile p{name, settings.value(QStringLiteral("endpoints")).toStringList(),
                        settings.value(QStringLiteral("tlsDir")).toString()};
    settings.endGroup();
    if (!p.endpoints.isEmpty()) profiles_.append(p);
  }
  settings.endGroup();
  if (profiles_.isEmpty()) profiles_.append(defaultProfile());
  if (find(current_) == nullptr) current_ = profiles_.first().name;
}

void ConnectionProfiles::save(QSettings& settings) const {
  settings.remove(QStringLiteral("profiles"));
  settings.beginGroup(QStringLiteral("profiles"));
  settings.setValue(QStringLiteral("current"), current_);
  for (const ConnectionProfile& p : profiles_) {
    settings.beginGroup(p.name);
    settings.setValue(QStringLiteral("endpoints"), p.endpoints);
    settings.setValue(QStringLiteral("tlsDir"), p.tlsDir);
    settings.endGroup();
  }
  settings.endGroup();
}

void ConnectionProfiles::upsert(const ConnectionProfile& p) {
  for (ConnectionProfile& q : profiles_) {
    if (q.name == p.name) {
      q = p;
      return;
    }
  }
  profiles_.append(p);
}

void ConnectionProfiles::remove(const QString& name) {
  profiles_.removeIf([&](const ConnectionProfile& p) { return p.name == name; });
  if (profiles_.isEmpty()) profiles_.append(defaultProfile());
  if (find(current_) == nullptr) current_ = profiles_.first().name;
}

const ConnectionProfile* ConnectionProfiles::find(const QString& name) const {
  for (const ConnectionProfile& p : profiles_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

ConnectionProfile ConnectionProfiles::current() const {
  const ConnectionProfile* p = find(current_);
  return p != nullptr ? *p : defaultProfile();
}

QStringList ConnectionProfiles::parseEndpoints(const QString& text, QString* error) {
  static const QRegularExpression sep(QStringLiteral("[\\s,;]+"));
  static const QRegularExpression hostPort(QStringLiteral("^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,5})$"));
  QStringList out;
  for (const QString& part : text.split(sep, Qt::SkipEmptyParts)) {
    const auto m = hostPort.match(part);
    if (!m.hasMatch() || m.captured(2).toInt() > 65535) {
      if (error != nullptr) *error = QStringLiteral("'%1' is not HOST:PORT").arg(part);
      return {};
    }
    out << part;
  }
  if (out.isEmpty() && error != nullptr) *error = QStringLiteral("no endpoint given");
  return out;
}

}  // namespace egw::console
