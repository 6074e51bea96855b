// Document printing figures, beside a baseline measured in the same run:
//   doc_print_ms (p50, _p99)   IppDocumentPrinter::submit -> completed for a
//       200 KB PDF on ippeveprinter (tests/support, loopback, a print command
//       that keeps the file): Get-Printer-Attributes (formats, state),
//       Print-Job, Get-Job-Attributes every 250 ms until completed, on the
//       real worker thread and event loop
//       baseline: ipptool (cups-ipp-utils) doing the same print of the same
//       file on the same printer: Print-Job, then Get-Job-Attributes repeated
//       every 250 ms until the job is completed (doc_print_ipptool_ms)
// Prints a table and writes [{"name","value","unit","baseline","ratio"}] to
// $FLOORLINK_BENCH_OUT/documents.json (current directory when unset).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "bench/bench_util.h"
#include "config/loader.h"
#include "printers/ipp_document_printer.h"
#include "tests/support/child_process.h"
#include "tests/support/ippeve_printer.h"
#include "tests/support/mosquitto_broker.h"

using namespace floorlink;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kBench = "bench_documents";

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The same polling as IppDocumentPrinter's default (250 ms).
constexpr const char* kIpptoolTest = R"({
  NAME "Print-Job"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
  ATTR mimeMediaType document-format application/pdf
  GROUP job-attributes-tag
  ATTR integer copies 1
  FILE $filename
  STATUS successful-ok
  EXPECT job-id
}
{
  NAME "Wait for completed"
  OPERATION Get-Job-Attributes
  DELAY "0,0.25"
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job-id
  ATTR name requesting-user-name $user
  STATUS successful-ok
  EXPECT job-state WITH-VALUE 9 REPEAT-NO-MATCH
}
)";

}  // namespace

int main() {
  int runs = 40;
  if (const char* r = std::getenv("FLOORLINK_BENCH_DOC_RUNS")) runs = std::max(5, std::atoi(r));
  auto eve = testing::IppEvePrinter::start();
  if (!eve) bench::die(kBench, eve.error().message);
  std::string pdf = testing::makeTestPdf("bench packing slip", 200 * 1024);

  // floorlink: the printer as the agent makes it, from the configuration.
  auto config = config::loadString("[agent]\nsite = \"dc1\"\nid = \"pc7\"\n[[devices]]\nid = \"docs1\"\n"
                                   "kind = \"docprinter\"\naddress = \"" + (*eve)->uri() + "\"\n",
                                   "bench.toml");
  if (!config) bench::die(kBench, config.error().message);
  auto loop = EventLoop::create();
  if (!loop) bench::die(kBench, loop.error().message);
  auto printer = printers::IppDocumentPrinter::create(**loop, config->devices.front());
  if (!printer) bench::die(kBench, printer.error().message);
  if (auto s = (*printer)->start({}); !s) bench::die(kBench, s.error().message);
  std::vector<double> ours;
  for (int i = -2; i < runs; ++i) {  // two warm-up prints
    std::optional<printers::DocumentResult> result;
    auto t0 = Clock::now();
    auto s = (*printer)->submit({.docId = "bench-" + std::to_string(i), .bytes = pdf},
                                {.onDone = [&](const printers::DocumentResult& r) { result = r; }});
    if (!s) bench::die(kBench, s.error().message);
    while (!result) (void)(*loop)->runFor(std::chrono::milliseconds(1));
    if (result->outcome != printers::DocumentOutcome::kCompleted) bench::die(kBench, "not completed: " + result->reason);
    if (i >= 0) ours.push_back(msSince(t0));
  }
  (*printer)->stop();

  // Baseline: ipptool, the same print of the same file.
  auto dir = testing::makeTempDir("floorlink-bench-docs");
  if (!dir) bench::die(kBench, dir.error().message);
  std::string file = *dir + "/slip.pdf", test = *dir + "/print.test";
  if (!testing::writeTextFile(file, pdf) || !testing::writeTextFile(test, kIpptoolTest)) {
    bench::die(kBench, "cannot write " + *dir);
  }
  std::string command = "/usr/bin/ipptool -q -f " + file + " " + (*eve)->uri() + " " + test;
  std::vector<double> ipptool;
  for (int i = -2; i < runs; ++i) {
    auto t0 = Clock::now();
    if (testing::runCommand(command) != 0) bench::die(kBench, "ipptool failed: " + command);
    if (i >= 0) ipptool.push_back(msSince(t0));
  }
  std::error_code ec;
  std::filesystem::remove_all(*dir, ec);

  bench::writeFigures(kBench,
                      {{"doc_print_ms_p50", bench::percentile(ours, 0.5), "ms", bench::percentile(ipptool, 0.5)},
                       {"doc_print_ms_p99", bench::percentile(ours, 0.99), "ms", bench::percentile(ipptool, 0.99)}},
                      "documents.json");
  return 0;
}
