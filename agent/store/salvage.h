#pragma once
// Recovery from a damaged database (`floorlinkctl db salvage`): copy every
// readable row into a new database, keeping seq, and say what was lost.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

namespace floorlink::agent {

struct SalvageTableReport {
  std::string table;
  int64_t rowsCopied = 0;
  // Row id ranges that could not be read ("rows 120-180"); a range may hold
  // fewer rows than its width.
  std::vector<std::string> unreadable;
};

struct SalvageReport {
  std::filesystem::path source;
  std::filesystem::path destination;
  std::filesystem::path sourceRenamedTo;  // source + ".salvaged"
  int sourceSchemaVersion = 0;
  std::vector<SalvageTableReport> tables;
  int64_t lastSeq = 0;       // seq continues after this
  int64_t ackedThrough = 0;
  // Unacknowledged events (seq > ackedThrough) that could not be read: the
  // OMS will never receive them. At most 1000 listed; the count is exact.
  std::vector<int64_t> missingSeqs;
  int64_t missingSeqCount = 0;
  // The counters were unreadable and seq continues above the high-water mark
  // (C-E6): numbers skippedFrom..skippedTo may have been used; 0 when not.
  int64_t skippedFrom = 0, skippedTo = 0;
  std::vector<std::string> problems;  // everything else worth telling

  bool complete() const;  // nothing was lost
  std::string describe() const;  // multi-line text for floorlinkctl
};

// Copies `source` (a damaged floorlink database, read only) into a new
// database at `destination` (must not exist) with the current schema. On
// success the source (and its -wal/-shm) is renamed with ".salvaged" so the
// agent no longer refuses to start. Fails only when nothing can be read.
Result<SalvageReport> salvageDatabase(const std::filesystem::path& source,
                                      const std::filesystem::path& destination, const Clock& clock,
                                      Logger logger = {});

// Moved-aside copies of `databasePath` not salvaged yet, oldest first.
std::vector<std::filesystem::path> findCorruptCopies(const std::filesystem::path& databasePath);

}  // namespace floorlink::agent
