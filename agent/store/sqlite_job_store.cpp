#include "agent/store/sqlite_job_store.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "agent/store/store_impl.h"

namespace floorlink::agent {

using printers::JobState;
using printers::PrintJob;

namespace {

std::string stateName(JobState state) { return std::string(printers::toString(state)); }

constexpr const char* kJobColumns =
    "job_id, idempotency_key, printer, template, task_id, station, wave_id, zpl, sscc, tracking, "
    "verified, state, detail, attempts, created_ms, updated_ms, cause";

const std::string kCurrentJobSql =
    std::string("SELECT ") + kJobColumns +
    " FROM print_jobs WHERE idempotency_key = ? OR (idempotency_key >= ? AND idempotency_key < ?) "
    "ORDER BY created_ms DESC, rowid DESC LIMIT 1";

PrintJob readJob(SQLite::Statement& s) {
  PrintJob j;
  j.jobId = s.getColumn(0).getString();
  j.idempotencyKey = s.getColumn(1).getString();
  j.printer = s.getColumn(2).getString();
  j.templateName = s.getColumn(3).getString();
  j.taskId = s.getColumn(4).getString();
  j.station = s.getColumn(5).getString();
  j.waveId = s.getColumn(6).getString();
  j.zpl = std::string(static_cast<const char*>(s.getColumn(7).getBlob()),
                      static_cast<size_t>(s.getColumn(7).getBytes()));
  j.sscc = s.getColumn(8).getString();
  j.tracking = s.getColumn(9).getString();
  j.verified = s.getColumn(10).getInt() != 0;
  j.state = printers::parseJobState(s.getColumn(11).getString()).value_or(JobState::kFailed);
  j.detail = s.getColumn(12).getString();
  j.attempts = s.getColumn(13).getInt();
  j.createdMs = s.getColumn(14).getInt64();
  j.updatedMs = s.getColumn(15).getInt64();
  j.cause = printers::parseFailureCause(s.getColumn(16).getString());
  return j;
}

std::optional<PrintJob> selectJob(TaskStore::Impl& d, const char* where, std::string_view key) {
  static const std::string byId = std::string("SELECT ") + kJobColumns + " FROM print_jobs WHERE job_id = ?";
  static const std::string byKey =
      std::string("SELECT ") + kJobColumns + " FROM print_jobs WHERE idempotency_key = ?";
  SQLite::Statement& s = d.cached(std::string_view(where) == "job_id" ? byId.c_str() : byKey.c_str());
  ResetOnExit reset{s};
  s.bind(1, std::string(key));
  if (!s.executeStep()) return std::nullopt;
  return readJob(s);
}

int64_t bumpCounter(TaskStore::Impl& d, std::string_view name) {
  SQLite::Statement& s = d.cached(
      "INSERT INTO counters (name, value) VALUES (?, 1) "
      "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value");
  ResetOnExit reset{s};
  s.bind(1, std::string(name));
  s.executeStep();
  return s.getColumn(0).getInt64();
}

// nextSerial must be durable even under synchronous=NORMAL: a reused SSCC
// would label two parcels alike. Raises the level for the scope, outside any
// transaction (SQLite changes it only there).
class ForceFullSync {
 public:
  static Result<ForceFullSync> raise(TaskStore::Impl& d) {
    const bool change = d.options.synchronous != config::SyncMode::kFull;
    if (auto raised = d.guarded("preparing a durable counter update", [&]() -> Status {
          if (change) d.db->exec("PRAGMA synchronous = FULL");
          return ok();
        });
        !raised) {
      return std::unexpected(raised.error());
    }
    return ForceFullSync(change ? &d : nullptr);
  }
  ForceFullSync(ForceFullSync&& other) noexcept : d_(std::exchange(other.d_, nullptr)) {}
  ForceFullSync& operator=(ForceFullSync&&) = delete;
  ~ForceFullSync() {
    if (d_ == nullptr) return;
    auto restored = d_->guarded("restoring synchronous=NORMAL", [&]() -> Status {
      d_->db->exec("PRAGMA synchronous = NORMAL");
      return ok();
    });
    if (!restored) d_->log.error("{}", restored.error().message);
  }

 private:
  explicit ForceFullSync(TaskStore::Impl* d) : d_(d) {}
  TaskStore::Impl* d_;
};

}  // namespace

SqliteJobStore::SqliteJobStore(TaskStore& store) : store_(store) {}

Result<PrintJob> SqliteJobStore::createOrGet(const PrintJob& job) {
  if (job.idempotencyKey.empty()) {
    return fail(ErrorCode::kInvalidArgument, "a print job needs an idempotency key");
  }
  TaskStore::Impl& d = *store_.impl_;
  return d.transact("storing print job " + job.idempotencyKey, [&]() -> Result<PrintJob> {
    if (auto existing = selectJob(d, "idempotency_key", job.idempotencyKey)) return *existing;
    PrintJob stored = job;
    stored.jobId = "J-" + std::to_string(bumpCounter(d, "print_job"));
    stored.state = JobState::kQueued;
    stored.createdMs = stored.updatedMs = d.clock.nowMs();
    SQLite::Statement& s = d.cached(
        "INSERT INTO print_jobs (job_id, idempotency_key, printer, template, task_id, station, "
        "wave_id, zpl, sscc, tracking, verified, state, detail, attempts, created_ms, updated_ms, "
        "cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, stored.jobId);
    s.bind(2, stored.idempotencyKey);
    s.bind(3, stored.printer);
    s.bind(4, stored.templateName);
    s.bind(5, stored.taskId);
    s.bind(6, stored.station);
    s.bind(7, stored.waveId);
    s.bind(8, stored.zpl.data(), static_cast<int>(stored.zpl.size()));
    s.bind(9, stored.sscc);
    s.bind(10, stored.tracking);
    s.bind(11, stored.verified ? 1 : 0);
    s.bind(12, stateName(stored.state));
    s.bind(13, stored.detail);
    s.bind(14, stored.attempts);
    s.bind(15, static_cast<int64_t>(stored.createdMs));
    s.bind(16, static_cast<int64_t>(stored.updatedMs));
    s.bind(17, std::string(printers::toString(stored.cause)));
    s.exec();
    return stored;
  });
}

Status SqliteJobStore::updateState(std::string_view jobId, JobState state, std::string_view detail,
                                   int attempts) {
  TaskStore::Impl& d = *store_.impl_;
  return d.transact("updating print job " + std::string(jobId), [&]() -> Status {
    auto job = selectJob(d, "job_id", jobId);
    if (!job) return fail(ErrorCode::kNotFound, "no print job " + std::string(jobId));
    if (!printers::isLegalTransition(job->state, state)) {
      return fail(ErrorCode::kInvalidArgument,
                  "print job " + job->jobId + " cannot go from " + stateName(job->state) +
                      " to " + stateName(state));
    }
    SQLite::Statement& s = d.cached(
        "UPDATE print_jobs SET state = ?, detail = ?, attempts = ?, updated_ms = ? WHERE job_id = ?");
    s.bind(1, stateName(state));
    s.bind(2, std::string(detail));
    s.bind(3, attempts);
    s.bind(4, static_cast<int64_t>(d.clock.nowMs()));
    s.bind(5, job->jobId);
    s.exec();
    if (state == JobState::kConfirmed || state == JobState::kFailed) {
      nlohmann::ordered_json data;
      data["job_id"] = job->jobId;
      data["printer"] = job->printer;
      sync::EventDraft draft;
      if (state == JobState::kConfirmed) {
        draft.type = "label.printed";
        data["template"] = job->templateName;
        data["sscc"] = job->sscc;
        data["tracking"] = job->tracking;
        data["verified"] = job->verified;
      } else {
        draft.type = "label.failed";
        data["reason"] = std::string(detail);
      }
      draft.station = job->station;
      draft.taskId = job->taskId;
      draft.waveId = job->waveId;
      draft.dataJson = data.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      auto seq = d.appendEventInTxn(draft);
      if (!seq) return std::unexpected(seq.error());
    }
    return ok();
  });
}

Result<std::optional<PrintJob>> SqliteJobStore::find(std::string_view jobId) {
  TaskStore::Impl& d = *store_.impl_;
  return d.guarded("reading print job " + std::string(jobId),
                   [&]() -> Result<std::optional<PrintJob>> { return selectJob(d, "job_id", jobId); });
}

Result<std::optional<PrintJob>> SqliteJobStore::findByKey(std::string_view key) {
  TaskStore::Impl& d = *store_.impl_;
  return d.guarded("reading print job " + std::string(key),
                   [&]() -> Result<std::optional<PrintJob>> { return selectJob(d, "idempotency_key", key); });
}

Result<std::optional<PrintJob>> SqliteJobStore::findCurrent(std::string_view key) {
  TaskStore::Impl& d = *store_.impl_;
  return d.guarded("reading print job " + std::string(key), [&]() -> Result<std::optional<PrintJob>> {
    // Reprints are "<key>/reprint-N": a range of the unique index ('.' sorts
    // right after '-'); the newest by creation wins.
    SQLite::Statement& s = d.cached(kCurrentJobSql.c_str());
    ResetOnExit reset{s};
    s.bind(1, std::string(key));
    s.bind(2, std::string(key) + "/reprint-");
    s.bind(3, std::string(key) + "/reprint.");
    if (!s.executeStep()) return std::optional<PrintJob>();
    return std::optional<PrintJob>(readJob(s));
  });
}

Result<std::vector<PrintJob>> SqliteJobStore::list(const printers::JobFilter& filter) {
  TaskStore::Impl& d = *store_.impl_;
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM print_jobs WHERE 1";
  if (filter.state) sql += " AND state = ?";
  if (!filter.printer.empty()) sql += " AND printer = ?";
  sql += " ORDER BY created_ms, job_id LIMIT ?";
  return d.guarded("listing print jobs", [&]() -> Result<std::vector<PrintJob>> {
    SQLite::Statement s(*d.db, sql);
    int i = 1;
    if (filter.state) s.bind(i++, stateName(*filter.state));
    if (!filter.printer.empty()) s.bind(i++, filter.printer);
    s.bind(i, static_cast<int64_t>(filter.limit));
    std::vector<PrintJob> out;
    while (s.executeStep()) out.push_back(readJob(s));
    return out;
  });
}

Result<std::map<std::string, int64_t>> SqliteJobStore::countByState() {
  TaskStore::Impl& d = *store_.impl_;
  return d.guarded("counting print jobs", [&]() -> Result<std::map<std::string, int64_t>> {
    SQLite::Statement s(*d.db, "SELECT state, COUNT(*) FROM print_jobs GROUP BY state");
    std::map<std::string, int64_t> out;
    while (s.executeStep()) out[s.getColumn(0).getString()] = s.getColumn(1).getInt64();
    return out;
  });
}

Result<int64_t> SqliteJobStore::nextSerial(std::string_view counter) {
  if (counter.empty()) return fail(ErrorCode::kInvalidArgument, "a serial counter needs a name");
  TaskStore::Impl& d = *store_.impl_;
  auto full = ForceFullSync::raise(d);
  if (!full) return std::unexpected(full.error());
  std::string name = "serial:" + std::string(counter);
  return d.transact("advancing counter " + std::string(counter), [&]() -> Result<int64_t> { return bumpCounter(d, name); });
}

}  // namespace floorlink::agent
