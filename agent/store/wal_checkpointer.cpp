#include "agent/store/wal_checkpointer.h"

#include <sqlite3.h>

namespace floorlink::agent {
namespace {

// Checkpoint after this many commits, or at least this often while any came.
constexpr unsigned kCommitsPerCheckpoint = 32;
constexpr auto kInterval = std::chrono::milliseconds(500);

}  // namespace

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::filesystem::path& database, Logger log) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return fail(ErrorCode::kStorage, "cannot open " + database.string() + " for checkpoints: " + why);
  }
  sqlite3_busy_timeout(db, 1000);
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db, std::move(log)));
}

WalCheckpointer::WalCheckpointer(sqlite3* db, Logger log) : db_(db), log_(std::move(log)) {
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void WalCheckpointer::poke() {
  bool now = false;
  {
    std::lock_guard lock(mutex_);
    now = ++pokes_ >= kCommitsPerCheckpoint;
  }
  if (now) wake_.notify_one();
}

uint64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, kInterval, [this] { return stop_ || pokes_ >= kCommitsPerCheckpoint; });
    if (stop_) break;
    if (pokes_ == 0) continue;
    pokes_ = 0;
    lock.unlock();
    int logFrames = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) log_.warn("WAL checkpoint failed: {}", sqlite3_errstr(rc));
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace floorlink::agent
