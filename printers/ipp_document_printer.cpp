#include "printers/ipp_document_printer.h"

#include <cups/cups.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "io/backoff.h"

namespace floorlink::printers {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string IppTarget::uri() const {
  char buf[HTTP_MAX_URI];
  // A local cupsd on its socket takes any host in the printer-uri.
  bool socket = host.starts_with('/');
  httpAssembleURI(HTTP_URI_CODING_ALL, buf, sizeof buf, tls ? "ipps" : "ipp", nullptr,
                  socket ? "localhost" : host.c_str(), socket ? 631 : port, resource.c_str());
  return buf;
}

Result<IppTarget> ippTargetOf(const config::DeviceConfig& device) {
  const auto& a = device.address;
  const auto& o = device.docPrinter;
  IppTarget t;
  switch (a.scheme) {
    case config::AddressScheme::kIpp:
    case config::AddressScheme::kIpps:
      t.host = a.host;
      t.port = a.port;
      t.resource = a.path;
      t.tls = a.scheme == config::AddressScheme::kIpps;
      t.verifyTls = o.verifyTls;
      t.caFile = o.caFile;
      return t;
    case config::AddressScheme::kCups: {
      std::string server = o.cupsServer;
      int port = 0;
      if (server.empty()) {
        // CUPS_SERVER, client.conf or the local socket; cupsServer() takes
        // a ":port" off and leaves it to ippPort(). It caches per thread:
        // forget the cache so the environment of now counts.
        cupsSetServer(nullptr);
        server = cupsServer();
        port = ippPort();
      } else if (server.front() != '/') {
        size_t colon = server.rfind(':');  // the loader checked host:port
        port = std::stoi(server.substr(colon + 1));
        server.resize(colon);
        if (server.starts_with('[') && server.ends_with(']')) server = server.substr(1, server.size() - 2);
      }
      t.host = server;
      t.port = port > 0 ? port : 631;
      t.resource = "/printers/" + a.path;
      t.cupsQueue = a.path;
      return t;
    }
    case config::AddressScheme::kSerial:
    case config::AddressScheme::kTcp:
    case config::AddressScheme::kUsb:
    case config::AddressScheme::kEvdev:
    case config::AddressScheme::kFile:
    case config::AddressScheme::kSim:
      break;
  }
  return fail(ErrorCode::kInvalidArgument, device.origin.describe() + ": \"" + a.text +
                                               "\" is not a document printer address (ipp://, ipps://, cups:QUEUE)");
}

namespace {

constexpr double kWaitSliceSeconds = 0.05;  // how soon a blocked libcups call sees a cancel
constexpr size_t kWriteChunk = 64 * 1024;

std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::string lastCupsError() {
  const char* text = cupsLastErrorString();
  return text && *text ? text : ippErrorString(cupsLastError());
}

std::vector<std::string> stringsOf(ipp_t* response, const char* name) {
  std::vector<std::string> out;
  ipp_attribute_t* attr = ippFindAttribute(response, name, IPP_TAG_ZERO);
  for (int i = 0; attr && i < ippGetCount(attr); ++i) {
    if (const char* s = ippGetString(attr, i, nullptr)) out.emplace_back(s);
  }
  return out;
}

std::string stringOf(ipp_t* response, const char* name) {
  auto all = stringsOf(response, name);
  return all.empty() ? "" : all.front();
}

std::optional<int> integerOf(ipp_t* response, const char* name) {
  ipp_attribute_t* attr = ippFindAttribute(response, name, IPP_TAG_ZERO);
  if (!attr || ippGetCount(attr) < 1) return std::nullopt;
  ipp_tag_t tag = ippGetValueTag(attr);
  if (tag != IPP_TAG_INTEGER && tag != IPP_TAG_ENUM) return std::nullopt;
  return ippGetInteger(attr, 0);
}

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

bool isSuccess(ipp_status_t status) { return status <= IPP_STATUS_OK_EVENTS_COMPLETE; }

// The printer's certificate against the system's CAs (or ca_file) and the
// host of the address. libcups's own check is trust-on-first-use with any
// root allowed (client.conf AllowAnyRoot), which is no verification, so the
// peer chain it hands over is checked here with GnuTLS, before any request.
Status verifyPeer(http_t* http, const IppTarget& target) {
  cups_array_t* credentials = nullptr;
  if (httpCopyCredentials(http, &credentials) != 0 || !credentials || cupsArrayCount(credentials) == 0) {
    if (credentials) httpFreeCredentials(credentials);
    return fail(ErrorCode::kPermission, "the printer sent no TLS certificate");
  }
  std::vector<gnutls_x509_crt_t> chain;
  Status status = ok();
  for (auto* c = static_cast<http_credential_t*>(cupsArrayFirst(credentials)); c;
       c = static_cast<http_credential_t*>(cupsArrayNext(credentials))) {
    gnutls_x509_crt_t crt = nullptr;
    gnutls_datum_t der{static_cast<unsigned char*>(c->data), static_cast<unsigned>(c->datalen)};
    if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0) {
      if (crt) gnutls_x509_crt_deinit(crt);
      status = fail(ErrorCode::kProtocol, "the printer's TLS certificate cannot be read");
      break;
    }
    chain.push_back(crt);
  }
  httpFreeCredentials(credentials);
  gnutls_x509_trust_list_t trust = nullptr;
  if (status && gnutls_x509_trust_list_init(&trust, 0) < 0) status = fail(ErrorCode::kInternal, "gnutls trust list");
  if (status) {
    int added = target.caFile.empty()
                    ? gnutls_x509_trust_list_add_system_trust(trust, 0, 0)
                    : gnutls_x509_trust_list_add_trust_file(trust, target.caFile.c_str(), nullptr, GNUTLS_X509_FMT_PEM,
                                                            0, 0);
    if (added <= 0) {
      status = fail(ErrorCode::kPermission, target.caFile.empty()
                                                ? std::string("no system CA certificates to check the printer with")
                                                : "no CA certificate in " + target.caFile);
    }
  }
  if (status) {
    unsigned verdict = 0;
    gnutls_typed_vdata_st data[2] = {
        {GNUTLS_DT_DNS_HOSTNAME, reinterpret_cast<unsigned char*>(const_cast<char*>(target.host.c_str())), 0},
        {GNUTLS_DT_KEY_PURPOSE_OID, reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_SERVER)), 0},
    };
    int rc = gnutls_x509_trust_list_verify_crt2(trust, chain.data(), static_cast<unsigned>(chain.size()), data, 2, 0,
                                                &verdict, nullptr);
    if (rc < 0 || verdict != 0) {
      gnutls_datum_t text{};
      std::string why = rc < 0 ? gnutls_strerror(rc) : "not trusted";
      if (rc >= 0 && gnutls_certificate_verification_status_print(verdict, GNUTLS_CRT_X509, &text, 0) >= 0) {
        why = reinterpret_cast<const char*>(text.data);
        gnutls_free(text.data);
      }
      status = fail(ErrorCode::kPermission, "the printer's TLS certificate for " + target.host + " is rejected: " +
                                                why + " (set ca_file to the CA that signed it)");
    }
  }
  if (trust) gnutls_x509_trust_list_deinit(trust, 1);
  for (auto* crt : chain) gnutls_x509_crt_deinit(crt);
  return status;
}

ipp_t* newRequest(ipp_op_t op, const std::string& uri) {
  ipp_t* request = ippNewRequest(op);
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, cupsUser());
  return request;
}

void requestAttributes(ipp_t* request, std::initializer_list<const char*> names) {
  std::vector<const char*> list(names);
  ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", static_cast<int>(list.size()),
                nullptr, list.data());
}

struct IppResponse {
  ipp_t* ipp = nullptr;
  IppResponse() = default;
  explicit IppResponse(ipp_t* i) : ipp(i) {}
  IppResponse(const IppResponse&) = delete;
  IppResponse& operator=(const IppResponse&) = delete;
  IppResponse(IppResponse&& o) noexcept : ipp(std::exchange(o.ipp, nullptr)) {}
  IppResponse& operator=(IppResponse&& o) noexcept {
    std::swap(ipp, o.ipp);
    return *this;
  }
  ~IppResponse() {
    if (ipp) ippDelete(ipp);
  }
  explicit operator bool() const { return ipp != nullptr; }
  ipp_status_t status() const { return ippGetStatusCode(ipp); }
  std::string message() const {
    ipp_attribute_t* a = ippFindAttribute(ipp, "status-message", IPP_TAG_TEXT);
    const char* s = a ? ippGetString(a, 0, nullptr) : nullptr;
    return s ? s : "";
  }
  std::string describe() const {
    std::string m = message();
    return std::string(ippErrorString(status())) + (m.empty() ? "" : " (" + m + ")");
  }
};

DocumentPrinterStatus statusOf(ipp_t* response) {
  auto state = integerOf(response, "printer-state");
  auto accepting = ippFindAttribute(response, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
  return mapPrinterStatus(state ? ippEnumString("printer-state", *state) : "",
                          stringsOf(response, "printer-state-reasons"), stringOf(response, "printer-state-message"),
                          accepting ? ippGetBoolean(accepting, 0) != 0 : true);
}

}  // namespace

// Everything the worker thread uses. The loop side only touches the part
// under `mu` (queue, flags); the rest is the worker's alone after start.
struct IppDocumentPrinter::Worker {
  std::string id;
  IppTarget target;
  std::string uri;
  config::DocPrinterOptions options;
  IppPrinterTuning tuning;
  Logger log;
  LoopPoster poster;
  IppDocumentPrinter* owner = nullptr;  // dereferenced only in callbacks the poster runs while it lives

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool pollRequested = true;
  std::deque<std::pair<uint64_t, DocumentJob>> queue;
  std::atomic<bool> cancelled{false};
  int cancelConnect = 0;  // libcups's connect-cancel flag, set once when stopping

  // Worker-only from here.
  http_t* http = nullptr;
  Clock::time_point requestDeadline;
  std::optional<DocumentPrinterStatus> lastStatus;

  ~Worker() { closeConnection(); }

  // From the loop: changes what the worker waits for, and wakes it.
  template <class F>
  void wake(F change) {
    {
      std::lock_guard lock(mu);
      change(*this);
    }
    cv.notify_all();
  }

  // libcups calls this every wait slice: keep waiting (1) until cancelled or
  // past the request's deadline.
  static int keepWaiting(http_t*, void* self) {
    auto* w = static_cast<Worker*>(self);
    return !w->cancelled.load() && Clock::now() < w->requestDeadline ? 1 : 0;
  }

  void closeConnection() {
    if (http) httpClose(http);
    http = nullptr;
  }

  std::string where() const {
    return target.host.starts_with('/') ? target.host : target.host + ":" + std::to_string(target.port);
  }

  // One connection, kept between requests and made again after a failure.
  Status connect() {
    if (http) return ok();
    http_encryption_t encryption = target.tls ? HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED;
    // msec 0: create without connecting, so the wait callback is in place
    // before the connect and the TLS handshake. Blocking with a timeout, as
    // ipptool does: libcups then waits in slices and asks keepWaiting().
    http = httpConnect2(target.host.c_str(), target.port, nullptr, AF_UNSPEC, encryption, 1, 0, nullptr);
    if (!http) return fail(ErrorCode::kDisconnected, "cannot resolve " + target.host + ": " + lastCupsError());
    httpSetTimeout(http, kWaitSliceSeconds, &Worker::keepWaiting, this);
    requestDeadline = Clock::now() + options.requestTimeout;
    if (httpReconnect2(http, static_cast<int>(options.requestTimeout.count()), &cancelConnect) != 0) {
      int err = httpError(http);
      std::string why = err ? std::strerror(err) : lastCupsError();
      closeConnection();
      return fail(ErrorCode::kDisconnected, "cannot reach the printer at " + where() + ": " + why);
    }
    if (target.tls && target.verifyTls) {
      if (auto s = verifyPeer(http, target); !s) {
        closeConnection();
        return s;
      }
    }
    return ok();
  }

  // A request without document data (Get-*, safe to ask twice), made by
  // `make`. An empty response: no answer (the connection is closed, `why`
  // says what happened). A kept connection the printer dropped meanwhile is
  // made again once, so a restarted printer reads as "cannot reach", not as
  // a lost answer.
  IppResponse exchange(const std::function<ipp_t*()>& make, std::string& why) {
    for (bool retried = false;; retried = true) {
      bool reused = http != nullptr;
      if (auto s = connect(); !s) {
        why = s.error().message;
        return {};
      }
      requestDeadline = Clock::now() + options.requestTimeout;
      IppResponse response(cupsDoRequest(http, make(), target.resource.c_str()));  // frees the request
      if (response) return response;
      why = cancelled ? std::string("stopped") : "no answer from the printer at " + where() + ": " + lastCupsError();
      closeConnection();
      if (!reused || retried || cancelled || Clock::now() >= requestDeadline) return {};
    }
  }

  IppResponse printerAttributes(std::string& why) {
    return exchange(
        [&] {
          ipp_t* request = newRequest(IPP_OP_GET_PRINTER_ATTRIBUTES, uri);
          requestAttributes(request, {"printer-state", "printer-state-reasons", "printer-state-message",
                                      "printer-is-accepting-jobs", "document-format-supported", "sides-supported",
                                      "media-supported"});
          return request;
        },
        why);
  }

  void postStatus(DocumentPrinterStatus status) {
    if (lastStatus && *lastStatus == status) return;
    lastStatus = status;
    poster.post([o = owner, status] { o->onStatus(status); });
  }
  void postProgress(uint64_t seq, DocumentUpdate update) {
    poster.post([o = owner, seq, update] { o->onProgress(seq, update); });
  }
  void postDone(uint64_t seq, DocumentResult result) {
    log.info(LogFields{.device = id}, "document {}: {}{}", seq, toString(result.outcome),
             result.reason.empty() ? "" : ": " + result.reason);
    poster.post([o = owner, seq, result] { o->onDone(seq, result); });
  }

  // Waits `d` unless stopped; false when stopping.
  bool sleepFor(milliseconds d) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, d, [&] { return stopping; });
  }

  DocumentPrinterStatus fetchStatus(IppResponse* keep = nullptr) {
    std::string why;
    IppResponse response = printerAttributes(why);
    if (!response) return {PrinterState::kOffline, why, {}};
    if (!isSuccess(response.status())) {
      std::string text = response.status() == IPP_STATUS_ERROR_NOT_FOUND && !target.cupsQueue.empty()
                             ? "CUPS at " + where() + " has no queue " + target.cupsQueue + " (lpstat -p)"
                             : "the printer answered " + response.describe();
      return {PrinterState::kFault, text, {}};
    }
    DocumentPrinterStatus status = statusOf(response.ipp);
    if (keep) *keep = std::move(response);
    return status;
  }

  // One Print-Job: the result, or nullopt with `busy` set, or the job id.
  struct Attempt {
    std::optional<DocumentResult> result;  // final
    bool busy = false;
    int jobId = 0;
  };

  Attempt tryPrint(const DocumentJob& job) {
    auto notSent = [](DocumentOutcome outcome, std::string reason) {
      return Attempt{DocumentResult{.outcome = outcome, .reason = std::move(reason)}};
    };
    // Before anything is sent: the printer's state and what it takes.
    IppResponse printer;
    DocumentPrinterStatus status = fetchStatus(&printer);
    postStatus(status);
    if (!printer) {
      return notSent(status.state == PrinterState::kFault ? DocumentOutcome::kNotAccepted : DocumentOutcome::kNotSent,
                     status.reason + "; nothing was sent");
    }
    if (status.state != PrinterState::kOk) {
      return notSent(DocumentOutcome::kNotSent, "printer not ready: " + status.reason + "; nothing was sent");
    }
    auto formats = stringsOf(printer.ipp, "document-format-supported");
    if (!contains(formats, job.format)) {
      return notSent(DocumentOutcome::kNotAccepted,
                     "printer does not accept " + job.format + " (it takes " + joined(formats) +
                         "): set up a local CUPS queue (cups:QUEUE), which converts");
    }
    auto sides = stringsOf(printer.ipp, "sides-supported");
    if (!job.sides.empty() && !sides.empty() && !contains(sides, job.sides)) {
      return notSent(DocumentOutcome::kNotAccepted,
                     "printer cannot print sides=" + job.sides + " (it supports " + joined(sides) + ")");
    }
    auto media = stringsOf(printer.ipp, "media-supported");
    if (!job.media.empty() && !media.empty() && !contains(media, job.media)) {
      return notSent(DocumentOutcome::kNotAccepted,
                     "printer has no media " + job.media + " (it supports " + joined(media) + ")");
    }

    ipp_t* request = newRequest(IPP_OP_PRINT_JOB, uri);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, job.docId.c_str());
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, job.format.c_str());
    ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", job.copies);
    if (!job.sides.empty()) ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", nullptr, job.sides.c_str());
    if (!job.media.empty()) ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", nullptr, job.media.c_str());
    struct Owned {
      ipp_t* r;
      ~Owned() { ippDelete(r); }
    } owned{request};
    if (auto s = connect(); !s) return notSent(DocumentOutcome::kNotSent, s.error().message + "; nothing was sent");
    requestDeadline = Clock::now() + options.requestTimeout;
    // The length is the whole HTTP body: the IPP message and the document.
    http_status_t sent = cupsSendRequest(http, request, target.resource.c_str(), ippLength(request) + job.bytes.size());
    if (sent != HTTP_STATUS_CONTINUE) {
      // The request's header did not go out whole: no byte of the document did.
      std::string why = lastCupsError();
      closeConnection();
      return notSent(DocumentOutcome::kNotSent, "Print-Job could not be sent to " + where() + " (" +
                                                    httpStatus(sent) + ", " + why + "); nothing was printed");
    }
    bool wroteAll = true;
    for (size_t at = 0; at < job.bytes.size(); at += kWriteChunk) {
      requestDeadline = Clock::now() + options.requestTimeout;
      size_t n = std::min(kWriteChunk, job.bytes.size() - at);
      if (cupsWriteRequestData(http, job.bytes.data() + at, n) != HTTP_STATUS_CONTINUE) {
        wroteAll = false;  // the printer may have answered early (busy); read its answer below
        break;
      }
    }
    requestDeadline = Clock::now() + options.requestTimeout;
    IppResponse response(cupsGetResponse(http, target.resource.c_str()));
    if (!response) {
      http_status_t httpStatusCode = httpGetStatus(http);
      std::string why = cancelled ? std::string("stopped") : lastCupsError();
      closeConnection();
      if (httpStatusCode >= HTTP_STATUS_BAD_REQUEST) {
        return notSent(DocumentOutcome::kNotAccepted,
                       std::string("printer refused the request: HTTP ") + httpStatus(httpStatusCode));
      }
      return Attempt{DocumentResult{
          .outcome = DocumentOutcome::kUnknown,
          .reason = std::string(wroteAll ? "the whole document was sent" : "part of the document was sent") +
                    " but the printer's answer never came (" + why + "): it may print; do not resend",
      }};
    }
    ipp_status_t code = response.status();
    if (code == IPP_STATUS_ERROR_BUSY) return Attempt{.busy = true};
    if (code == IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED) {
      return notSent(DocumentOutcome::kNotAccepted, "printer does not accept " + job.format +
                                                        ": set up a local CUPS queue (cups:QUEUE), which converts");
    }
    if (code == IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS) {
      return notSent(DocumentOutcome::kNotSent, "printer is not accepting jobs: " + response.describe());
    }
    if (!isSuccess(code)) {
      return notSent(DocumentOutcome::kNotAccepted, "printer refused the job: " + response.describe());
    }
    auto jobId = integerOf(response.ipp, "job-id");
    if (!jobId) {
      return Attempt{DocumentResult{.outcome = DocumentOutcome::kUnknown,
                                    .reason = "printer took the job but named no job-id: it may print; do not resend"}};
    }
    return Attempt{.jobId = *jobId};
  }

  // Get-Job-Attributes until the job ends, or contact is lost for lost_s.
  DocumentResult follow(int jobId) {
    DocumentResult result{.outcome = DocumentOutcome::kUnknown, .ippJobId = jobId};
    auto lastContact = Clock::now();
    auto lastStatusPoll = Clock::now();
    std::string lastWhy;
    while (true) {
      if (!sleepFor(tuning.followPoll)) {
        result.reason = "stopped following job " + std::to_string(jobId) + " before it ended: it may have printed";
        return result;
      }
      IppResponse response = exchange(
          [&] {
            ipp_t* request = newRequest(IPP_OP_GET_JOB_ATTRIBUTES, uri);
            ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", jobId);
            requestAttributes(request,
                              {"job-state", "job-state-reasons", "job-state-message", "job-impressions-completed"});
            return request;
          },
          lastWhy);
      if (response) {
        lastContact = Clock::now();
        if (response.status() == IPP_STATUS_ERROR_NOT_FOUND) {
          result.reason = "the printer no longer knows job " + std::to_string(jobId) +
                          " (restarted?): it may have printed; check the printer";
          return result;
        }
        auto state = isSuccess(response.status()) ? integerOf(response.ipp, "job-state") : std::nullopt;
        if (state) {
          result.jobState = ippEnumString("job-state", *state);
          std::string why = stringOf(response.ipp, "job-state-message");
          std::string reasons = joined(stringsOf(response.ipp, "job-state-reasons"));
          std::string detail = why.empty() ? reasons : why + " (" + reasons + ")";
          switch (static_cast<ipp_jstate_t>(*state)) {
            case IPP_JSTATE_COMPLETED: {
              result.outcome = DocumentOutcome::kCompleted;
              // ippeveprinter and printers that do not count say 0 for a
              // completed job: that is "not counted", not "no pages".
              auto impressions = integerOf(response.ipp, "job-impressions-completed");
              if (impressions && *impressions > 0) result.impressions = impressions;
              return result;
            }
            case IPP_JSTATE_ABORTED:
              result.outcome = DocumentOutcome::kAborted;
              result.reason = "the printer aborted job " + std::to_string(jobId) + ": " + detail;
              return result;
            case IPP_JSTATE_CANCELED:
              result.outcome = DocumentOutcome::kCanceled;
              result.reason = "job " + std::to_string(jobId) + " was canceled at the printer: " + detail;
              return result;
            case IPP_JSTATE_PENDING:
            case IPP_JSTATE_HELD:
            case IPP_JSTATE_PROCESSING:
            case IPP_JSTATE_STOPPED:
              break;
          }
        }
      }
      auto silent = Clock::now() - lastContact;
      if (silent > options.lostTimeout) {
        result.reason = "lost contact with the printer for " +
                        std::to_string(duration_cast<seconds>(silent).count()) + " s after it took job " +
                        std::to_string(jobId) + " (" + lastWhy + "): it may have printed; check the printer";
        postStatus({PrinterState::kOffline, lastWhy, {}});
        return result;
      }
      if (Clock::now() - lastStatusPoll >= options.pollInterval) {
        postStatus(fetchStatus());
        lastStatusPoll = Clock::now();
      }
    }
  }

  void runJob(uint64_t seq, const DocumentJob& job) {
    auto firstTry = Clock::now();
    io::Backoff backoff(tuning.busyBackoffMin, tuning.busyBackoffMax);
    while (true) {
      Attempt attempt = tryPrint(job);
      if (attempt.result) {
        postDone(seq, *attempt.result);
        return;
      }
      if (attempt.busy) {
        milliseconds delay = backoff.next();
        auto spent = duration_cast<milliseconds>(Clock::now() - firstTry);
        if (spent + delay > options.busyRetryMax) {
          postDone(seq, {DocumentOutcome::kExpired, "the printer answered busy for " +
                                                        std::to_string(duration_cast<seconds>(spent).count()) +
                                                        " s (busy_retry_max_s); nothing was printed"});
          return;
        }
        postProgress(seq, {DocumentProgress::kBusyRetrying, 0, delay,
                           "printer busy (server-error-busy): trying again in " + ms(delay)});
        if (!sleepFor(delay)) {
          postDone(seq, {DocumentOutcome::kNotSent, "stopped while the printer was busy; nothing was printed"});
          return;
        }
        continue;
      }
      postProgress(seq, {DocumentProgress::kAccepted, attempt.jobId, milliseconds(0),
                         "the printer took it as job " + std::to_string(attempt.jobId)});
      postDone(seq, follow(attempt.jobId));
      return;
    }
  }

  void run() {
    while (true) {
      std::optional<std::pair<uint64_t, DocumentJob>> job;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, options.pollInterval, [&] { return stopping || pollRequested || !queue.empty(); });
        if (stopping) break;
        if (!queue.empty()) {
          job = std::move(queue.front());
          queue.pop_front();
        }
        pollRequested = false;
      }
      if (job) {
        runJob(job->first, job->second);
      } else {
        postStatus(fetchStatus());
      }
    }
    std::deque<std::pair<uint64_t, DocumentJob>> left;
    {
      std::lock_guard lock(mu);
      left.swap(queue);
    }
    for (auto& [seq, job] : left) {
      postDone(seq, {DocumentOutcome::kNotSent, "the printer was stopped before the document was sent"});
    }
    closeConnection();
  }
};

IppDocumentPrinter::IppDocumentPrinter(EventLoop& loop, std::string id, IppTarget target,
                                       config::DocPrinterOptions options, IppPrinterTuning tuning, Logger logger)
    : id_(std::move(id)),
      target_(std::move(target)),
      options_(std::move(options)),
      tuning_(tuning),
      log_(std::move(logger)),
      bound_(loop) {
  status_.reason = "not polled yet";
}

Result<std::unique_ptr<IppDocumentPrinter>> IppDocumentPrinter::create(EventLoop& loop,
                                                                       const config::DeviceConfig& device,
                                                                       Logger logger, IppPrinterTuning tuning) {
  if (device.kind != config::DeviceKind::kDocPrinter) {
    return fail(ErrorCode::kInvalidArgument,
                device.origin.describe() + ": device \"" + device.id + "\" is not a docprinter");
  }
  auto target = ippTargetOf(device);
  if (!target) return std::unexpected(target.error());
  return std::unique_ptr<IppDocumentPrinter>(
      new IppDocumentPrinter(loop, device.id, std::move(*target), device.docPrinter, tuning, std::move(logger)));
}

IppDocumentPrinter::~IppDocumentPrinter() { stop(); }

std::string IppDocumentPrinter::describe() const {
  if (!target_.cupsQueue.empty()) {
    std::string server = target_.host.starts_with('/') ? target_.host : target_.host + ":" + std::to_string(target_.port);
    return "cups:" + target_.cupsQueue + " on " + server;
  }
  return target_.uri();
}

Status IppDocumentPrinter::start(StatusCallback onStatus) {
  bound_.assertLoopThread();
  if (worker_) return fail(ErrorCode::kAlreadyExists, "document printer " + id_ + " is already started");
  onStatus_ = std::move(onStatus);
  auto w = std::make_shared<Worker>();
  w->id = id_;
  w->target = target_;
  w->uri = target_.uri();
  w->options = options_;
  w->tuning = tuning_;
  w->log = log_;
  w->poster = bound_.poster();
  w->owner = this;
  worker_ = w;
  thread_ = std::thread([w] { w->run(); });
  log_.info(LogFields{.device = id_}, "document printer {} at {}", id_, describe());
  return ok();
}

void IppDocumentPrinter::stop() {
  bound_.assertLoopThread();
  if (!worker_) return;
  worker_->cancelled = true;
  worker_->wake([](Worker& w) {
    w.stopping = true;
    w.cancelConnect = 1;
  });
  // Cancelled, libcups gives up within one wait slice (a connect within
  // 250 ms): the join is short, and nothing the worker posts can reach a
  // loop that is gone.
  if (thread_.joinable()) thread_.join();
  worker_.reset();
}

Status IppDocumentPrinter::submit(DocumentJob job, JobCallbacks callbacks) {
  bound_.assertLoopThread();
  if (!worker_) return fail(ErrorCode::kInvalidArgument, "document printer " + id_ + " is not started");
  if (job.bytes.empty()) return fail(ErrorCode::kInvalidArgument, "document " + job.docId + " has no bytes");
  if (job.copies < 1 || job.copies > 20) {
    return fail(ErrorCode::kInvalidArgument, "document " + job.docId + ": copies must be 1 to 20");
  }
  if (job.format.empty()) return fail(ErrorCode::kInvalidArgument, "document " + job.docId + " has no format");
  uint64_t seq = nextSeq_++;
  jobs_[seq] = std::move(callbacks);
  worker_->wake([&](Worker& w) { w.queue.emplace_back(seq, std::move(job)); });
  return ok();
}

void IppDocumentPrinter::pollNow() {
  bound_.assertLoopThread();
  if (worker_) worker_->wake([](Worker& w) { w.pollRequested = true; });
}

void IppDocumentPrinter::onStatus(DocumentPrinterStatus status) {
  bound_.assertLoopThread();
  if (status == status_) return;
  status_ = std::move(status);
  log_.info(LogFields{.device = id_}, "document printer {}: {}{}", id_, toString(status_.state),
            status_.reason.empty() ? "" : " (" + status_.reason + ")");
  if (onStatus_) onStatus_(status_);
}

void IppDocumentPrinter::onProgress(uint64_t seq, const DocumentUpdate& update) {
  bound_.assertLoopThread();
  auto it = jobs_.find(seq);
  if (it != jobs_.end() && it->second.onProgress) it->second.onProgress(update);
}

void IppDocumentPrinter::onDone(uint64_t seq, const DocumentResult& result) {
  bound_.assertLoopThread();
  auto it = jobs_.find(seq);
  if (it == jobs_.end()) return;
  auto done = std::move(it->second.onDone);
  jobs_.erase(it);
  if (done) done(result);
}

}  // namespace floorlink::printers
