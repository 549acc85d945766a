// The CSV writer and reader against a CSV implementation that is not ours (Python's csv module):
// what we write, Python reads back field for field; what Python writes, we read back.
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include "egw/allowlist.h"

using namespace egw;

namespace {

using Rows = std::vector<std::vector<std::string>>;

// Quotes, commas, CR/LF inside fields, leading/trailing spaces, UTF-8, empty fields.
const Rows kRows = {
    {"ip", "node", "role", "state", "first_seen"},
    {"172.16.0.7", "egress-1", "master", "enabled", "2025-11-26T12:00:00.000Z"},
    {"172.16.0.8", "egress-2, rack \"B\"", "standby", "enabled", ""},
    {"2001:db8::5", "line one\r\nline two", "standby", "pending", ""},
    {"172.16.0.100", " padded ", "vip", "active", "\"quoted\""},
    {"10.0.0.0/24", "Zürich–Ost", "", "", "lf\nonly"},
};

QString python() { return QStandardPaths::findExecutable(QStringLiteral("python3")); }

QByteArray runPython(const QString& script, const QByteArray& input) {
  QProcess py;
  py.start(python(), {QStringLiteral("-c"), script});
  py.write(input);
  py.closeWriteChannel();
  if (!py.waitForFinished(20000)) {
    py.kill();
    py.waitForFinished();
    return {};
  }
  if (py.exitCode() != 0) qWarning("python: %s", py.readAllStandardError().constData());
  return py.readAllStandardOutput();
}

Rows fromJson(const QByteArray& json) {
  Rows out;
  for (const auto& r : QJsonDocument::fromJson(json).array()) {
    std::vector<std::string> row;
    for (const auto& f : r.toArray()) row.push_back(f.toString().toStdString());
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

class TestAllowlistCsv : public QObject {
  Q_OBJECT

 private slots:
  void fieldQuoting() {
    QCOMPARE(csv::field("plain"), std::string("plain"));
    QCOMPARE(csv::field(""), std::string(""));
    QCOMPARE(csv::field("a,b"), std::string("\"a,b\""));
    QCOMPARE(csv::field("say \"hi\""), std::string("\"say \"\"hi\"\"\""));
    QCOMPARE(csv::field("two\nlines"), std::string("\"two\nlines\""));
    QCOMPARE(csv::field(" lead"), std::string("\" lead\""));
    QCOMPARE(csv::row({"a", "b,c", ""}), std::string("a,\"b,c\",\r\n"));
  }

  void ourCsvReadByPython() {
    if (python().isEmpty()) QSKIP("python3 not installed");
    std::string text;
    for (const auto& r : kRows) text += csv::row(r);
    auto out = runPython(QStringLiteral("import csv,sys,io,json\n"
                                        "data=sys.stdin.buffer.read().decode('utf-8')\n"
                                        "print(json.dumps(list(csv.reader(io.StringIO(data, newline='')))))"),
                         QByteArray::fromStdString(text));
    QCOMPARE(fromJson(out), kRows);
  }

  void pythonCsvReadByUs() {
    if (python().isEmpty()) QSKIP("python3 not installed");
    QJsonArray rows;
    for (const auto& r : kRows) {
      QJsonArray row;
      for (const auto& f : r) row.append(QString::fromStdString(f));
      rows.append(row);
    }
    // QUOTE_MINIMAL, "\r\n": the excel dialect, what most tools write.
    auto text = runPython(QStringLiteral("import csv,sys,json\n"
                                         "rows=json.loads(sys.stdin.buffer.read().decode('utf-8'))\n"
                                         "w=csv.writer(sys.stdout)\n"
                                         "sys.stdout.reconfigure(newline='')\n"
                                         "w.writerows(rows)"),
                          QJsonDocument(rows).toJson(QJsonDocument::Compact));
    QVERIFY(!text.isEmpty());
    auto parsed = csv::parse(text.toStdString());
    QVERIFY(parsed.ok());
    Rows got;
    for (const auto& r : *parsed) {
      QVERIFY2(r.error.empty(), r.error.c_str());
      got.push_back(r.fields);
    }
    QCOMPARE(got, kRows);
    // And the allowlist reader takes the same file: the header found, every IP, comments intact.
    auto list = parseAllowlist(text.toStdString());
    QVERIFY2(list.ok(), list.ok() ? "" : list.error().c_str());
    QVERIFY(list->hasHeader);
    QCOMPARE(list->entries.size(), std::size_t(5));
    QCOMPARE(list->entries[1].comment, std::string("egress-2, rack \"B\", standby, enabled"));
    QCOMPARE(list->entries[2].line, 4);
    QCOMPARE(list->entries[3].line, 6);  // the record before spans two lines
  }

  void recordLines() {
    auto r = csv::parse("a,\"b\r\nc\"\r\nd\n\ne");
    QVERIFY(r.ok());
    QCOMPARE(r->size(), std::size_t(4));
    QCOMPARE((*r)[1].line, 3);
    QCOMPARE((*r)[2].fields, std::vector<std::string>{""});
    QCOMPARE((*r)[3].line, 5);
  }
};

QTEST_GUILESS_MAIN(TestAllowlistCsv)
#include "test_allowlist_csv.moc"
