#pragma once
// The e2e floor with a second pick and ship station, crash points armed per
// agent start, and an operator who does the natural next thing at a station
// (what the screen asks for) until its task is finished, whatever the agent
// went through meanwhile.
#include <cstdlib>
#include <set>

#include "tests/e2e/floor.h"

namespace floorlink::e2e {

inline constexpr const char* kGtin = "09506000134352";

class CrashFloor : public Floor {
 protected:
  CrashFloor() {
    extraConfig_ = "[[stations]]\nid = \"pick2\"\nkind = \"pick\"\n"
                   "[[stations]]\nid = \"ship2\"\nkind = \"ship\"\n";
  }

  // A task any station of its kind may take.
  static json unassigned(json task) {
    task.erase("station");
    return task;
  }

  // Starts the agent with FLOORLINK_CRASH_AT=point (empty: none).
  void startArmed(const std::string& point) {
    if (!point.empty()) ::setenv("FLOORLINK_CRASH_AT", point.c_str(), 1);
    startAgent();
    ::unsetenv("FLOORLINK_CRASH_AT");
  }

  // True (and the agent gone) when it died, by a crash point or otherwise.
  bool agentDied() {
    if (!agent_) return true;
    if (auto r = agent_->wait(std::chrono::milliseconds(1))) {
      log_ += r->err;
      crashes_ += r->err.find("crash point") != std::string::npos ? 1 : 0;
      agent_.reset();
      return true;
    }
    return false;
  }

  // Restarts a dead agent unarmed (or armed with `point`).
  void restartIfDead(const std::string& point = "") {
    if (agentDied()) startArmed(point);
  }

  // floorlinkctl that tolerates an agent dying under it.
  std::optional<json> tryCtlJson(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = ctl(args);
    if (r.exitCode != 0) return std::nullopt;
    auto j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  }

  // Labels the fake printer printed whose ZPL carries `code`.
  int labelsWith(const std::string& code) {
    int n = 0;
    if (!fs::exists(dir_ / "labels")) return 0;
    for (const auto& f : fs::directory_iterator(dir_ / "labels")) {
      std::ifstream in(f.path());
      std::string zpl((std::istreambuf_iterator<char>(in)), {});
      if (zpl.find(code) != std::string::npos) ++n;
    }
    return n;
  }

  int count(const std::string& type, const std::string& taskId) {
    int n = 0;
    for (auto& e : eventsOfType(type)) n += e.value("task_id", "") == taskId ? 1 : 0;
    return n;
  }

  // One natural action at `station` for the task the screen shows; returns
  // false when the station has nothing left to do. `box` maps pack tasks to
  // the weight of their box on the scale.
  bool act(const std::string& station, const std::string& shipCode = "") {
    auto v = tryCtlJson({"station", station});
    if (!v) return true;  // the agent is down: try again after the restart
    std::string step = v->value("step", "");
    const json& task = (*v)["task"];
    if (step == "scan_bin") {
      (void)ctl({"scan", station, task.value("bin", "")});
    } else if (step == "scan_item") {
      (void)ctl({"scan", station, kGtin});
    } else if (step == "scan_order") {
      (void)ctl({"scan", station, task.value("order_id", "")});
    } else if (step == "weighing") {
      std::string prompt = v->value("prompt", "");
      if (prompt.find("previous box") != std::string::npos) {
        setWeight(0);
      } else {
        setWeight(task.value("expected_weight_g", 0));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else if (step == "printing") {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else if (step == "print_problem") {
      if (paperOut_) {
        // Look at the printer first: refill it (a held label then comes out).
        togglePaperOut();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        return true;
      }
      std::string code = v->value("label_code", "");
      const json print = v->value("print", json::object());
      if (print.value("state", "") == "uncertain" && !code.empty() && labelsWith(code) > 0) {
        (void)ctl({"scan", station, "]C100" + code});  // it did print: the label is on the box
      } else {
        ++reprints_;
        (void)ctl({"scan", station, "CMD:REPRINT"});
      }
    } else if (step == "scan_label") {
      (void)ctl({"scan", station, "]C100" + v->value("label_code", "")});
    } else if (step == "out_of_tolerance") {
      (void)ctl({"scan", station, "CMD:REWEIGH"});
    } else if (step == "scan_parcel") {
      if (shipCode.empty()) return false;
      (void)ctl({"scan", station, shipCode});
      return false;
    } else {
      return false;  // idle, blocked
    }
    return true;
  }

  // The fake printer's paper-out fault (SIGUSR1 toggles it).
  void togglePaperOut() {
    printer_->signal(SIGUSR1);
    paperOut_ = !paperOut_;
  }

  void setWeight(int64_t g) {
    if (g == weight_) return;
    control_.command("weight " + std::to_string(g));
    weight_ = g;
  }

  // Every event once, seq contiguous (C-E1), after the OMS acked them all.
  void expectCleanOutbox() {
    EXPECT_TRUE(waitUntil([&] { return !events().empty() && events().back()["seq"] == ackedThrough_; }, 20s));
    expectContiguousEvents();
  }

  std::string log_;
  int crashes_ = 0;
  int reprints_ = 0;
  int64_t weight_ = -1;
  bool paperOut_ = false;
};

}  // namespace floorlink::e2e
