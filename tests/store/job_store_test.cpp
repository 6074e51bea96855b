// printers::JobStore over the task store's database.
#include <gtest/gtest.h>

#include "agent/store/sqlite_job_store.h"
#include "store_test_support.h"

namespace floorlink::agent::testing {
namespace {

using JobStoreTest = StoreTest;
using printers::JobState;

printers::PrintJob job(std::string key) {
  printers::PrintJob j;
  j.idempotencyKey = std::move(key);
  j.printer = "zpl1";
  j.templateName = "parcel";
  j.taskId = "P-1";
  j.station = "pack1";
  j.waveId = "W-1";
  j.zpl = std::string("^XA^FDhello\0world^FS^XZ", 23);
  j.sscc = "003456789012345675";
  j.tracking = "1Z999";
  j.verified = true;
  return j;
}

TEST_F(JobStoreTest, CreateOrGetIsIdempotent) {
  auto store = open();
  SqliteJobStore jobs(*store);
  auto first = jobs.createOrGet(job("P-1/label/1"));
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_EQ(first->jobId, "J-1");
  EXPECT_EQ(first->state, JobState::kQueued);
  auto second = jobs.createOrGet(job("P-1/label/1"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->jobId, "J-1");
  auto other = jobs.createOrGet(job("P-1/label/2"));
  EXPECT_EQ(other->jobId, "J-2");
  auto found = jobs.find("J-1");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->zpl, job("x").zpl);  // exact bytes, NUL included
  EXPECT_TRUE((*found)->verified);
  EXPECT_FALSE(jobs.createOrGet(job("")));
}

TEST_F(JobStoreTest, ConfirmedRecordsLabelPrintedInTheSameTransaction) {
  auto store = open();
  SqliteJobStore jobs(*store);
  auto j = jobs.createOrGet(job("P-1/label/1"));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kSent, "", 1));
  EXPECT_TRUE(store->eventsAfter(0, 10)->empty());
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kConfirmed, "", 1));
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 1u);
  EXPECT_EQ(evts[0]["type"], "label.printed");
  EXPECT_EQ(evts[0]["station"], "pack1");
  EXPECT_EQ(evts[0]["task_id"], "P-1");
  EXPECT_EQ(evts[0]["wave_id"], "W-1");
  EXPECT_EQ(evts[0]["data"], (nlohmann::json{{"job_id", "J-1"}, {"printer", "zpl1"}, {"template", "parcel"},
                                             {"sscc", "003456789012345675"}, {"tracking", "1Z999"},
                                             {"verified", true}}));
  EXPECT_EQ((*jobs.find("J-1"))->state, JobState::kConfirmed);
}

TEST_F(JobStoreTest, FailedRecordsLabelFailed) {
  auto store = open();
  SqliteJobStore jobs(*store);
  auto j = jobs.createOrGet(job("P-1/label/1"));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kSent, "", 1));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kFailed, "paper out", 3));
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 1u);
  EXPECT_EQ(evts[0]["type"], "label.failed");
  EXPECT_EQ(evts[0]["data"], (nlohmann::json{{"job_id", "J-1"}, {"printer", "zpl1"}, {"reason", "paper out"}}));
  auto stored = jobs.find("J-1");
  EXPECT_EQ((*stored)->attempts, 3);
  EXPECT_EQ((*stored)->detail, "paper out");
}

TEST_F(JobStoreTest, IllegalTransitionsAreRefusedWithoutEvent) {
  auto store = open();
  SqliteJobStore jobs(*store);
  auto j = jobs.createOrGet(job("P-1/label/1"));
  auto direct = jobs.updateState(j->jobId, JobState::kConfirmed, "", 1);  // queued -> confirmed
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(store->eventsAfter(0, 10)->empty());
  EXPECT_EQ(jobs.updateState("J-404", JobState::kSent, "", 1).error().code, ErrorCode::kNotFound);
  // uncertain -> queued (operator reprints) -> sent -> uncertain -> confirmed
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kSent, "", 1));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kUncertain, "no reply", 1));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kQueued, "", 1));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kSent, "", 2));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kUncertain, "no reply", 2));
  ASSERT_TRUE(jobs.updateState(j->jobId, JobState::kConfirmed, "operator confirmed", 2));
  EXPECT_FALSE(jobs.updateState(j->jobId, JobState::kQueued, "", 2));
  EXPECT_EQ(events(*store).size(), 1u);
}

TEST_F(JobStoreTest, ListFilters) {
  auto store = open();
  SqliteJobStore jobs(*store);
  auto a = jobs.createOrGet(job("a"));
  auto b = jobs.createOrGet(job("b"));
  ASSERT_TRUE(jobs.updateState(b->jobId, JobState::kCancelled, "", 0));
  EXPECT_EQ(jobs.list({})->size(), 2u);
  EXPECT_EQ(jobs.list({.state = JobState::kQueued})->size(), 1u);
  EXPECT_EQ(jobs.list({.printer = "other"})->size(), 0u);
}

// Every submit looks its key up (findByKey), a station resuming asks for
// the current job (findCurrent): both search the unique key index, whatever
// the journal's length, and never read the journal in order.
TEST_F(JobStoreTest, KeyLookupsSearchTheKeyIndex) {
  auto store = open();
  SQLite::Database db(options().path.string(), SQLite::OPEN_READONLY);
  for (const char* sql : {"SELECT job_id FROM print_jobs WHERE idempotency_key = 'k'",
                          "SELECT job_id FROM print_jobs WHERE idempotency_key = 'k' OR (idempotency_key >= "
                          "'k/reprint-' AND idempotency_key < 'k/reprint.') ORDER BY created_ms DESC, rowid DESC "
                          "LIMIT 1"}) {
    SQLite::Statement plan(db, std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string detail;
    while (plan.executeStep()) detail += plan.getColumn(3).getString() + ";";
    EXPECT_NE(detail.find("SEARCH print_jobs USING INDEX sqlite_autoindex_print_jobs_2 (idempotency_key="),
              std::string::npos)
        << sql << ": " << detail;
    EXPECT_EQ(detail.find("SCAN print_jobs"), std::string::npos) << sql << ": " << detail;
  }
}

// A reprint's job stands for the label once it exists, "-10" after "-9".
TEST_F(JobStoreTest, CurrentIsTheNewestReprint) {
  auto store = open();
  SqliteJobStore jobs(*store);
  ASSERT_TRUE(jobs.createOrGet(job("P-1/label/1")));
  ASSERT_TRUE(jobs.createOrGet(job("P-1/label/10")));  // another label, not a reprint
  EXPECT_EQ((*jobs.findCurrent("P-1/label/1"))->jobId, "J-1");
  for (int n = 1; n <= 10; ++n) ASSERT_TRUE(jobs.createOrGet(job("P-1/label/1/reprint-" + std::to_string(n))));
  EXPECT_EQ((*jobs.findCurrent("P-1/label/1"))->idempotencyKey, "P-1/label/1/reprint-10");
  EXPECT_EQ((*jobs.findByKey("P-1/label/1/reprint-9"))->jobId, "J-11");
  EXPECT_FALSE(jobs.findByKey("P-1/label/2")->has_value());
}

TEST_F(JobStoreTest, SerialsAreDurableAndNeverReused) {
  for (auto mode : {config::SyncMode::kFull, config::SyncMode::kNormal}) {
    auto o = options();
    o.synchronous = mode;
    {
      auto store = open(o);
      SqliteJobStore jobs(*store);
      auto first = jobs.nextSerial("sscc");
      ASSERT_TRUE(first);
      EXPECT_EQ(*jobs.nextSerial("sscc"), *first + 1);
      EXPECT_EQ(*jobs.nextSerial(mode == config::SyncMode::kFull ? "full" : "normal"), 1);
      EXPECT_EQ(store->info()->synchronous, mode == config::SyncMode::kFull ? "full" : "normal");
    }
    auto store = open(o);
    SqliteJobStore jobs(*store);
    EXPECT_EQ(*jobs.nextSerial("sscc"), mode == config::SyncMode::kFull ? 3 : 6);
  }
}

}  // namespace
}  // namespace floorlink::agent::testing
