#pragma once
// A DocumentPrinter for agent tests (phase 2): no printer, no thread. Each
// submitted job is kept; by default it is accepted and completed on the
// next loop turn, or the test scripts the outcomes, or holds jobs and ends
// them itself (accept/finish).
#include <deque>
#include <string>
#include <vector>

#include "core/loop_bound.h"
#include "printers/document_printer.h"

namespace floorlink::printers {

class FakeDocumentPrinter final : public DocumentPrinter {
 public:
  FakeDocumentPrinter(EventLoop& loop, std::string id);

  const std::string& id() const override { return id_; }
  std::string describe() const override { return "fake:" + id_; }
  Status start(StatusCallback onStatus) override;
  void stop() override;
  const DocumentPrinterStatus& status() const override { return status_; }
  Status submit(DocumentJob job, JobCallbacks callbacks) override;
  void pollNow() override;

  // Test controls (loop thread).
  void setStatus(DocumentPrinterStatus status);  // reported at once when started
  // The next jobs end like this, in order (then: completed again).
  void scriptOutcome(DocumentResult result);
  // true: jobs wait for accept()/finish() instead of ending by themselves.
  void holdJobs(bool hold) { hold_ = hold; }
  Status accept(const std::string& docId);  // kAccepted with the next job id
  Status finish(const std::string& docId, DocumentResult result);

  const std::vector<DocumentJob>& submitted() const { return submitted_; }
  int pollCount() const { return polls_; }

 private:
  struct Pending {
    DocumentJob job;
    JobCallbacks callbacks;
    int ippJobId = 0;
  };
  void end(size_t index, DocumentResult result);

  std::string id_;
  DocumentPrinterStatus status_{PrinterState::kOk, "", {}};
  StatusCallback onStatus_;
  bool started_ = false;
  bool hold_ = false;
  int nextJobId_ = 1;
  int polls_ = 0;
  std::deque<DocumentResult> script_;
  std::vector<DocumentJob> submitted_;
  std::vector<Pending> pending_;
  LoopBound bound_;  // last
};

}  // namespace floorlink::printers
