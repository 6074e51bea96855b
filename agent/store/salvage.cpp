#include "agent/store/salvage.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <sstream>

#include "agent/store/high_water.h"
#include "agent/store/schema.h"
#include "agent/store/sqlite_util.h"
#include "agent/store/store_impl.h"

namespace floorlink::agent {
namespace {

using detail::quoteIdentifier;

std::vector<std::string> columnsOf(SQLite::Database& db, const std::string& table) {
  std::vector<std::string> out;
  SQLite::Statement s(db, "PRAGMA table_info(" + quoteIdentifier(table) + ")");
  while (s.executeStep()) out.push_back(s.getColumn(1).getString());
  return out;
}

// Smallest rowid >= x that can be reached: a row id, nullopt for the end of
// the table; throws when the b-tree cannot be read around x.
std::optional<int64_t> seek(SQLite::Database& src, const std::string& table, int64_t x) {
  SQLite::Statement s(src, "SELECT rowid FROM " + quoteIdentifier(table) +
                               " WHERE rowid >= ? ORDER BY rowid LIMIT 1");
  s.bind(1, static_cast<int64_t>(x));
  if (!s.executeStep()) return std::nullopt;
  return s.getColumn(0).getInt64();
}

struct Resume {
  bool found = false;            // false: nothing after lastGood could be read
  std::optional<int64_t> rowid;  // next readable row; nullopt: end of table
};

// After a read failure behind `lastGood`, finds where reading can go on:
// doubles the jump until a seek succeeds, then narrows down to the first
// position that is readable again.
Resume findResume(SQLite::Database& src, const std::string& table, int64_t lastGood) {
  auto probe = [&](int64_t x) -> std::optional<std::optional<int64_t>> {
    try {
      return seek(src, table, x);
    } catch (const SQLite::Exception&) {
      return std::nullopt;
    }
  };
  int64_t failing = lastGood;
  int64_t step = 1;
  std::optional<std::optional<int64_t>> okResult;
  int64_t okAt = 0;
  while (step > 0 && step < (int64_t{1} << 62)) {
    int64_t x = lastGood + step;
    if (x < lastGood) break;  // overflow
    if (auto r = probe(x)) {
      okResult = r;
      okAt = x;
      break;
    }
    failing = x;
    step *= 2;
  }
  if (!okResult) return Resume{};
  // Narrow (failing, okAt] to the smallest readable position.
  while (okAt - failing > 1) {
    int64_t mid = failing + (okAt - failing) / 2;
    if (auto r = probe(mid)) {
      okResult = r;
      okAt = mid;
    } else {
      failing = mid;
    }
  }
  return Resume{true, *okResult};
}

void bindColumn(SQLite::Statement& ins, int index, const SQLite::Column& c) {
  switch (c.getType()) {
    case SQLITE_INTEGER: ins.bind(index, static_cast<int64_t>(c.getInt64())); break;
    case SQLITE_FLOAT: ins.bind(index, c.getDouble()); break;
    case SQLITE_BLOB: ins.bind(index, c.getBlob(), c.getBytes()); break;
    case SQLITE_NULL: ins.bind(index); break;
    default: ins.bind(index, c.getString()); break;
  }
}

std::string range(int64_t from, std::optional<int64_t> to) {
  if (!to) return "rows after row id " + std::to_string(from);
  if (*to - 1 == from + 1) return "row id " + std::to_string(from + 1);
  return "row ids " + std::to_string(from + 1) + "-" + std::to_string(*to - 1);
}

SalvageTableReport copyTable(SQLite::Database& src, SQLite::Database& dst, const std::string& table,
                             const std::vector<std::string>& columns, std::vector<std::string>& problems) {
  SalvageTableReport report;
  report.table = table;
  std::string list, marks;
  for (const auto& c : columns) {
    list += (list.empty() ? "" : ", ") + quoteIdentifier(c);
    marks += marks.empty() ? "?" : ", ?";
  }
  SQLite::Statement ins(dst, "INSERT OR REPLACE INTO " + quoteIdentifier(table) + " (" + list +
                                 ") VALUES (" + marks + ")");
  const std::string selectSql = "SELECT rowid, " + list + " FROM " + quoteIdentifier(table) +
                                " WHERE rowid > ? ORDER BY rowid";
  int64_t after = std::numeric_limits<int64_t>::min();
  int rejectedShown = 0;
  while (true) {
    int64_t lastGood = after;
    try {
      SQLite::Statement sel(src, selectSql);
      sel.bind(1, static_cast<int64_t>(after));
      while (sel.executeStep()) {
        int64_t rowid = sel.getColumn(0).getInt64();
        for (size_t i = 0; i < columns.size(); ++i) {
          bindColumn(ins, static_cast<int>(i + 1), sel.getColumn(static_cast<int>(i + 1)));
        }
        try {
          ins.exec();
          ++report.rowsCopied;
        } catch (const SQLite::Exception& e) {
          // Garbage that violates the schema: not copied, but said.
          if (rejectedShown++ < 20) {
            problems.push_back(table + ": row id " + std::to_string(rowid) +
                               " was read but not accepted by the new schema: " + e.what());
          }
          report.unreadable.push_back("row id " + std::to_string(rowid) + " (invalid content)");
        }
        ins.reset();
        ins.clearBindings();
        lastGood = rowid;
        after = rowid;
      }
      return report;
    } catch (const SQLite::Exception& e) {
      if (!detail::isCorruption(e)) {
        problems.push_back(table + ": read error after row id " + std::to_string(lastGood) + ": " +
                           e.what());
      }
      int64_t base = std::max<int64_t>(lastGood, 0);
      Resume resume = findResume(src, table, base);
      if (!resume.found) {
        report.unreadable.push_back(range(base, std::nullopt));
        return report;
      }
      if (!resume.rowid) {
        report.unreadable.push_back(range(base, std::nullopt) + " (up to the end of the table)");
        return report;
      }
      if (*resume.rowid <= base + 1) {
        // Reachable by its id but its content is unreadable: skip that row.
        report.unreadable.push_back("row id " + std::to_string(*resume.rowid));
        after = *resume.rowid;
      } else {
        report.unreadable.push_back(range(base, *resume.rowid));
        after = *resume.rowid - 1;
      }
    }
  }
}

int64_t metaOf(SQLite::Database& db, const char* key) {
  SQLite::Statement s(db, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  return s.executeStep() ? s.getColumn(0).getInt64() : 0;
}

void setMeta(SQLite::Database& db, const char* key, int64_t value) {
  SQLite::Statement s(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  s.bind(1, key);
  s.bind(2, static_cast<int64_t>(value));
  s.exec();
}

void renameSet(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::path side = from.string() + suffix;
    if (std::filesystem::exists(side)) std::filesystem::rename(side, to.string() + suffix, ec);
  }
}

}  // namespace

bool SalvageReport::complete() const {
  if (missingSeqCount > 0 || !problems.empty()) return false;
  return std::all_of(tables.begin(), tables.end(),
                     [](const SalvageTableReport& t) { return t.unreadable.empty(); });
}

std::string SalvageReport::describe() const {
  std::ostringstream out;
  out << "salvaged " << source.string() << " (schema " << sourceSchemaVersion << ") into "
      << destination.string() << "\n";
  for (const auto& t : tables) {
    out << "  " << t.table << ": " << t.rowsCopied << " rows copied";
    if (!t.unreadable.empty()) {
      out << "; unreadable: ";
      for (size_t i = 0; i < t.unreadable.size() && i < 20; ++i) out << (i ? ", " : "") << t.unreadable[i];
      if (t.unreadable.size() > 20) out << ", ... (" << t.unreadable.size() << " in all)";
    }
    out << "\n";
  }
  out << "  events: seq continues after " << lastSeq << ", acknowledged through " << ackedThrough << "\n";
  if (skippedFrom > 0) {
    out << "  seq " << skippedFrom << "-" << skippedTo
        << " skipped (above the counters found, below the high-water mark): announced as a gap\n";
  }
  if (missingSeqCount > 0) {
    out << "  LOST unacknowledged events: " << missingSeqCount << " (seq";
    for (size_t i = 0; i < missingSeqs.size() && i < 50; ++i) out << " " << missingSeqs[i];
    if (missingSeqCount > 50) out << " ...";
    out << "); the OMS will see a gap in seq\n";
  }
  for (const auto& p : problems) out << "  note: " << p << "\n";
  if (!sourceRenamedTo.empty()) out << "  the damaged file is kept as " << sourceRenamedTo.string() << "\n";
  out << (complete() ? "  nothing was lost\n" : "  some data could not be read (see above)\n");
  return out.str();
}

std::vector<std::filesystem::path> findCorruptCopies(const std::filesystem::path& databasePath) {
  std::vector<std::filesystem::path> out;
  std::filesystem::path dir = databasePath.parent_path();
  if (dir.empty()) dir = ".";
  std::string prefix = databasePath.filename().string() + ".corrupt-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    if (name.find(".salvaged") != std::string::npos) continue;
    if (name.ends_with("-wal") || name.ends_with("-shm") || name.ends_with("-journal")) continue;
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<SalvageReport> salvageDatabase(const std::filesystem::path& source,
                                      const std::filesystem::path& destination, const Clock& clock,
                                      Logger logger) {
  SalvageReport report;
  report.source = source;
  report.destination = destination;
  if (!std::filesystem::exists(source)) {
    return fail(ErrorCode::kNotFound, "no database to salvage at " + source.string());
  }
  if (std::filesystem::exists(destination)) {
    return fail(ErrorCode::kAlreadyExists,
                destination.string() + " already exists; salvage writes a new database only: "
                                       "move that file away or choose another destination");
  }
  std::unique_ptr<SQLite::Database> src;
  std::vector<std::string> sourceTables;
  try {
    src = std::make_unique<SQLite::Database>(source.string(), SQLite::OPEN_READONLY);
    SQLite::Statement s(*src, "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (s.executeStep()) sourceTables.push_back(s.getColumn(0).getString());
  } catch (const SQLite::Exception& e) {
    return fail(ErrorCode::kCorrupt, "cannot read the table list of " + source.string() + " (" +
                                         e.what() + "); nothing can be salvaged from it");
  }
  try {
    report.sourceSchemaVersion = detail::readSchemaVersion(*src);
  } catch (const SQLite::Exception& e) {
    report.problems.push_back(std::string("schema version unreadable: ") + e.what());
  }

  try {
    SQLite::Database dst(destination.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    dst.exec("PRAGMA journal_mode = WAL");
    dst.exec("PRAGMA synchronous = FULL");
    detail::applyMigrations(dst, 0);
    dst.exec("PRAGMA foreign_keys = OFF");
    std::vector<std::string> tables;
    {
      SQLite::Statement s(dst,
                          "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> "
                          "'schema_version' AND name NOT LIKE 'sqlite_%' ORDER BY name");
      while (s.executeStep()) tables.push_back(s.getColumn(0).getString());
    }
    dst.exec("BEGIN IMMEDIATE");
    bool metaComplete = false;
    for (const auto& table : tables) {
      if (std::find(sourceTables.begin(), sourceTables.end(), table) == sourceTables.end()) {
        // Older schema without this table, or the schema entry was lost.
        SalvageTableReport t;
        t.table = table;
        report.tables.push_back(t);
        continue;
      }
      std::vector<std::string> common;
      std::vector<std::string> srcCols;
      try {
        srcCols = columnsOf(*src, table);
      } catch (const SQLite::Exception& e) {
        report.problems.push_back(table + ": columns unreadable: " + e.what());
        continue;
      }
      for (const auto& c : columnsOf(dst, table)) {
        if (std::find(srcCols.begin(), srcCols.end(), c) != srcCols.end()) common.push_back(c);
      }
      report.tables.push_back(copyTable(*src, dst, table, common, report.problems));
      if (table == "meta") metaComplete = report.tables.back().unreadable.empty();
      // A copy from before v8 keeps a ship task's door in bin.
      if (table == "tasks" && std::find(srcCols.begin(), srcCols.end(), "door") == srcCols.end()) {
        dst.exec(std::string(shipDoorFromBinSql()));
      }
    }

    // Counters: seq must continue after every seq ever used, which the
    // high-water file beside the database knows even when the counters row
    // is lost (C-E6).
    int64_t lastMissing = 0;
    std::optional<HighWaterMarks> marks;
    if (auto read = readHighWater(highWaterPath(destination))) {
      marks = *read;
    } else {
      report.problems.push_back(read.error().message);
    }
    int64_t lastSeq = metaOf(dst, "last_seq");
    int64_t maxSeq = dst.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
    if (maxSeq > lastSeq) {
      if (!metaComplete && !marks) {
        report.problems.push_back("the last seq counter was unreadable and there is no high-water file; seq "
                                  "continues after the highest event found (" + std::to_string(maxSeq) +
                                  "); events after it, if any existed, may be reused numbers");
      }
      lastSeq = maxSeq;
      setMeta(dst, "last_seq", lastSeq);
    }
    if (!metaComplete && marks) {
      // The counters may be older than what was used: go on above the marks.
      if (marks->seqCeiling > lastSeq) {
        report.skippedTo = marks->seqCeiling;
        report.problems.push_back("the counters were unreadable; seq continues after the high-water mark " +
                                  std::to_string(marks->seqCeiling) + " (numbers " + std::to_string(lastSeq + 1) +
                                  "-" + std::to_string(marks->seqCeiling) +
                                  " may have been used and are announced to the OMS as a gap)");
        report.skippedFrom = lastSeq + 1;
        lastSeq = marks->seqCeiling;
        setMeta(dst, "last_seq", lastSeq);
      }
      if (metaOf(dst, "acked_through") < marks->ackedThrough) setMeta(dst, "acked_through", marks->ackedThrough);
    }
    if (!metaComplete) {
      int64_t session = metaOf(dst, "session");
      if (marks && marks->session > session) {
        setMeta(dst, "session", marks->session);
        report.problems.push_back("the session counter was unreadable; it continues after the high-water mark " +
                                  std::to_string(marks->session));
      } else if (!marks && session < clock.nowMs()) {
        setMeta(dst, "session", clock.nowMs());
        report.problems.push_back("the session counter may have been lost; it now continues from "
                                  "the current time in ms so it still grows");
      }
    }
    report.lastSeq = lastSeq;
    report.ackedThrough = metaOf(dst, "acked_through");
    {
      lastMissing = 0;
      SQLite::Statement s(dst, "SELECT seq FROM events WHERE seq > ? ORDER BY seq");
      s.bind(1, static_cast<int64_t>(report.ackedThrough));
      int64_t expect = report.ackedThrough + 1;
      auto missing = [&](int64_t from, int64_t to) {
        for (int64_t q = from; q < to; ++q) {
          ++report.missingSeqCount;
          lastMissing = q;
          if (report.missingSeqs.size() < 1000) report.missingSeqs.push_back(q);
        }
      };
      while (s.executeStep()) {
        int64_t seq = s.getColumn(0).getInt64();
        missing(expect, seq);
        expect = seq + 1;
      }
      missing(expect, (report.skippedFrom > 0 ? report.skippedFrom : lastSeq + 1));
    }
    // The agent announces what cannot be sent again with one store.salvaged
    // event when it next opens the database (C-E6).
    {
      int64_t from = report.missingSeqs.empty() ? 0 : report.missingSeqs.front();
      int64_t to = report.missingSeqCount > 0 ? lastMissing : 0;
      if (report.skippedFrom > 0) {
        from = from > 0 ? from : report.skippedFrom;
        to = report.skippedTo;
      }
      if (from > 0) {
        setMeta(dst, "pending_gap_from", from);
        setMeta(dst, "pending_gap_to", to);
      }
    }
    // Unfinished wave ingests first (their staged rows have no wave row and
    // must not be taken for tasks whose wave was lost), then the generation
    // counter above every generation found.
    detail::sweepAllIngests(dst);
    dst.exec("INSERT INTO meta (key, value) VALUES ('gen', max((SELECT coalesce(max(gen), 0) FROM tasks), "
             "(SELECT coalesce(max(gen), 0) FROM waves))) ON CONFLICT (key) DO UPDATE SET "
             "value = max(value, excluded.value)");
    // Tasks whose wave row was lost get a placeholder wave so they stay usable.
    {
      SQLite::Statement s(dst,
                          "SELECT wave_id, max(revision), count(*), max(gen) FROM tasks WHERE wave_id NOT IN "
                          "(SELECT wave_id FROM waves) GROUP BY wave_id");
      std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>> orphans;
      while (s.executeStep()) {
        orphans.emplace_back(s.getColumn(0).getString(), s.getColumn(1).getInt64(),
                             s.getColumn(2).getInt64(), s.getColumn(3).getInt64());
      }
      for (const auto& [wave, revision, count, gen] : orphans) {
        SQLite::Statement ins(dst,
                              "INSERT INTO waves (wave_id, revision, priority, state, cmd_id, "
                              "task_count, created_ms, updated_ms, gen) VALUES (?, ?, 0, 'open', "
                              "'salvage', ?, ?, ?, ?)");
        ins.bind(1, wave);
        ins.bind(2, static_cast<int64_t>(std::max<int64_t>(1, revision)));
        ins.bind(3, static_cast<int64_t>(count));
        ins.bind(4, static_cast<int64_t>(clock.nowMs()));
        ins.bind(5, static_cast<int64_t>(clock.nowMs()));
        ins.bind(6, static_cast<int64_t>(gen));
        ins.exec();
        report.problems.push_back("wave " + wave + " was unreadable; recreated from its " +
                                  std::to_string(count) + " readable tasks (priority 0)");
      }
    }
    {
      SQLite::Statement s(dst,
                          "SELECT w.wave_id, w.task_count, (SELECT count(*) FROM live_tasks t WHERE "
                          "t.wave_id = w.wave_id) FROM waves w");
      while (s.executeStep()) {
        if (s.getColumn(1).getInt64() != s.getColumn(2).getInt64()) {
          report.problems.push_back("wave " + s.getColumn(0).getString() + ": " +
                                    std::to_string(s.getColumn(2).getInt64()) + " of " +
                                    std::to_string(s.getColumn(1).getInt64()) +
                                    " tasks could be read; ask the OMS to send it again");
        }
      }
    }
    dst.exec("COMMIT");
    dst.exec("PRAGMA foreign_keys = ON");
    std::string check = dst.execAndGet("PRAGMA quick_check").getString();
    if (check != "ok") {
      return fail(ErrorCode::kCorrupt, "the salvaged database " + destination.string() +
                                           " fails its own check (" + check + "); keep both files "
                                           "and ask for help");
    }
  } catch (const SQLite::Exception& e) {
    return std::unexpected(detail::translate(e, "writing the salvaged database", destination));
  }
  src.reset();
  report.sourceRenamedTo = source.string() + ".salvaged";
  renameSet(source, report.sourceRenamedTo);
  logger.warn("{}", report.describe());
  return report;
}

}  // namespace floorlink::agent
