#pragma once
// Internal helpers of the store shared by its .cpp files. Includes SQLiteCpp:
// never include from a public header.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace floorlink::agent::detail {

// Maps an SQLite failure to our error: SQLITE_FULL -> kDiskFull,
// SQLITE_CORRUPT/NOTADB -> kCorrupt, SQLITE_BUSY/LOCKED -> kBusy,
// SQLITE_IOERR -> kIo, others kStorage. `what` says what we were doing.
Error translate(const SQLite::Exception& e, std::string_view what, const std::filesystem::path& db);
bool isDiskFull(const SQLite::Exception& e);
bool isCorruption(const SQLite::Exception& e);
bool isConstraint(const SQLite::Exception& e);

// Schema version of an open database: 0 when empty, -1 when it has tables
// but no schema_version (not a floorlink database).
int readSchemaVersion(SQLite::Database& db);
// Applies migrations (from, latest] each in its own transaction.
void applyMigrations(SQLite::Database& db, int from);

// "20261122T031000Z"
std::string utcStamp(int64_t unixMs);

std::string quoteIdentifier(std::string_view name);

}  // namespace floorlink::agent::detail
