#pragma once
// Named lists of agent endpoints, kept in QSettings ("profiles/<name>/endpoints", "tlsDir";
// "profiles/current"). The window switches between them; the command line overrides them.
#include <QtCore/QList>
#include <QtCore/QSettings>
#include <QtCore/QStringList>

namespace egw::console {

struct ConnectionProfile {
  QString name;
  QStringList endpoints;
  QString tlsDir;  // empty: insecure
  bool operator==(const ConnectionProfile&) const = default;
};

class ConnectionProfiles {
 public:
  static ConnectionProfile defaultProfile();  // "local": 127.0.0.1:7401

  void load(QSettings& settings);
  void save(QSettings& settings) const;

  const QList<ConnectionProfile>& all() const { return profiles_; }
  // Adds or replaces (by name).
  void upsert(const ConnectionProfile& p);
  void remove(const QString& name);
  const ConnectionProfile* find(const QString& name) const;
  QString currentName() const { return current_; }
  void setCurrent(const QString& name) { current_ = name; }
  ConnectionProfile current() const;

  // "a:1, b:2 c:3" -> ["a:1", "b:2", "c:3"]; rejects entries without a port.
  static QStringList parseEndpoints(const QString& text, QString* error = nullptr);

 private:
  QList<ConnectionProfile> profiles_;
  QString current_;
};

}  // namespace egw::console
