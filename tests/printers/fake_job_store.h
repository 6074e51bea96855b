#pragma once
// JobStore fakes for the printers tests: in memory, or backed by a file that
// survives a SIGKILLed child (written with rename + fsync on every change).
// Both enforce the journal's state transitions (printers::isLegalTransition)
// and look jobs up by key through an index, as the SQLite journal does.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/clock.h"
#include "printers/job_store.h"

namespace floorlink::printers::testing {

class FakeJobStore final : public JobStore {
 public:
  explicit FakeJobStore(const Clock& clock) : clock_(clock) {}
  // File-backed: loads `path` if it exists, and rewrites it durably on every change.
  FakeJobStore(const Clock& clock, std::filesystem::path path) : clock_(clock), path_(std::move(path)) { loadFile(); }

  Result<PrintJob> createOrGet(const PrintJob& job) override {
    ++calls;
    if (auto it = byKey_.find(job.idempotencyKey); it != byKey_.end()) return jobs_.at(it->second);
    PrintJob j = job;
    j.jobId = "J-" + std::to_string(++nextJob_);
    j.state = JobState::kQueued;
    j.createdMs = j.updatedMs = clock_.nowMs();
    jobs_[j.jobId] = j;
    byKey_[j.idempotencyKey] = j.jobId;
    order_.push_back(j.jobId);
    save();
    return j;
  }
  Status updateState(std::string_view jobId, JobState state, std::string_view detail, int attempts) override {
    ++calls;
    auto it = jobs_.find(std::string(jobId));
    if (it == jobs_.end()) return fail(ErrorCode::kNotFound, "no job " + std::string(jobId));
    if (!isLegalTransition(it->second.state, state))
      return fail(ErrorCode::kInvalidArgument, "illegal transition " + std::string(toString(it->second.state)) +
                                                   " -> " + std::string(toString(state)));
    it->second.state = state;
    it->second.detail = std::string(detail);
    it->second.attempts = attempts;
    it->second.updatedMs = clock_.nowMs();
    history.push_back(it->second.jobId + ":" + std::string(toString(state)));
    save();
    return ok();
  }
  Result<std::optional<PrintJob>> find(std::string_view jobId) override {
    auto it = jobs_.find(std::string(jobId));
    if (it == jobs_.end()) return std::optional<PrintJob>();
    return std::optional<PrintJob>(it->second);
  }
  Result<std::optional<PrintJob>> findByKey(std::string_view key) override {
    auto it = byKey_.find(key);
    if (it == byKey_.end()) return std::optional<PrintJob>();
    return std::optional<PrintJob>(jobs_.at(it->second));
  }
  Result<std::optional<PrintJob>> findCurrent(std::string_view key) override {
    // The key and its reprints "<key>/reprint-N" are a range of byKey_ ('.'
    // sorts right after '-'); the newest job (highest J-number) wins.
    const PrintJob* newest = nullptr;
    auto consider = [&](const std::string& id) {
      const PrintJob& j = jobs_.at(id);
      if (!newest || numberOf(j.jobId) > numberOf(newest->jobId)) newest = &j;
    };
    if (auto it = byKey_.find(key); it != byKey_.end()) consider(it->second);
    std::string from = std::string(key) + "/reprint-", to = std::string(key) + "/reprint.";
    for (auto it = byKey_.lower_bound(from); it != byKey_.end() && it->first < to; ++it) consider(it->second);
    if (!newest) return std::optional<PrintJob>();
    return std::optional<PrintJob>(*newest);
  }
  Result<std::vector<PrintJob>> list(const JobFilter& filter) override {
    std::vector<PrintJob> out;
    for (const auto& id : order_) {
      const auto& j = jobs_.at(id);
      if (filter.state && j.state != *filter.state) continue;
      if (!filter.printer.empty() && j.printer != filter.printer) continue;
      if (out.size() >= filter.limit) break;
      out.push_back(j);
    }
    return out;
  }
  Result<int64_t> nextSerial(std::string_view counter) override {
    int64_t v = ++counters_[std::string(counter)];
    save();
    return v;
  }

  std::vector<std::string> history;  // "J-1:sent", in order
  int calls = 0;

 private:
  static int numberOf(const std::string& jobId) { return std::stoi(jobId.substr(2)); }
  void save() {
    if (path_.empty()) return;
    nlohmann::json j;
    j["next"] = nextJob_;
    j["counters"] = counters_;
    j["order"] = order_;
    for (const auto& [id, job] : jobs_) {
      j["jobs"][id] = {{"key", job.idempotencyKey}, {"printer", job.printer}, {"template", job.templateName},
                       {"task", job.taskId}, {"station", job.station}, {"wave", job.waveId}, {"zpl", job.zpl},
                       {"sscc", job.sscc}, {"tracking", job.tracking}, {"verified", job.verified},
                       {"state", std::string(toString(job.state))}, {"detail", job.detail},
                       {"attempts", job.attempts}, {"created", job.createdMs}, {"updated", job.updatedMs}};
    }
    auto tmp = path_;
    tmp += ".tmp";
    std::string text = j.dump();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    (void)!::write(fd, text.data(), text.size());
    ::fsync(fd);
    ::close(fd);
    std::filesystem::rename(tmp, path_);
  }
  void loadFile() {
    std::ifstream in(path_);
    if (!in) return;
    auto j = nlohmann::json::parse(in);
    nextJob_ = j["next"].get<int>();
    counters_ = j["counters"].get<std::map<std::string, int64_t>>();
    order_ = j["order"].get<std::vector<std::string>>();
    if (!j.contains("jobs")) return;
    for (auto& [id, v] : j["jobs"].items()) {
      PrintJob p;
      p.jobId = id;
      p.idempotencyKey = v["key"];
      p.printer = v["printer"];
      p.templateName = v["template"];
      p.taskId = v["task"];
      p.station = v["station"];
      p.waveId = v["wave"];
      p.zpl = v["zpl"];
      p.sscc = v["sscc"];
      p.tracking = v["tracking"];
      p.verified = v["verified"];
      p.state = *parseJobState(v["state"].get<std::string>());
      p.detail = v["detail"];
      p.attempts = v["attempts"];
      p.createdMs = v["created"];
      p.updatedMs = v["updated"];
      jobs_[id] = p;
      byKey_[p.idempotencyKey] = id;
    }
  }

  const Clock& clock_;
  std::filesystem::path path_;
  std::map<std::string, PrintJob> jobs_;
  std::map<std::string, std::string, std::less<>> byKey_;  // idempotency key -> job id
  std::vector<std::string> order_;
  std::map<std::string, int64_t> counters_;
  int nextJob_ = 0;
};

}  // namespace floorlink::printers::testing
