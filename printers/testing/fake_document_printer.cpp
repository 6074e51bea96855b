#include "printers/testing/fake_document_printer.h"

#include <algorithm>

namespace floorlink::printers {

FakeDocumentPrinter::FakeDocumentPrinter(EventLoop& loop, std::string id) : id_(std::move(id)), bound_(loop) {}

Status FakeDocumentPrinter::start(StatusCallback onStatus) {
  bound_.assertLoopThread();
  onStatus_ = std::move(onStatus);
  started_ = true;
  if (onStatus_) onStatus_(status_);
  return ok();
}

void FakeDocumentPrinter::stop() {
  bound_.assertLoopThread();
  started_ = false;
  // As the real printer: what never went out is not sent, what did is unknown.
  while (!pending_.empty()) {
    bool accepted = pending_.front().ippJobId != 0;
    end(0, {accepted ? DocumentOutcome::kUnknown : DocumentOutcome::kNotSent, "the printer was stopped"});
  }
}

void FakeDocumentPrinter::setStatus(DocumentPrinterStatus status) {
  bound_.assertLoopThread();
  status_ = std::move(status);
  if (started_ && onStatus_) onStatus_(status_);
}

void FakeDocumentPrinter::pollNow() {
  bound_.assertLoopThread();
  ++polls_;
  if (started_ && onStatus_) onStatus_(status_);
}

void FakeDocumentPrinter::scriptOutcome(DocumentResult result) { script_.push_back(std::move(result)); }

Status FakeDocumentPrinter::submit(DocumentJob job, JobCallbacks callbacks) {
  bound_.assertLoopThread();
  if (!started_) return fail(ErrorCode::kInvalidArgument, "document printer " + id_ + " is not started");
  if (job.bytes.empty() || job.copies < 1 || job.copies > 20) {
    return fail(ErrorCode::kInvalidArgument, "document " + job.docId + ": no bytes or copies not 1 to 20");
  }
  submitted_.push_back(job);
  pending_.push_back({std::move(job), std::move(callbacks), 0});
  if (hold_) return ok();
  std::string docId = pending_.back().job.docId;
  DocumentResult result{DocumentOutcome::kCompleted};
  if (!script_.empty()) {
    result = std::move(script_.front());
    script_.pop_front();
  }
  // Like the real printer, the outcome arrives later, never inside submit().
  bound_.post([this, docId, result] {
    bool printed = result.outcome == DocumentOutcome::kCompleted || result.outcome == DocumentOutcome::kAborted ||
                   result.outcome == DocumentOutcome::kCanceled || result.outcome == DocumentOutcome::kUnknown;
    if (printed && !accept(docId)) return;
    (void)finish(docId, result);
  });
  return ok();
}

Status FakeDocumentPrinter::accept(const std::string& docId) {
  bound_.assertLoopThread();
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.job.docId == docId; });
  if (it == pending_.end()) return fail(ErrorCode::kNotFound, "no pending document " + docId);
  it->ippJobId = nextJobId_++;
  if (it->callbacks.onProgress) {
    it->callbacks.onProgress({DocumentProgress::kAccepted, it->ippJobId, {}, "fake accepted"});
  }
  return ok();
}

Status FakeDocumentPrinter::finish(const std::string& docId, DocumentResult result) {
  bound_.assertLoopThread();
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.job.docId == docId; });
  if (it == pending_.end()) return fail(ErrorCode::kNotFound, "no pending document " + docId);
  end(static_cast<size_t>(it - pending_.begin()), std::move(result));
  return ok();
}

void FakeDocumentPrinter::end(size_t index, DocumentResult result) {
  Pending p = std::move(pending_[index]);
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
  if (result.ippJobId == 0) result.ippJobId = p.ippJobId;
  if (result.jobState.empty() && p.ippJobId != 0) {
    result.jobState = result.outcome == DocumentOutcome::kCompleted ? "completed"
                      : result.outcome == DocumentOutcome::kAborted ? "aborted"
                      : result.outcome == DocumentOutcome::kCanceled ? "canceled"
                                                                     : "";
  }
  if (p.callbacks.onDone) p.callbacks.onDone(result);
}

}  // namespace floorlink::printers
