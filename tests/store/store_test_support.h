#pragma once
// Shared helpers of the store tests: a fresh directory per test, task and
// command builders, raw SQLite access for checks.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/store/task_store.h"
#include "core/clock.h"

namespace floorlink::agent::testing {

inline sync::TaskSpec pickTask(std::string taskId, std::string station = "cart1",
                               std::optional<int64_t> sequence = std::nullopt, int64_t qty = 2) {
  sync::TaskSpec t;
  t.taskId = std::move(taskId);
  t.kind = sync::TaskKind::kPick;
  t.orderId = "O-" + t.taskId;
  t.station = std::move(station);
  t.pick.bin = "A-01-" + t.taskId;
  t.pick.sku = "SKU-9";
  t.pick.gtin = "09506000134352";
  t.pick.description = "Blue mug";
  t.pick.qty = qty;
  t.pick.sequence = sequence;
  nlohmann::json j{{"task_id", t.taskId}, {"kind", "pick"},      {"order_id", t.orderId},
                   {"bin", t.pick.bin},   {"sku", t.pick.sku},   {"gtin", t.pick.gtin},
                   {"qty", qty},          {"description", "Blue mug"}};
  if (!t.station.empty()) j["station"] = t.station;
  if (sequence) j["sequence"] = *sequence;
  t.json = j.dump();
  return t;
}

inline sync::Command waveAssign(std::string cmdId, std::string waveId, int64_t revision,
                                std::vector<sync::TaskSpec> tasks,
                                std::optional<int64_t> priority = std::nullopt) {
  sync::Command c;
  c.cmdId = std::move(cmdId);
  c.type = "wave.assign";
  c.sentAt = 1763780000000;
  sync::WaveAssign w;
  w.waveId = std::move(waveId);
  w.revision = revision;
  w.priority = priority;
  w.tasks = std::move(tasks);
  c.body = std::move(w);
  return c;
}

inline sync::Command waveCancel(std::string cmdId, std::string waveId, std::string reason = "") {
  sync::Command c;
  c.cmdId = std::move(cmdId);
  c.type = "wave.cancel";
  c.body = sync::WaveCancel{std::move(waveId), std::move(reason)};
  return c;
}

inline sync::Command taskCancel(std::string cmdId, std::string taskId, std::string reason = "") {
  sync::Command c;
  c.cmdId = std::move(cmdId);
  c.type = "task.cancel";
  c.body = sync::TaskCancel{std::move(taskId), std::move(reason)};
  return c;
}

inline std::vector<sync::TaskSpec> pickTasks(const std::string& prefix, int count,
                                             const std::string& station = "cart1") {
  std::vector<sync::TaskSpec> out;
  for (int i = 0; i < count; ++i) out.push_back(pickTask(prefix + std::to_string(i), station));
  return out;
}

inline nlohmann::json parse(const std::string& text) { return nlohmann::json::parse(text); }

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "floorlink-store-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class StoreTest : public ::testing::Test {
 protected:
  StoreOptions options() const {
    StoreOptions o;
    o.path = dir_.path() / "floorlink.db";
    o.site = "dc1";
    o.agentId = "pc7";
    o.ingestSliceBudget = std::chrono::milliseconds(0);  // slices of 1,000: tests count steps
    return o;
  }
  std::unique_ptr<TaskStore> open(StoreOptions o) {
    auto store = TaskStore::open(o, clock_);
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().describe());
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<TaskStore> open() { return open(options()); }

  // The events stored, parsed.
  std::vector<nlohmann::json> events(TaskStore& store, int64_t after = 0) {
    std::vector<nlohmann::json> out;
    auto stored = store.eventsAfter(after, 1000000);
    EXPECT_TRUE(stored.has_value());
    if (!stored) return out;
    for (const auto& e : *stored) out.push_back(parse(e.payload));
    return out;
  }

  TempDir dir_;
  FakeClock clock_;
};

}  // namespace floorlink::agent::testing
