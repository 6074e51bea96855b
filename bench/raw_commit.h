#pragma once
// The baseline of the station-step benchmarks: one row per durable SQLite
// transaction (WAL, synchronous=FULL, the store's pragmas), p50 and p99 in ms.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_util.h"

namespace floorlink::bench {

inline std::pair<double, double> rawCommitMs(const std::filesystem::path& file, int n) {
  using Clock = std::chrono::steady_clock;
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "bench: cannot open %s\n", file.c_str());
    std::exit(1);
  }
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES(?)", -1, &ins, nullptr);
  std::string payload(200, 'x');
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_text(ins, 1, payload.c_str(), static_cast<int>(payload.size()), SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return {percentile(ms, 0.5), percentile(ms, 0.99)};
}

}  // namespace floorlink::bench
