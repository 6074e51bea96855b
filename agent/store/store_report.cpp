#include "agent/store/store_report.h"

#include <fmt/format.h>

namespace floorlink::agent {

std::string formatTasks(const std::vector<Task>& tasks) {
  std::string out = fmt::format("{:<20} {:<14} {:<5} {:<9} {:<12} {:<12} {:<16} {:>5} {:>5}\n", "TASK",
                                "WAVE", "KIND", "STATE", "STATION", "BIN", "SKU", "QTY", "DONE");
  for (const Task& t : tasks) {
    std::string station = t.claimedBy.empty() ? (t.station.empty() ? "(any)" : t.station) : t.claimedBy;
    out += fmt::format("{:<20} {:<14} {:<5} {:<9} {:<12} {:<12} {:<16} {:>5} {:>5}\n", t.taskId,
                       t.waveId, sync::toString(t.kind), toString(t.state), station, t.bin, t.sku,
                       t.qty, t.qtyDone);
  }
  if (tasks.empty()) out += "(no tasks match)\n";
  return out;
}

std::string formatWaves(const std::vector<WaveSummary>& waves) {
  std::string out = fmt::format("{:<16} {:>4} {:>4} {:<9} {:>7} {:>6} {:>6} {:>6} {:>9}\n", "WAVE", "REV",
                                "PRIO", "STATE", "PENDING", "ACTIVE", "DONE", "SHORT", "CANCELLED");
  for (const WaveSummary& w : waves) {
    out += fmt::format("{:<16} {:>4} {:>4} {:<9} {:>7} {:>6} {:>6} {:>6} {:>9}\n", w.waveId, w.revision,
                       w.priority, toString(w.state), w.pending, w.active, w.done, w.shortPicked,
                       w.cancelled);
  }
  if (waves.empty()) out += "(no waves)\n";
  return out;
}

std::string formatOutbox(const sync::OutboxStats& stats) {
  return fmt::format("depth {}, oldest unacked {:.1f} s, last seq {}, acked through {}\n", stats.depth,
                     static_cast<double>(stats.oldestUnackedMs) / 1000.0, stats.lastSeq,
                     stats.ackedThrough);
}

}  // namespace floorlink::agent
