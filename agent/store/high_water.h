#pragma once
// The highest seq and session this agent may have published, kept in a small
// fsynced file beside the database (`floorlink.db` -> `floorlink.hw`), so a
// damaged, lost or salvaged database never makes the agent reuse a number
// (C-E6). seq is reserved in blocks (one write per kSeqBlock events); the
// session is written on every increment (connects are rare).
#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/error.h"

namespace floorlink::agent {

// seq numbers reserved per write of the file.
inline constexpr int64_t kSeqBlock = 1000;

struct HighWaterMarks {
  int64_t epoch = 0;         // identity of the database the marks were written for (meta 'epoch')
  int64_t seqCeiling = 0;    // no stored seq was ever above this
  int64_t session = 0;       // highest session ever handed out
  int64_t ackedThrough = 0;  // acked_through when written (a lower bound of the OMS's)
};

// floorlink.db -> floorlink.hw (same directory, same stem).
std::filesystem::path highWaterPath(const std::filesystem::path& databasePath);

// nullopt when the file does not exist; kCorrupt when it cannot be parsed.
Result<std::optional<HighWaterMarks>> readHighWater(const std::filesystem::path& file);
// Atomically replaces the file (temporary file, fsync, rename, fsync of the
// directory): after a crash it holds either the old or the new marks.
Status writeHighWater(const std::filesystem::path& file, const HighWaterMarks& marks);

// For an agent running without its database (damaged, salvage pending): the
// next session from the file alone, written before it is returned (C-P3).
Result<uint64_t> nextSessionFromHighWater(const std::filesystem::path& databasePath);

}  // namespace floorlink::agent
