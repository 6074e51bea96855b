#pragma once
// printers::JobStore over the task store's database: a print job's final
// state and its label.printed / label.failed event commit together (C-E2).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/task_store.h"
#include "printers/job_store.h"

namespace floorlink::agent {

class SqliteJobStore final : public printers::JobStore {
 public:
  // Shares the store's connection and transactions; `store` must outlive it.
  explicit SqliteJobStore(TaskStore& store);

  Result<printers::PrintJob> createOrGet(const printers::PrintJob& job) override;
  Status updateState(std::string_view jobId, printers::JobState state, std::string_view detail,
                     int attempts) override;
  Result<std::optional<printers::PrintJob>> find(std::string_view jobId) override;
  // By the unique index on idempotency_key, not a scan of the journal.
  Result<std::optional<printers::PrintJob>> findByKey(std::string_view idempotencyKey) override;
  Result<std::optional<printers::PrintJob>> findCurrent(std::string_view idempotencyKey) override;
  Result<std::vector<printers::PrintJob>> list(const printers::JobFilter& filter) override;
  Result<int64_t> nextSerial(std::string_view counter) override;
  // Jobs in the journal by state name (metrics).
  Result<std::map<std::string, int64_t>> countByState();

 private:
  TaskStore& store_;
};

}  // namespace floorlink::agent
