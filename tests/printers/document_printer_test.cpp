// The printer-state-reasons mapping and the fake document printer.
#include "printers/document_printer.h"

#include <gtest/gtest.h>

#include "printers/testing/fake_document_printer.h"
#include "tests/printers/test_util.h"

namespace floorlink::printers {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(MapPrinterStatus, AnIdlePrinterWithoutReasonsIsOk) {
  auto s = mapPrinterStatus("idle", {"none"}, "Idle.");
  EXPECT_EQ(s.state, PrinterState::kOk);
  EXPECT_EQ(s.reason, "");
  EXPECT_EQ(s.keywords, std::vector<std::string>{"none"});
}

TEST(MapPrinterStatus, PaperJamDoorAndOfflineAreFaultsWhateverTheSeverity) {
  for (std::string suffix : {"", "-report", "-warning", "-error"}) {
    auto empty = mapPrinterStatus("processing", {"media-empty" + suffix}, "");
    EXPECT_EQ(empty.state, PrinterState::kFault) << suffix;
    EXPECT_EQ(empty.reason, "out of paper: load paper (media-empty" + suffix + ")");
    EXPECT_EQ(mapPrinterStatus("stopped", {"media-jam" + suffix}, "").state, PrinterState::kFault);
    EXPECT_EQ(mapPrinterStatus("idle", {"door-open" + suffix}, "").state, PrinterState::kFault);
    EXPECT_EQ(mapPrinterStatus("idle", {"offline" + suffix}, "").state, PrinterState::kOffline);
  }
  EXPECT_TRUE(has(mapPrinterStatus("idle", {"media-jam-error"}, "").reason, "paper jam: open the printer and clear it"));
  EXPECT_TRUE(has(mapPrinterStatus("idle", {"door-open-error"}, "").reason, "a door is open: close it"));
}

TEST(MapPrinterStatus, TonerLowIsAWarningOnAnOkPrinter) {
  auto s = mapPrinterStatus("idle", {"toner-low-report"}, "");
  EXPECT_EQ(s.state, PrinterState::kOk);
  EXPECT_EQ(s.reason, "toner low: have a cartridge ready (toner-low-report)");
  auto both = mapPrinterStatus("idle", {"toner-low-warning", "media-empty-error"}, "");
  EXPECT_EQ(both.state, PrinterState::kFault);
  EXPECT_EQ(both.reason, "out of paper: load paper (media-empty-error); toner low: have a cartridge ready (toner-low-warning)");
}

TEST(MapPrinterStatus, OfflineWinsAndKeepsTheFaultsInTheReason) {
  auto s = mapPrinterStatus("stopped", {"media-jam-error", "offline-report"}, "");
  EXPECT_EQ(s.state, PrinterState::kOffline);
  EXPECT_EQ(s.reason, "printer is offline (offline-report); paper jam: open the printer and clear it (media-jam-error)");
}

TEST(MapPrinterStatus, AStoppedPrinterOrAQueueNotAcceptingJobsIsAFault) {
  auto stopped = mapPrinterStatus("stopped", {"none"}, "Service required");
  EXPECT_EQ(stopped.state, PrinterState::kFault);
  EXPECT_EQ(stopped.reason, "printer stopped: Service required");
  auto paused = mapPrinterStatus("stopped", {"paused"}, "");
  EXPECT_EQ(paused.state, PrinterState::kFault);
  EXPECT_TRUE(has(paused.reason, "cupsenable")) << paused.reason;
  auto rejecting = mapPrinterStatus("idle", {"none"}, "", false);
  EXPECT_EQ(rejecting.state, PrinterState::kFault);
  EXPECT_TRUE(has(rejecting.reason, "not accepting jobs")) << rejecting.reason;
}

TEST(MapPrinterStatus, UnknownAndInformationalKeywordsDoNotChangeTheState) {
  auto s = mapPrinterStatus("processing", {"cups-waiting-for-job-completed", "other-warning", "-", "", "media"}, "");
  EXPECT_EQ(s.state, PrinterState::kOk);
  EXPECT_EQ(s.reason, "");
}

TEST(DocumentOutcomeNames, AreTheWordsLogsAndEventsUse) {
  EXPECT_EQ(toString(DocumentOutcome::kCompleted), "completed");
  EXPECT_EQ(toString(DocumentOutcome::kNotAccepted), "not-accepted");
  EXPECT_EQ(toString(DocumentOutcome::kUnknown), "unknown");
  EXPECT_EQ(toString(DocumentProgress::kBusyRetrying), "busy-retrying");
}

TEST(FakeDocumentPrinter, CompletesLaterByDefaultAndFollowsAScript) {
  auto loop = std::move(*EventLoop::create());
  FakeDocumentPrinter fake(*loop, "docs1");
  std::vector<DocumentPrinterStatus> statuses;
  ASSERT_TRUE(fake.start([&](const DocumentPrinterStatus& s) { statuses.push_back(s); }));
  ASSERT_EQ(statuses.size(), 1u);
  std::vector<DocumentResult> results;
  std::vector<DocumentUpdate> updates;
  DocumentPrinter::JobCallbacks cb{.onProgress = [&](const DocumentUpdate& u) { updates.push_back(u); },
                                   .onDone = [&](const DocumentResult& r) { results.push_back(r); }};
  fake.scriptOutcome({DocumentOutcome::kNotAccepted, "printer does not accept application/pdf"});
  ASSERT_TRUE(fake.submit({.docId = "d1", .bytes = "%PDF-1.4"}, cb));
  ASSERT_TRUE(fake.submit({.docId = "d2", .bytes = "%PDF-1.4", .copies = 2}, cb));
  EXPECT_TRUE(results.empty());  // never inside submit()
  ASSERT_TRUE(testing::runUntil(*loop, [&] { return results.size() == 2; }));
  EXPECT_EQ(results[0].outcome, DocumentOutcome::kNotAccepted);
  EXPECT_EQ(results[0].ippJobId, 0);
  EXPECT_EQ(results[1].outcome, DocumentOutcome::kCompleted);
  EXPECT_EQ(results[1].jobState, "completed");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].ippJobId, results[1].ippJobId);
  EXPECT_EQ(fake.submitted().size(), 2u);
  EXPECT_EQ(fake.submitted()[1].copies, 2);
  EXPECT_FALSE(fake.submit({.docId = "d3", .bytes = ""}, cb));
}

TEST(FakeDocumentPrinter, HeldJobsEndWhenTheTestSaysAndStopLeavesThemUnknownOrUnsent) {
  auto loop = std::move(*EventLoop::create());
  FakeDocumentPrinter fake(*loop, "docs1");
  ASSERT_TRUE(fake.start({}));
  fake.holdJobs(true);
  std::map<std::string, DocumentResult> results;
  auto cb = [&](std::string id) {
    return DocumentPrinter::JobCallbacks{.onDone = [&, id](const DocumentResult& r) { results[id] = r; }};
  };
  ASSERT_TRUE(fake.submit({.docId = "a", .bytes = "x"}, cb("a")));
  ASSERT_TRUE(fake.submit({.docId = "b", .bytes = "x"}, cb("b")));
  ASSERT_TRUE(fake.submit({.docId = "c", .bytes = "x"}, cb("c")));
  ASSERT_TRUE(fake.accept("a"));
  ASSERT_TRUE(fake.finish("a", {DocumentOutcome::kAborted, "jam"}));
  EXPECT_EQ(results["a"].outcome, DocumentOutcome::kAborted);
  EXPECT_EQ(results["a"].jobState, "aborted");
  EXPECT_FALSE(fake.finish("a", {DocumentOutcome::kCompleted}));
  ASSERT_TRUE(fake.accept("b"));
  fake.stop();
  EXPECT_EQ(results["b"].outcome, DocumentOutcome::kUnknown);
  EXPECT_EQ(results["c"].outcome, DocumentOutcome::kNotSent);
  fake.setStatus({PrinterState::kFault, "out of paper", {"media-empty"}});
  EXPECT_EQ(fake.status().state, PrinterState::kFault);
}

}  // namespace
}  // namespace floorlink::printers
