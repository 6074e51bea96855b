// Printer figures, each beside a baseline measured in the same run:
//   label_render_us (p50, _p99)   shipping template -> ZPL for the printer:
//       fill + ^FH escaping + scaling check + barcode verification (3 barcodes:
//       2 GS1-128 through ZXing, 1 GS1 DataMatrix through zint, each decoded back)
//       baseline: naive placeholder replacement, no escaping, no verification
//       (label_fill_naive_us)
//   print_job_ms (p50, _p99)   PrintService::submit -> job confirmed: render,
//       journal (in-memory JobStore), ~HS before, label, ~HS after, on the fake
//       ZPL printer over loopback TCP with the real ZplTcpPrinter and event loop
//       baseline: a blocking socket sends the same label and ~HS to the same
//       fake printer and waits for the ~HS answer (print_raw_roundtrip_ms)
//   print_job_full_journal_ms_p99   the same print job over the agent's SQLite
//       journal (SqliteJobStore, synchronous=FULL) holding 20,000 jobs;
//       baseline: the same over an empty SQLite journal, submits alternating
//       between the two in the same run (goal: ratio <= 1.5)
// Prints a table and writes [{"name","value","unit","baseline","ratio"}] to
// $FLOORLINK_BENCH_OUT/printers.json (current directory when unset).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>

#include "agent/store/sqlite_job_store.h"
#include "agent/store/task_store.h"
#include "bench/bench_util.h"
#include "config/loader.h"
#include "core/gs1.h"
#include "printers/host_status.h"
#include "printers/print_service.h"
#include "printers/testing/fake_zpl_printer.h"
#include "tests/printers/fake_job_store.h"

using namespace floorlink;
using namespace floorlink::printers;
using Steady = std::chrono::steady_clock;

namespace {

using floorlink::bench::Figure;

using floorlink::bench::percentile;

template <class T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

std::string naiveFill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [k, v] : values) {
    std::string key = "{{" + k + "}}";
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + v.size()))
      text.replace(at, key.size(), v);
  }
  return text;
}

const std::vector<std::string> kNames = {"ACME Pty", "Zoë Ødegård", "Müller & Söhne GmbH", "^XZ^XA^FO0,0^FDX^FS",
                                         "株式会社 東京物流", "O'Brien Logistics"};

// A shipping label request for task `i`, keyed "<prefix>T-i/label/1".
LabelRequest labelRequest(int i, const std::string& prefix = "") {
  LabelRequest r;
  r.idempotencyKey = prefix + "T-" + std::to_string(i) + "/label/1";
  r.printer = "lp1";
  r.templateName = "shipping";
  r.taskId = "T-" + std::to_string(i);
  r.station = "pack1";
  r.orderId = "O-" + std::to_string(i);
  r.fields = {{"customer", kNames[i % kNames.size()]}, {"street", "1 Dock Road"}, {"postal_code", "10115"},
              {"city", "Berlin"}};
  return r;
}

// Submits one label and runs the loop until it is confirmed; its ms.
double printOne(EventLoop& loop, PrintService& service, const LabelRequest& r, std::string* zpl = nullptr) {
  std::optional<Result<PrintJob>> done;
  auto t0 = Steady::now();
  service.submit(r, [&](const Result<PrintJob>& j) { done = j; });
  while (!done) (void)loop.runFor(std::chrono::milliseconds(1));
  auto t1 = Steady::now();
  if (!*done || (*done)->state != JobState::kConfirmed)
    floorlink::bench::die("bench_printers", "job not confirmed: " +
                                                (*done ? (*done)->detail : done->error().describe()));
  if (zpl) *zpl = (*done)->zpl;
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// Writes `count` confirmed jobs carrying `zpl` straight into the journal of
// the store database at `path` (one transaction), as weeks of printing would.
void fillJournal(const std::filesystem::path& path, int count, const std::string& zpl) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) floorlink::bench::die("bench_printers", "cannot open " + path.string());
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO print_jobs (job_id, idempotency_key, printer, template, task_id, station, zpl, "
                     "state, attempts, created_ms, updated_ms) VALUES (?, ?, 'lp1', 'shipping', ?, 'pack1', ?, "
                     "'confirmed', 1, ?, ?)",
                     -1, &ins, nullptr);
  for (int i = 1; i <= count; ++i) {
    std::string id = "J-" + std::to_string(i), key = "old/T-" + std::to_string(i) + "/label/1",
                task = "old/T-" + std::to_string(i);
    sqlite3_bind_text(ins, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, task.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(ins, 4, zpl.data(), static_cast<int>(zpl.size()), SQLITE_STATIC);
    sqlite3_bind_int64(ins, 5, i);
    sqlite3_bind_int64(ins, 6, i);
    if (sqlite3_step(ins) != SQLITE_DONE) floorlink::bench::die("bench_printers", sqlite3_errmsg(db));
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  std::string counter =
      "INSERT OR REPLACE INTO counters (name, value) VALUES ('print_job', " + std::to_string(count) + ")";
  sqlite3_exec(db, counter.c_str(), nullptr, nullptr, nullptr);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    floorlink::bench::die("bench_printers", sqlite3_errmsg(db));
  sqlite3_close(db);
}

}  // namespace

int main() {
  std::vector<Figure> figures;
  const std::filesystem::path templatePath = std::filesystem::path(FLOORLINK_SOURCE_DIR) / "printers/templates/shipping.zpl";
  auto shipping = LabelTemplate::load(templatePath);
  if (!shipping) {
    std::fprintf(stderr, "bench_printers: %s\n", shipping.error().describe().c_str());
    return 1;
  }
  std::ifstream rawIn(templatePath);
  std::string rawTemplate((std::istreambuf_iterator<char>(rawIn)), {});

  // --- label render
  constexpr int kRenders = 2000;
  std::vector<double> naive, render;
  for (int i = 0; i < kRenders + 100; ++i) {
    std::string sscc = *gs1::makeSscc("0614141", 1, 1000 + i);
    std::map<std::string, std::string> flat = {{"field.customer", kNames[i % kNames.size()]},
                                               {"field.street", "1 Dock Road"},
                                               {"field.postal_code", "10115"},
                                               {"field.city", "Berlin"},
                                               {"sscc", sscc},
                                               {"order_id", "O-" + std::to_string(i)},
                                               {"station", "pack1"},
                                               {"date", "2026-11-22"}};
    auto t0 = Steady::now();
    auto plain = naiveFill(rawTemplate, flat);
    keep(plain);
    auto t1 = Steady::now();
    LabelValues v;
    v.fields = {{"customer", flat["field.customer"]}, {"street", "1 Dock Road"}, {"postal_code", "10115"},
                {"city", "Berlin"}};
    v.values = {{"sscc", sscc}, {"order_id", flat["order_id"]}, {"station", "pack1"}, {"date", "2026-11-22"}};
    auto z = shipping->fill(v, 8);
    if (!z) return 1;
    auto verified = verifyLabel(*z, {.sscc = sscc});
    if (!verified.ok) {
      std::fprintf(stderr, "bench_printers: verification failed: %s\n", verified.reason.c_str());
      return 1;
    }
    auto t2 = Steady::now();
    if (i < 100) continue;  // warm-up
    naive.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    render.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  figures.push_back({"label_render_us", percentile(render, 0.5), "us", percentile(naive, 0.5)});
  figures.push_back({"label_render_us_p99", percentile(render, 0.99), "us", percentile(naive, 0.99)});

  // --- print job on the fake printer
  auto fake = FakeZplPrinter::start();
  if (!fake) return 1;
  auto loop = std::move(*EventLoop::create());
  config::DeviceConfig dev;
  dev.id = "lp1";
  dev.kind = config::DeviceKind::kPrinter;
  dev.protocol = "zpl";
  dev.address = *config::parseAddress((*fake)->address());
  PrinterOptions po;
  po.pollInterval = std::chrono::seconds(60);  // keep idle polls out of the measurement
  po.confirmPoll = std::chrono::milliseconds(1);
  auto printer = std::move(*createLabelPrinter(*loop, dev, Logger(), po));
  (void)printer->start(nullptr);
  auto deadline = Steady::now() + std::chrono::seconds(10);
  while (printer->status().state != PrinterState::kOk && Steady::now() < deadline)
    (void)loop->runFor(std::chrono::milliseconds(5));
  if (printer->status().state != PrinterState::kOk) {
    std::fprintf(stderr, "bench_printers: fake printer not ready: %s\n", printer->status().reason.c_str());
    return 1;
  }
  FakeClock clock;
  testing::FakeJobStore store(clock);
  TemplateLibrary templates;
  templates.add(*shipping);
  PrintServiceOptions so;
  so.site = "dc1";
  so.agent = "pc7";
  so.gs1CompanyPrefix = "0614141";
  so.extensionDigit = 1;
  PrintService service(*loop, store, templates, clock, Logger(), so);
  service.addPrinter(*printer);

  constexpr int kJobs = 300;
  std::vector<double> jobMs;
  std::string lastZpl;
  for (int i = 0; i < kJobs + 20; ++i) {
    double ms = printOne(*loop, service, labelRequest(i), &lastZpl);
    if (i >= 20) jobMs.push_back(ms);
  }

  // --- the same over the agent's SQLite journal: empty, and 20,000 jobs deep
  constexpr int kJournal = 20'000;
  char dirTemplate[] = "/tmp/bench-printers-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(dirTemplate);
  auto openStore = [&](const char* name) {
    agent::StoreOptions o;
    o.path = dir / name;
    o.site = "dc1";
    o.agentId = "pc7";
    auto opened = agent::TaskStore::open(o, clock);
    if (!opened) floorlink::bench::die("bench_printers", opened.error().describe());
    return std::move(*opened);
  };
  auto emptyStore = openStore("empty.db");
  openStore("full.db").reset();  // schema only
  fillJournal(dir / "full.db", kJournal, lastZpl);
  auto fullStore = openStore("full.db");
  agent::SqliteJobStore emptyJournal(*emptyStore), fullJournal(*fullStore);
  PrintService emptyService(*loop, emptyJournal, templates, clock, Logger(), so);
  PrintService fullService(*loop, fullJournal, templates, clock, Logger(), so);
  emptyService.addPrinter(*printer);
  fullService.addPrinter(*printer);
  // Alternating, so load from elsewhere on the machine hits both alike.
  std::vector<double> emptyMs, fullMs;
  for (int i = 0; i < kJobs + 20; ++i) {
    double e = printOne(*loop, emptyService, labelRequest(i, "sqlite/"));
    double f = printOne(*loop, fullService, labelRequest(i, "sqlite/"));
    if (i < 20) continue;
    emptyMs.push_back(e);
    fullMs.push_back(f);
  }
  fullStore.reset();
  emptyStore.reset();
  std::filesystem::remove_all(dir);
  printer->stop();

  // Baseline: the same bytes and one ~HS over a plain blocking socket.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((*fake)->port());
  // The fake serves one connection at a time, like a printer: wait for the agent's to close.
  for (int tries = 0; ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && tries < 100; ++tries) {
    ::close(fd);
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::usleep(10000);
  }
  std::vector<double> raw;
  std::string payload = lastZpl + "~HS";
  for (int i = 0; i < kJobs + 20; ++i) {
    auto t0 = Steady::now();
    if (::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(payload.size())) return 1;
    std::string got;
    while (scanFrames(got).frames < 3) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        std::fprintf(stderr, "bench_printers: raw baseline connection lost\n");
        return 1;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    auto t1 = Steady::now();
    if (i >= 20) raw.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  ::close(fd);
  figures.push_back({"print_job_ms", percentile(jobMs, 0.5), "ms", percentile(raw, 0.5)});
  figures.push_back({"print_job_ms_p99", percentile(jobMs, 0.99), "ms", percentile(raw, 0.99)});
  figures.push_back({"print_job_full_journal_ms_p99", percentile(fullMs, 0.99), "ms", percentile(emptyMs, 0.99)});
  std::printf("SQLite journal, p50: %.3f ms with %d jobs, %.3f ms empty\n", percentile(fullMs, 0.5), kJournal,
              percentile(emptyMs, 0.5));

  floorlink::bench::writeFigures("bench_printers", figures, "printers.json");
  std::printf("baselines: label_fill_naive_us (no escaping, no verification); print_raw_roundtrip_ms (label + ~HS "
              "on a blocking socket); print_job_full_journal_ms_p99: the same job over an empty SQLite journal\n");
  return 0;
}
