#include "agent/store/sqlite_util.h"

#include <sqlite3.h>

#include <ctime>

#include "agent/store/schema.h"

namespace floorlink::agent::detail {
namespace {
int primary(const SQLite::Exception& e) { return e.getErrorCode() & 0xff; }
}  // namespace

bool isDiskFull(const SQLite::Exception& e) { return primary(e) == SQLITE_FULL; }
bool isCorruption(const SQLite::Exception& e) {
  return primary(e) == SQLITE_CORRUPT || primary(e) == SQLITE_NOTADB;
}
bool isConstraint(const SQLite::Exception& e) { return primary(e) == SQLITE_CONSTRAINT; }

Error translate(const SQLite::Exception& e, std::string_view what, const std::filesystem::path& db) {
  std::string where = std::string(what) + " (database " + db.string() + "): " + e.what();
  switch (primary(e)) {
    case SQLITE_FULL:
      return Error{ErrorCode::kDiskFull,
                   where + "; the disk or the configured database size limit is full: free space, "
                           "then new work is accepted again; nothing already stored is lost"};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error{ErrorCode::kCorrupt,
                   where + "; the database is damaged: restart the agent (it moves the file aside) "
                           "and run `floorlinkctl db salvage`"};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{ErrorCode::kBusy,
                   where + "; another process holds the database (is a second floorlink running?)"};
    case SQLITE_IOERR:
      return Error{ErrorCode::kIo, where + "; check the disk (dmesg) and the file's permissions"};
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return Error{ErrorCode::kPermission,
                   where + "; check that the data directory exists and is writable by floorlink"};
    default:
      return Error{ErrorCode::kStorage, where};
  }
}

int readSchemaVersion(SQLite::Database& db) {
  SQLite::Statement tables(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  tables.executeStep();
  if (tables.getColumn(0).getInt64() == 0) return 0;
  if (!db.tableExists("schema_version")) return -1;
  SQLite::Statement version(db, "SELECT version FROM schema_version WHERE id = 1");
  if (!version.executeStep()) return -1;
  return version.getColumn(0).getInt();
}

void applyMigrations(SQLite::Database& db, int from) {
  for (const Migration& migration : migrations()) {
    if (migration.version <= from) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(std::string(migration.sql));
      SQLite::Statement set(db,
                            "INSERT INTO schema_version (id, version) VALUES (1, ?) "
                            "ON CONFLICT (id) DO UPDATE SET version = excluded.version");
      set.bind(1, migration.version);
      set.exec();
      db.exec("COMMIT");
    } catch (...) {
      if (sqlite3_get_autocommit(db.getHandle()) == 0) {
        try {
          db.exec("ROLLBACK");
        } catch (const SQLite::Exception&) {
        }
      }
      throw;
    }
  }
}

std::string utcStamp(int64_t unixMs) {
  std::time_t seconds = static_cast<std::time_t>(unixMs / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

std::string quoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace floorlink::agent::detail
