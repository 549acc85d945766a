#pragma once
// Text scripts with golden output (the style of etcd-io/raft testdata), shared by the election
// and driver scenario tests. A file is a list of blocks:
//
//   # comments
//   <command>
//   ----
//   <expected output, "ok" when there is none>
//   <blank line>
//
// runGolden() runs each command through `exec` and compares; with EGW_UPDATE_GOLDEN=1 in the
// environment it rewrites the file from what the code does now (then read the diff!).
#include <QDir>
#include <QString>
#include <QtGlobal>
#include <QtTest>

#include <exception>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace egwtest::golden {

struct Block {
  std::vector<std::string> comments;  // comment/blank lines before the command
  std::string command;
  std::vector<std::string> expected;
  bool hasExpected = false;
};

inline std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  std::string x;
  while (in >> x) w.push_back(x);
  return w;
}

// "key=value" -> value, else empty.
inline std::string valueOf(const std::string& word, const std::string& key) {
  return word.rfind(key + "=", 0) == 0 ? word.substr(key.size() + 1) : std::string();
}

inline std::vector<Block> parse(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  std::vector<Block> blocks;
  Block cur;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.empty() || line[0] == '#') {
      if (!line.empty()) cur.comments.push_back(line);
      continue;
    }
    cur.command = line;
    if (i + 1 < lines.size() && lines[i + 1] == "----") {
      cur.hasExpected = true;
      i += 2;
      for (; i < lines.size() && !lines[i].empty(); ++i) cur.expected.push_back(lines[i]);
    }
    blocks.push_back(std::move(cur));
    cur = Block{};
  }
  return blocks;
}

inline std::string render(const std::vector<Block>& blocks, const std::vector<std::vector<std::string>>& outputs) {
  std::string s;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (const auto& c : blocks[i].comments) s += c + "\n";
    s += blocks[i].command + "\n----\n";
    if (outputs[i].empty()) s += "ok\n";
    for (const auto& o : outputs[i]) s += o + "\n";
    s += "\n";
  }
  return s;
}

// Empty when every block's output matches (or the file was rewritten); else what differs.
inline std::string runGolden(const QString& path, const std::function<std::vector<std::string>(const std::string&)>& exec) {
  std::ifstream in(path.toStdString());
  if (!in) return "cannot read " + path.toStdString();
  std::stringstream buf;
  buf << in.rdbuf();
  const auto blocks = parse(buf.str());
  if (blocks.empty()) return path.toStdString() + ": no commands";
  std::vector<std::vector<std::string>> outputs;
  for (const auto& b : blocks) {
    try {
      outputs.push_back(exec(b.command));
    } catch (const std::exception& e) {
      return path.toStdString() + ": command '" + b.command + "': " + e.what();
    }
  }
  if (qEnvironmentVariableIntValue("EGW_UPDATE_GOLDEN") == 1) {
    std::ofstream(path.toStdString()) << render(blocks, outputs);
    return {};
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::vector<std::string> want = blocks[i].expected;
    std::vector<std::string> got = outputs[i];
    if (got.empty()) got.push_back("ok");
    if (!blocks[i].hasExpected || want != got) {
      std::string msg = path.toStdString() + ": command '" + blocks[i].command + "'\n--- expected\n";
      for (const auto& l : want) msg += l + "\n";
      msg += "--- actual\n";
      for (const auto& l : got) msg += l + "\n";
      return msg + "(EGW_UPDATE_GOLDEN=1 rewrites the file)";
    }
  }
  return {};
}

// The data function of a scenario test: a "path" row for each *.txt in `dir`, by name; fails when
// the folder holds fewer than `atLeast` (a moved folder must not pass as zero scenarios).
inline void addScenarioRows(const QString& dir, qsizetype atLeast) {
  QTest::addColumn<QString>("path");
  const auto files = QDir(dir).entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name);
  QVERIFY2(files.size() >= atLeast, qPrintable(QStringLiteral("expected at least %1 scenario files in %2").arg(atLeast).arg(dir)));
  for (const auto& f : files) QTest::newRow(f.toUtf8().constData()) << dir + QLatin1Char('/') + f;
}

}  // namespace egwtest::golden
