// The outbox (C-E1..C-E6): where an event gets its seq, the seq ceiling of
// the high-water file, reading, acknowledging and pruning events.
#include <algorithm>
#include <chrono>
#include <limits>

#include "agent/store/store_impl.h"

namespace floorlink::agent {

// seq is read and written inside the writing transaction (meta.last_seq,
// stored by commitTxn), so it is contiguous and a rolled-back transaction
// uses no number (C-E1).
Result<int64_t> TaskStore::Impl::appendEventInTxn(const sync::EventDraft& draft) {
  if (!txnOpen) return fail(ErrorCode::kInternal, "appendEvent outside a transaction");
  return guarded("storing a " + draft.type + " event", [&]() -> Result<int64_t> {
    if (txnLastSeq < 0) txnLastSeq = metaValue("last_seq");
    int64_t seq = txnLastSeq + 1;
    sync::EventDraft stamped = draft;
    if (stamped.occurredAt == 0) stamped.occurredAt = clock.nowMs();
    std::string payload = sync::encodeEvent(options.site, options.agentId, seq, stamped);
    SQLite::Statement& s =
        cached("INSERT INTO events (seq, type, payload, created_ms) VALUES (?, ?, ?, ?)");
    s.bind(1, static_cast<int64_t>(seq));
    s.bind(2, stamped.type);
    s.bind(3, payload);
    s.bind(4, static_cast<int64_t>(clock.nowMs()));
    s.exec();
    txnLastSeq = seq;
    if (txnFirstSeq == 0) txnFirstSeq = seq;
    return seq;
  });
}

Status TaskStore::Impl::reserveSeq(int64_t lastSeq) {
  if (lastSeq <= hw.seqCeiling) return ok();
  HighWaterMarks next = hw;
  next.seqCeiling = lastSeq + kSeqBlock;
  next.ackedThrough = std::max(next.ackedThrough, metaValue("acked_through"));
  if (auto written = writeHighWater(hwPath, next); !written) {
    Error error = written.error();
    error.message += "; the transaction was not stored (a seq must be known outside the database before it is used)";
    if (error.code == ErrorCode::kDiskFull && !diskFull) {
      diskFull = true;
      diskFullDetail = "disk full: " + hwPath.string() + " cannot be written; free disk space (new work is refused meanwhile)";
      log.error("{}", error.message);
      if (healthListener) healthListener();
    }
    return std::unexpected(error);
  }
  hw = next;
  return ok();
}

Result<std::vector<sync::OutboxEvent>> TaskStore::eventsAfter(int64_t afterSeq, size_t limit) {
  Impl& d = *impl_;
  return d.guarded("reading events", [&]() -> Result<std::vector<sync::OutboxEvent>> {
    SQLite::Statement& s = d.cached(
        "SELECT seq, payload, created_ms FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
    ResetOnExit reset{s};
    s.bind(1, static_cast<int64_t>(afterSeq));
    s.bind(2, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int32_t>::max())));
    std::vector<sync::OutboxEvent> out;
    while (s.executeStep()) {
      out.push_back(sync::OutboxEvent{s.getColumn(0).getInt64(), s.getColumn(1).getString(),
                                      s.getColumn(2).getInt64()});
    }
    return out;
  });
}

Result<bool> TaskStore::acknowledge(int64_t ackedThrough) {
  Impl& d = *impl_;
  return d.transact("recording acked_through " + std::to_string(ackedThrough), [&](TxnScope& scope) -> Result<bool> {
    int64_t current = d.metaValue("acked_through");
    int64_t last = d.metaValue("last_seq");
    if (ackedThrough <= current || ackedThrough > last) {
      // C-A3: lower than the last ack, or a seq never stored (so never sent).
      scope.rollBack();
      if (ackedThrough > last) {
        d.log.warn("ignoring acked_through {}: the last event stored is {}", ackedThrough, last);
      }
      return false;
    }
    d.setMetaValue("acked_through", ackedThrough);
    // One row per ack, however many events it covers (retention, C-A4).
    SQLite::Statement& s = d.cached("INSERT INTO ack_marks (through_seq, acked_ms) VALUES (?, ?)");
    s.bind(1, static_cast<int64_t>(ackedThrough));
    s.bind(2, static_cast<int64_t>(d.clock.nowMs()));
    s.exec();
    return true;
  });
}

Result<sync::OutboxStats> TaskStore::outboxStats() {
  Impl& d = *impl_;
  return d.guarded("reading outbox statistics", [&]() -> Result<sync::OutboxStats> {
    sync::OutboxStats stats;
    stats.ackedThrough = d.metaValue("acked_through");
    stats.lastSeq = d.metaValue("last_seq");
    if (d.gapEventSeq > stats.ackedThrough) {
      stats.gapFrom = d.gapFrom;
      stats.gapTo = d.gapTo;
    }
    SQLite::Statement& s = d.cached("SELECT count(*), min(created_ms) FROM events WHERE seq > ?");
    ResetOnExit reset{s};
    s.bind(1, static_cast<int64_t>(stats.ackedThrough));
    if (s.executeStep()) {
      stats.depth = s.getColumn(0).getInt64();
      if (stats.depth > 0) {
        stats.oldestUnackedMs = std::max<int64_t>(0, d.clock.nowMs() - s.getColumn(1).getInt64());
      }
    }
    return stats;
  });
}

Result<uint64_t> TaskStore::nextSession() {
  Impl& d = *impl_;
  return d.transact("incrementing the session counter", [&]() -> Result<uint64_t> {
    // The file first (C-E6): a session is never used before it is known
    // outside the database too.
    int64_t session = std::max(d.metaValue("session"), d.hw.session) + 1;
    HighWaterMarks next = d.hw;
    next.session = session;
    if (auto written = writeHighWater(d.hwPath, next); !written) return std::unexpected(written.error());
    d.hw = next;
    d.setMetaValue("session", session);
    return static_cast<uint64_t>(session);
  });
}

Result<PruneReport> TaskStore::pruneAcked() {
  Impl& d = *impl_;
  auto pruned = d.transact("pruning acknowledged events", [&]() -> Result<PruneReport> {
    int64_t cutoff = d.clock.nowMs() -
                     std::chrono::duration_cast<std::chrono::milliseconds>(d.options.retention).count();
    // Everything up to the newest ack at least `retention` old: marks grow
    // with seq and time together, so those events were all acked by then.
    int64_t through = 0;
    {
      SQLite::Statement& q = d.cached("SELECT coalesce(max(through_seq), 0) FROM ack_marks WHERE acked_ms <= ?");
      ResetOnExit reset{q};
      q.bind(1, static_cast<int64_t>(cutoff));
      if (q.executeStep()) through = q.getColumn(0).getInt64();
    }
    PruneReport report;
    if (through > 0) {
      SQLite::Statement& s = d.cached("DELETE FROM events WHERE seq <= ?");
      s.bind(1, static_cast<int64_t>(through));
      report.eventsPruned = s.exec();
      SQLite::Statement& m = d.cached("DELETE FROM ack_marks WHERE through_seq <= ?");
      m.bind(1, static_cast<int64_t>(through));
      m.exec();
    }
    return report;
  });
  if (pruned && pruned->eventsPruned > 0) {
    d.log.info("pruned {} acknowledged events older than the retention", pruned->eventsPruned);
  }
  return pruned;
}

}  // namespace floorlink::agent
