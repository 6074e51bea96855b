#include "agent/store/task_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <unordered_set>

#include "agent/store/salvage.h"
#include "agent/store/schema.h"
#include "agent/store/store_impl.h"

namespace floorlink::agent {

using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kDatabaseFile = "floorlink.db";

// At open: compares the database with the high-water file. The database is
// the continuation of the marks when it carries their epoch and intact
// counters; otherwise (a new file where one was lost, a copy restored or
// salvaged without its counters, a lost counters row) seq and session go on
// above the marks and the numbers in between are announced as a gap with
// one store.salvaged event (C-E6). Also announces a gap salvage left.
Status reconcileHighWater(TaskStore::Impl& d) {
  d.hwPath = highWaterPath(d.options.path);
  std::optional<HighWaterMarks> file;
  if (auto read = readHighWater(d.hwPath)) {
    file = *read;
  } else {
    d.log.error("{}; rebuilding it from the database", read.error().message);
  }
  SQLite::Database& db = *d.db;
  std::map<std::string, int64_t, std::less<>> meta;
  {
    SQLite::Statement s(db, "SELECT key, value FROM meta");
    while (s.executeStep()) meta[s.getColumn(0).getString()] = s.getColumn(1).getInt64();
  }
  auto value = [&](std::string_view key) -> int64_t {
    auto it = meta.find(key);
    return it == meta.end() ? 0 : it->second;
  };
  const int64_t maxEvent = db.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
  const int64_t lastSeq = value("last_seq"), acked = value("acked_through");
  int64_t epoch = value("epoch");
  const bool intact = meta.contains("last_seq") && meta.contains("session") && meta.contains("acked_through") &&
                      epoch != 0 && lastSeq >= maxEvent && lastSeq >= acked;
  const int64_t dbLast = std::max({lastSeq, maxEvent, acked});
  if (epoch == 0) epoch = db.execAndGet("SELECT abs(random() % 9007199254740991) + 1").getInt64();
  d.gapFrom = value("gap_from");
  d.gapTo = value("gap_to");
  d.gapEventSeq = value("gap_event");

  // What salvage could not copy (agent/store/salvage.cpp).
  int64_t gapFrom = value("pending_gap_from"), gapTo = value("pending_gap_to");
  std::string reason = gapFrom > 0 ? "salvaged: unacknowledged events were unreadable" : "";
  int64_t base = dbLast;
  const bool foreign = file && !(intact && file->epoch == epoch);
  if (foreign) {
    base = std::max(file->seqCeiling, dbLast);
    int64_t from = std::max({dbLast, acked, file->ackedThrough}) + 1;
    if (from <= base) {
      gapFrom = gapFrom > 0 ? std::min(gapFrom, from) : from;
      gapTo = std::max(gapTo, base);
      reason = !meta.contains("epoch") || !intact ? "database counters lost or damaged"
                                                  : "database lost or replaced";
    }
    d.log.error("{} is not the database the high-water marks in {} were written for ({}): seq continues "
                "after {} and the session after {}, so no number the OMS may have seen is used again",
                d.options.path.string(), d.hwPath.string(), intact ? "another database" : "counters damaged",
                base, file->session);
  } else if (!file && !intact) {
    d.log.error("the counters of {} are damaged and there is no high-water file: seq continues after the "
                "highest number found ({})", d.options.path.string(), dbLast);
  }
  HighWaterMarks marks = file.value_or(HighWaterMarks{});
  marks.session = std::max(marks.session, value("session"));
  marks.ackedThrough = std::max(marks.ackedThrough, acked);
  if (foreign) {
    marks.seqCeiling = base + kSeqBlock;
    // First the file, still under its old epoch: a crash before the
    // database commits leaves the marks foreign, and the next open goes on
    // above them again.
    if (auto s = writeHighWater(d.hwPath, marks); !s) return s;
  } else if (marks.seqCeiling < dbLast) {
    marks.seqCeiling = dbLast + kSeqBlock;
  }
  marks.epoch = epoch;
  d.hw = marks;

  const bool announce = gapFrom > 0 && gapTo >= gapFrom;
  const bool adjust = base != lastSeq || value("session") < marks.session || value("epoch") != epoch ||
                      !meta.contains("acked_through") || meta.contains("pending_gap_from") || announce;
  if (adjust) {
    auto adjusted = d.transact("continuing above the high-water marks", [&]() -> Status {
      d.setMetaValue("last_seq", base);
      d.setMetaValue("session", marks.session);
      d.setMetaValue("epoch", epoch);
      d.setMetaValue("acked_through", acked);
      db.exec("DELETE FROM meta WHERE key IN ('pending_gap_from', 'pending_gap_to')");
      if (announce) {
        Json data;
        data["missing_from"] = gapFrom;
        data["missing_to"] = gapTo;
        data["reason"] = reason;
        sync::EventDraft draft;
        draft.type = "store.salvaged";
        draft.dataJson = data.dump();
        auto seq = d.appendEventInTxn(draft);
        if (!seq) return std::unexpected(seq.error());
        d.setMetaValue("gap_from", gapFrom);
        d.setMetaValue("gap_to", gapTo);
        d.setMetaValue("gap_event", *seq);
        d.gapFrom = gapFrom;
        d.gapTo = gapTo;
        d.gapEventSeq = *seq;
        d.log.warn("seq {}-{} cannot be sent again ({}): announced with store.salvaged (seq {})", gapFrom, gapTo,
                   reason, *seq);
      }
      return ok();
    });
    if (!adjusted) return adjusted;
  }
  if (!file || file->epoch != d.hw.epoch || file->seqCeiling != d.hw.seqCeiling ||
      file->session != d.hw.session) {
    if (auto s = writeHighWater(d.hwPath, d.hw); !s) return s;
  }
  return ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Opening

StoreOptions StoreOptions::fromConfig(const config::Config& config) {
  StoreOptions options;
  options.path = config.agent.dataDir / kDatabaseFile;
  options.site = config.agent.site;
  options.agentId = config.agent.id;
  options.synchronous = config.storage.synchronous;
  options.busyTimeout = config.storage.busyTimeout;
  options.retention = config.storage.retention;
  return options;
}

TaskStore::TaskStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TaskStore::~TaskStore() {
  if (impl_) impl_->rollbackTxn();
}

namespace {

// Moves the database (and its -wal/-shm) aside; returns the new main path.
Result<std::filesystem::path> moveAside(const std::filesystem::path& path, const Clock& clock) {
  std::string base = path.string() + ".corrupt-" + detail::utcStamp(clock.nowMs());
  std::filesystem::path target = base;
  for (int n = 1; std::filesystem::exists(target); ++n) target = base + "-" + std::to_string(n);
  std::error_code ec;
  std::filesystem::rename(path, target, ec);
  if (ec) {
    return fail(ErrorCode::kIo, "cannot move the corrupt database " + path.string() + " aside to " +
                                    target.string() + ": " + ec.message() +
                                    "; fix the directory's permissions; nothing was deleted");
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::path side = path.string() + suffix;
    if (std::filesystem::exists(side)) std::filesystem::rename(side, target.string() + suffix, ec);
  }
  return target;
}

}  // namespace

Result<std::unique_ptr<TaskStore>> TaskStore::open(const StoreOptions& options, const Clock& clock,
                                                   Logger logger) {
  if (options.path.empty()) return fail(ErrorCode::kInvalidArgument, "no database path given");
  std::error_code ec;
  std::filesystem::path dir = options.path.parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return fail(ErrorCode::kPermission, "cannot create the data directory " + dir.string() + ": " +
                                              ec.message());
    }
  }
  bool existed = std::filesystem::exists(options.path) && std::filesystem::file_size(options.path, ec) > 0;
  if (!existed) {
    auto copies = findCorruptCopies(options.path);
    if (!copies.empty()) {
      return fail(ErrorCode::kCorrupt,
                  "the database " + options.path.string() + " was found corrupt and moved aside to " +
                      copies.back().string() +
                      "; it has not been salvaged yet, and starting an empty database would reuse "
                      "event seq numbers: run `floorlinkctl db salvage` (or move that file "
                      "elsewhere to start deliberately from an empty database)");
    }
  }

  std::unique_ptr<SQLite::Database> db;
  std::string corruptDetail;
  try {
    db = std::make_unique<SQLite::Database>(options.path.string(),
                                            SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db->setBusyTimeout(static_cast<int>(options.busyTimeout.count()));
    if (existed && options.quickCheckOnOpen) {
      SQLite::Statement check(*db, "PRAGMA quick_check(20)");
      std::string problems;
      while (check.executeStep()) {
        std::string line = check.getColumn(0).getString();
        if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
      }
      if (!problems.empty()) corruptDetail = problems;
    }
  } catch (const SQLite::Exception& e) {
    if (!detail::isCorruption(e)) return std::unexpected(detail::translate(e, "opening", options.path));
    corruptDetail = e.what();
  }
  if (!corruptDetail.empty()) {
    db.reset();
    auto moved = moveAside(options.path, clock);
    if (!moved) {
      logger.error("database {} is corrupt ({}); {}", options.path.string(), corruptDetail,
                   moved.error().message);
      return std::unexpected(moved.error());
    }
    std::string message = "the database " + options.path.string() + " is corrupt (" + corruptDetail +
                          "); it was moved aside to " + moved->string() +
                          " (nothing deleted). The agent does not start with an empty database, "
                          "which would reuse event seq numbers: run `floorlinkctl db salvage` to "
                          "copy every readable row into a new database, then start again";
    logger.error("{}", message);
    return fail(ErrorCode::kCorrupt, message);
  }

  auto impl = std::make_unique<Impl>(options, clock, logger, std::move(db));
  try {
    SQLite::Database& d = *impl->db;
    std::string mode = d.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") {
      return fail(ErrorCode::kStorage, "cannot switch " + options.path.string() +
                                           " to WAL mode (got '" + mode + "'); is it on a network "
                                           "file system?");
    }
    d.exec(options.synchronous == config::SyncMode::kFull ? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL");
    d.exec("PRAGMA foreign_keys = ON");
    int version = detail::readSchemaVersion(d);
    if (version < 0) {
      return fail(ErrorCode::kInvalidArgument,
                  options.path.string() + " is an SQLite database but not a floorlink one (no "
                                          "schema_version); point storage at another file");
    }
    if (version > latestSchemaVersion()) {
      return fail(ErrorCode::kUnsupported,
                  options.path.string() + " has schema version " + std::to_string(version) +
                      ", newer than this agent understands (" +
                      std::to_string(latestSchemaVersion()) +
                      "); install the newer agent again (downgrades are not supported)");
    }
    if (version < latestSchemaVersion()) {
      if (version > 0) {
        logger.info("migrating {} from schema {} to {}", options.path.string(), version,
                    latestSchemaVersion());
      }
      detail::applyMigrations(d, version);
    }
    impl->schemaVersion = latestSchemaVersion();
    // Leftovers of wave ingests that never finished: staged rows of a
    // command without cmd.result (the OMS sends it again, C-C1, C-C4), or
    // rows a revision replaced that were not deleted yet.
    auto swept = impl->transact("sweeping unfinished wave ingests",
                                [&]() -> Result<int64_t> { return detail::sweepAllIngests(d); });
    if (!swept) return std::unexpected(swept.error());
    if (*swept > 0) logger.info("swept the rows of {} unfinished wave ingest(s)", *swept);
    if (auto s = reconcileHighWater(*impl); !s) return std::unexpected(s.error());
    if (options.maxSizeBytes > 0) {
      int64_t pageSize = d.execAndGet("PRAGMA page_size").getInt64();
      d.exec("PRAGMA max_page_count = " + std::to_string(std::max<int64_t>(1, options.maxSizeBytes / pageSize)));
    }
  } catch (const SQLite::Exception& e) {
    return std::unexpected(detail::translate(e, "preparing the database", options.path));
  }
  // Checkpoints off the loop thread; SQLite's own (inside a commit) only
  // when that thread cannot be had.
  if (auto checkpointer = WalCheckpointer::start(options.path, logger); checkpointer) {
    try {
      impl->db->exec("PRAGMA wal_autocheckpoint = 0");
      impl->checkpointer = std::move(*checkpointer);
    } catch (const SQLite::Exception& e) {
      logger.warn("WAL checkpoints stay in the commits: {}", e.what());
    }
  } else {
    logger.warn("WAL checkpoints stay in the commits: {}", checkpointer.error().message);
  }
  return std::unique_ptr<TaskStore>(new TaskStore(std::move(impl)));
}

Result<StoreInfo> TaskStore::info() {
  Impl& d = *impl_;
  return d.guarded("reading database information", [&]() -> Result<StoreInfo> {
    StoreInfo info;
    info.path = d.options.path;
    info.schemaVersion = d.schemaVersion;
    info.journalMode = d.db->execAndGet("PRAGMA journal_mode").getString();
    int64_t sync = d.db->execAndGet("PRAGMA synchronous").getInt64();
    info.synchronous = sync == 2 ? "full" : sync == 1 ? "normal" : sync == 3 ? "extra" : "off";
    info.foreignKeys = d.db->execAndGet("PRAGMA foreign_keys").getInt64() != 0;
    info.busyTimeoutMs = d.db->execAndGet("PRAGMA busy_timeout").getInt64();
    int64_t pageSize = d.db->execAndGet("PRAGMA page_size").getInt64();
    info.sizeBytes = d.db->execAndGet("PRAGMA page_count").getInt64() * pageSize;
    if (d.options.maxSizeBytes > 0) {
      info.maxSizeBytes = d.db->execAndGet("PRAGMA max_page_count").getInt64() * pageSize;
    }
    return info;
  });
}

const std::filesystem::path& TaskStore::path() const { return impl_->options.path; }
int TaskStore::schemaVersion() const { return impl_->schemaVersion; }

void TaskStore::setCommitListener(std::function<void(const CommitNotice&)> listener) {
  impl_->listener = std::move(listener);
}
void TaskStore::setHealthListener(std::function<void()> listener) {
  impl_->healthListener = std::move(listener);
}
const Clock& TaskStore::clock() const { return impl_->clock; }
const Logger& TaskStore::logger() const { return impl_->log; }
std::chrono::milliseconds TaskStore::ingestSliceBudget() const { return impl_->options.ingestSliceBudget; }

Status TaskStore::setBulkWrites(bool on) {
  Impl& d = *impl_;
  // (The level can only change outside a transaction.)
  if (d.options.synchronous != config::SyncMode::kFull || d.txnOpen) return ok();
  const char* level = on ? "NORMAL" : "FULL";
  auto set = d.guarded(std::string("setting synchronous=") + level, [&]() -> Status {
    d.db->exec(std::string("PRAGMA synchronous = ") + level);
    return ok();
  });
  if (!set) d.log.error("{}", set.error().message);
  return set;
}

// ---------------------------------------------------------------------------
// Workflows

Result<StoreTransaction> TaskStore::begin() {
  if (auto began = impl_->beginTxn(); !began) return std::unexpected(began.error());
  return StoreTransaction(std::make_unique<StoreTransaction::State>(*impl_));
}

Result<int64_t> TaskStore::appendEvent(const sync::EventDraft& draft) {
  auto txn = begin();
  if (!txn) return std::unexpected(txn.error());
  auto seq = txn->appendEvent(draft);
  if (!seq) return std::unexpected(seq.error());
  auto committed = txn->commit();
  if (!committed) return std::unexpected(committed.error());
  return *seq;
}

Result<std::optional<Task>> TaskStore::findTask(std::string_view taskId) {
  return impl_->findTaskInTxn(taskId);
}

Result<std::optional<Task>> TaskStore::nextTask(std::string_view station, sync::TaskKind kind) {
  Impl& d = *impl_;
  return d.guarded("finding the next task of " + std::string(station), [&]() -> Result<std::optional<Task>> {
    static const std::string activeSql = std::string("SELECT ") + kTaskColumns +
                                         " FROM live_tasks WHERE claimed_by = ? AND state = 'active' "
                                         "ORDER BY id LIMIT 1";
    {
      SQLite::Statement& s = d.cached(activeSql.c_str());
      ResetOnExit reset{s};
      s.bind(1, std::string(station));
      if (s.executeStep()) return std::optional<Task>{readTask(s)};
    }
    static const std::string pendingSql =
        std::string("SELECT ") + kTaskColumns +
        " FROM live_tasks WHERE station = ? AND kind = ? AND state = 'pending' "
        "ORDER BY priority DESC, seq_key, id LIMIT 1";
    std::optional<Task> best;
    auto consider = [&](std::string_view forStation) {
      SQLite::Statement& s = d.cached(pendingSql.c_str());
      ResetOnExit reset{s};
      s.bind(1, std::string(forStation));
      s.bind(2, std::string(sync::toString(kind)));
      if (!s.executeStep()) return;
      Task t = readTask(s);
      auto key = [](const Task& x) {
        return std::make_tuple(-x.priority, x.sequence.value_or(std::numeric_limits<int64_t>::max()),
                               x.arrival);
      };
      if (!best || key(t) < key(*best)) best = std::move(t);
    };
    consider(station);
    if (!station.empty()) consider("");
    return best;
  });
}

namespace {

// The first row of `sql` (kTaskColumns, one bound code) that the station may take.
Result<std::optional<Task>> firstTaskFor(TaskStore::Impl& d, const std::string& sql, std::string_view station,
                                         std::string_view code, const char* what) {
  return d.guarded(std::string(what) + " " + std::string(code), [&]() -> Result<std::optional<Task>> {
    SQLite::Statement& s = d.cached(sql.c_str());
    ResetOnExit reset{s};
    s.bind(1, std::string(code));
    while (s.executeStep()) {
      Task t = readTask(s);
      if (t.station.empty() || t.station == station) return std::optional<Task>{std::move(t)};
    }
    return std::optional<Task>{};
  });
}

}  // namespace

Result<std::optional<Task>> TaskStore::findPendingPack(std::string_view station, std::string_view code) {
  static const std::string byOrder = std::string("SELECT ") + kTaskColumns +
                                     " FROM live_tasks WHERE order_id = ? AND kind = 'pack' AND state = 'pending' "
                                     "ORDER BY priority DESC, id";
  static const std::string byTask = std::string("SELECT ") + kTaskColumns +
                                    " FROM live_tasks WHERE task_id = ? AND kind = 'pack' AND state = 'pending'";
  auto found = firstTaskFor(*impl_, byOrder, station, code, "finding the pack task of order");
  if (!found || *found) return found;
  return firstTaskFor(*impl_, byTask, station, code, "finding pack task");
}

Result<std::optional<Task>> TaskStore::findPendingShip(std::string_view station, std::string_view code) {
  static const std::string bySscc = std::string("SELECT ") + kTaskColumns +
                                    " FROM live_tasks WHERE sscc = ? AND kind = 'ship' AND state = 'pending' ORDER BY id";
  static const std::string byTracking =
      std::string("SELECT ") + kTaskColumns +
      " FROM live_tasks WHERE tracking = ? AND kind = 'ship' AND state = 'pending' ORDER BY id";
  if (code.empty()) return std::optional<Task>{};
  auto found = firstTaskFor(*impl_, bySscc, station, code, "finding the parcel");
  if (!found || *found) return found;
  return firstTaskFor(*impl_, byTracking, station, code, "finding the parcel");
}

Result<std::optional<StationPosition>> TaskStore::position(std::string_view station) {
  Impl& d = *impl_;
  return d.guarded("reading the position of station " + std::string(station), [&]() -> Result<std::optional<StationPosition>> {
    SQLite::Statement& s =
        d.cached("SELECT task_id, step, data_json, updated_ms FROM station_positions WHERE station = ?");
    ResetOnExit reset{s};
    s.bind(1, std::string(station));
    if (!s.executeStep()) return std::optional<StationPosition>{};
    StationPosition p;
    p.station = std::string(station);
    p.taskId = s.getColumn(0).getString();
    p.step = s.getColumn(1).getString();
    p.dataJson = s.getColumn(2).getString();
    p.updatedMs = s.getColumn(3).getInt64();
    return std::optional<StationPosition>{std::move(p)};
  });
}

Result<std::vector<Task>> TaskStore::tasks(const TaskFilter& filter) {
  Impl& d = *impl_;
  std::string sql = std::string("SELECT ") + kTaskColumns + " FROM live_tasks WHERE id > ?";
  if (!filter.waveId.empty()) sql += " AND wave_id = ?";
  if (!filter.station.empty()) sql += " AND (station = ? OR claimed_by = ?)";
  if (filter.state) sql += " AND state = ?";
  sql += " ORDER BY id LIMIT ?";
  return d.guarded("listing tasks", [&]() -> Result<std::vector<Task>> {
    SQLite::Statement s(*d.db, sql);
    int i = 1;
    s.bind(i++, static_cast<int64_t>(filter.afterArrival));
    if (!filter.waveId.empty()) s.bind(i++, filter.waveId);
    if (!filter.station.empty()) {
      s.bind(i++, filter.station);
      s.bind(i++, filter.station);
    }
    if (filter.state) s.bind(i++, std::string(toString(*filter.state)));
    s.bind(i++, static_cast<int64_t>(filter.limit));
    std::vector<Task> out;
    while (s.executeStep()) out.push_back(readTask(s));
    return out;
  });
}

Result<std::vector<WaveSummary>> TaskStore::waves(size_t limit) {
  Impl& d = *impl_;
  return d.guarded("listing waves", [&]() -> Result<std::vector<WaveSummary>> {
    SQLite::Statement s(*d.db,
                        "SELECT w.wave_id, w.revision, w.priority, w.state, w.updated_ms, "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'pending'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'active'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'done'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'short'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'cancelled') "
                        "FROM waves w ORDER BY w.created_ms DESC, w.wave_id LIMIT ?");
    s.bind(1, static_cast<int64_t>(limit));
    std::vector<WaveSummary> out;
    while (s.executeStep()) {
      WaveSummary w;
      w.waveId = s.getColumn(0).getString();
      w.revision = s.getColumn(1).getInt64();
      w.priority = s.getColumn(2).getInt64();
      w.state = s.getColumn(3).getString() == "cancelled" ? WaveState::kCancelled : WaveState::kOpen;
      w.updatedMs = s.getColumn(4).getInt64();
      w.pending = s.getColumn(5).getInt64();
      w.active = s.getColumn(6).getInt64();
      w.done = s.getColumn(7).getInt64();
      w.shortPicked = s.getColumn(8).getInt64();
      w.cancelled = s.getColumn(9).getInt64();
      out.push_back(std::move(w));
    }
    return out;
  });
}

Result<TaskCounts> TaskStore::taskCounts() {
  Impl& d = *impl_;
  return d.guarded("counting tasks", [&]() -> Result<TaskCounts> {
    SQLite::Statement s(*d.db, "SELECT state, count(*) FROM live_tasks GROUP BY state");
    TaskCounts c;
    while (s.executeStep()) {
      auto state = parseTaskState(s.getColumn(0).getString());
      int64_t n = s.getColumn(1).getInt64();
      if (!state) continue;
      switch (*state) {
        case TaskState::kPending: c.pending = n; break;
        case TaskState::kActive: c.active = n; break;
        case TaskState::kDone: c.done = n; break;
        case TaskState::kShort: c.shortPicked = n; break;
        case TaskState::kCancelled: c.cancelled = n; break;
      }
    }
    return c;
  });
}

sync::AgentHealth TaskStore::health() {
  sync::AgentHealth h;
  h.acceptingWork = !impl_->diskFull;
  h.detail = impl_->diskFullDetail;
  return h;
}

}  // namespace floorlink::agent
