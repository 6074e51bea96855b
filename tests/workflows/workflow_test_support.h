#pragma once
// Unit-test harness of the workflows: a real TaskStore in a temp directory,
// stations built as the daemon builds them, a FakeScanner that records
// feedback and a FakeScale the test drives reading by reading. A "restart"
// is a new Station over a reopened store: what survives is only what was
// committed.
#include <gtest/gtest.h>

#include <map>

#include "agent/stations/station.h"
#include "agent/commands/commands.h"
#include "sync/command_parser.h"
#include "tests/store/store_test_support.h"

namespace floorlink::agent::testing {

class FakeScanner final : public drivers::Scanner {
 public:
  const std::string& id() const override { return id_; }
  void setHandlers(Handlers) override {}
  drivers::DeviceClient deviceClient() override { return {}; }
  Status feedback(bool good) override {
    beeps.push_back(good);
    return ok();
  }
  bool supportsFeedback() const override { return true; }
  std::vector<bool> beeps;

 private:
  std::string id_ = "scanner1";
};

class FakeScale final : public drivers::Scale {
 public:
  void start() override {}
  void stop() override {}
  drivers::DeviceClient deviceClient() override { return {}; }
  void weigh(WeighCallback done) override {
    ++weighs;
    pending_ = std::move(done);
  }
  void zero(CommandCallback done) override { done(ok()); }
  void tare(CommandCallback done) override { done(ok()); }
  void clearTare(CommandCallback done) override { done(ok()); }
  WatchId watchReadings(ReadingCallback callback) override {
    watchers_[++nextWatch_] = std::move(callback);
    return nextWatch_;
  }
  void unwatchReadings(WatchId id) override { watchers_.erase(id); }
  const drivers::Reading* lastReading() const override { return nullptr; }
  drivers::DeviceStatus status() const override { return {}; }
  void setStatusCallback(drivers::StatusCallback) override {}
  const std::string& id() const override { return id_; }
  std::string describe() const override { return "fake scale"; }

  // A reading on the platter (watchers see it).
  void reading(int64_t grams) {
    drivers::Reading r;
    r.grams = grams;
    auto copy = watchers_;
    for (auto& [id, cb] : copy)
      if (watchers_.contains(id)) cb(r);
  }
  // Answers the pending weigh() with a stable weight.
  bool settle(int64_t grams) {
    if (!pending_) return false;
    auto cb = std::move(pending_);
    pending_ = nullptr;
    cb(drivers::Weight{.grams = grams});
    return true;
  }
  bool weighing() const { return static_cast<bool>(pending_); }
  int weighs = 0;

 private:
  std::string id_ = "scale1";
  WeighCallback pending_;
  std::map<WatchId, ReadingCallback> watchers_;
  WatchId nextWatch_ = 0;
};

class WorkflowTest : public StoreTest {
 protected:
  void SetUp() override { store_ = open(); }

  std::unique_ptr<Station> makeStation(const std::string& id, config::StationKind kind, bool withScale = false) {
    config::StationConfig c;
    c.id = id;
    c.kind = kind;
    if (withScale) c.scale = "scale1";
    StationDeps deps{*store_, clock_, Logger()};
    deps.scanner = &scanner_;
    if (withScale) deps.scale = &scale_;
    auto s = std::make_unique<Station>(c, std::move(deps), drivers::ScanClassifier{});
    s->start();
    return s;
  }

  // Closes and reopens the store (what a restart keeps).
  void reopen() {
    store_.reset();
    store_ = open();
  }

  void assign(std::vector<nlohmann::json> tasks, const std::string& cmdId = "c-1") {
    sync::WaveAssign w;
    w.waveId = "W-" + cmdId;
    w.revision = 1;
    for (auto& j : tasks) {
      auto spec = sync::parseTaskSpec(j.dump());
      ASSERT_TRUE(spec) << spec.error().message;
      w.tasks.push_back(*spec);
    }
    auto r = Commands(*store_).apply(sync::Command{cmdId, "wave.assign", 0, std::move(w)});
    ASSERT_TRUE(r && r->status == "accepted");
  }

  // Events of `type` in the outbox.
  std::vector<nlohmann::json> ofType(const std::string& type) {
    std::vector<nlohmann::json> out;
    for (auto& e : events(*store_))
      if (e["type"] == type) out.push_back(e);
    return out;
  }

  void scan(Station& s, const std::string& code) { s.onCode(code, ScanSource::kInjected); }
  const ScanRecord& last(Station& s) { return s.view().lastScans.front(); }

  std::unique_ptr<TaskStore> store_;
  FakeScanner scanner_;
  FakeScale scale_;
};

inline nlohmann::json pickJson(const std::string& id, const std::string& bin, int qty, const std::string& station = "") {
  nlohmann::json j{{"task_id", id}, {"kind", "pick"}, {"order_id", "O-" + id}, {"bin", bin}, {"sku", "SKU-1"},
                   {"gtin", "09506000134352"}, {"description", "Blue mug"}, {"qty", qty}};
  if (!station.empty()) j["station"] = station;
  return j;
}

inline nlohmann::json packJson(const std::string& id, int expected, int tolerance) {
  return {{"task_id", id},
          {"kind", "pack"},
          {"order_id", "O-" + id},
          {"lines", nlohmann::json::array({{{"sku", "SKU-1"}, {"qty", 1}}})},
          {"expected_weight_g", expected},
          {"tolerance_g", tolerance},
          {"label", {{"template", "shipping"}, {"fields", nlohmann::json::object()}}}};
}

}  // namespace floorlink::agent::testing
