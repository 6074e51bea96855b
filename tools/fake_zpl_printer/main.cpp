// floorlink-fake-printer: a ZPL printer on 127.0.0.1 for demos and manual
// tests. Labels it receives are written to --journal-dir (one .zpl each);
// faults can be set at start and toggled with signals:
//   SIGUSR1 toggles paper out, SIGUSR2 toggles head open (no ~HS reply).
#include <CLI/CLI.hpp>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "printers/label_template.h"
#include "printers/testing/fake_zpl_printer.h"

namespace {
std::atomic<bool> gStop{false};
std::atomic<int> gPaperToggles{0};
std::atomic<int> gHeadToggles{0};
extern "C" void onStop(int) { gStop = true; }
extern "C" void onUsr1(int) { ++gPaperToggles; }
extern "C" void onUsr2(int) { ++gHeadToggles; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floorlink-fake-printer: a fake Zebra ZPL printer on loopback TCP"};
  floorlink::printers::FakeZplPrinter::Options options;
  options.port = 9100;
  int dpi = 203;
  bool paperOut = false, headOpen = false, paused = false, verbose = false;
  std::string journalDir;
  app.add_option("--port", options.port, "TCP port on 127.0.0.1 (0: any free port)")->capture_default_str();
  app.add_option("--dpi", dpi, "printhead resolution: 152, 203, 300 or 600")->capture_default_str();
  app.add_option("--model", options.model, "model reported by ~HI")->capture_default_str();
  app.add_option("--journal-dir", journalDir, "write every received label to DIR/label-N.zpl");
  app.add_flag("--paper-out", paperOut, "start with paper out");
  app.add_flag("--head-open", headOpen, "start with the head open (~HS goes unanswered)");
  app.add_flag("--paused", paused, "start paused");
  app.add_flag("-v,--verbose", verbose, "log traffic to stderr");
  CLI11_PARSE(app, argc, argv);
  options.dotsPerMm = floorlink::printers::dpiToDotsPerMm(dpi);
  if (options.dotsPerMm == 0) {
    std::fprintf(stderr, "floorlink-fake-printer: --dpi must be 152, 203, 300 or 600\n");
    return 2;
  }
  options.logTraffic = verbose;
  if (!journalDir.empty()) std::filesystem::create_directories(journalDir);

  auto printer = floorlink::printers::FakeZplPrinter::start(options);
  if (!printer) {
    std::fprintf(stderr, "floorlink-fake-printer: %s\n", printer.error().describe().c_str());
    return 1;
  }
  auto& p = **printer;
  p.setPaperOut(paperOut);
  p.setHeadOpen(headOpen);
  p.setPaused(paused);
  auto handle = [](int signo, void (*fn)(int)) {
    struct sigaction sa {};
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    ::sigaction(signo, &sa, nullptr);
  };
  handle(SIGINT, onStop);
  handle(SIGTERM, onStop);
  handle(SIGUSR1, onUsr1);
  handle(SIGUSR2, onUsr2);
  std::printf("fake ZPL printer on %s (%d dpi, %s)\n", p.address().c_str(), dpi, options.model.c_str());
  std::fflush(stdout);

  size_t written = 0;
  int paperSeen = 0, headSeen = 0;
  while (!gStop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (gPaperToggles != paperSeen) {
      paperSeen = gPaperToggles;
      paperOut = !paperOut;
      p.setPaperOut(paperOut);
      std::printf("paper out: %s\n", paperOut ? "yes" : "no");
    }
    if (gHeadToggles != headSeen) {
      headSeen = gHeadToggles;
      headOpen = !headOpen;
      p.setHeadOpen(headOpen);
      std::printf("head open: %s\n", headOpen ? "yes" : "no");
    }
    auto formats = p.formats();
    for (; written < formats.size(); ++written) {
      std::printf("label %zu received (%zu bytes)\n", written + 1, formats[written].size());
      if (!journalDir.empty()) {
        // Written aside and renamed, so a reader never sees half a label.
        auto path = std::filesystem::path(journalDir) / ("label-" + std::to_string(written + 1) + ".zpl");
        auto tmp = path;
        tmp += ".tmp";
        {
          std::ofstream out(tmp, std::ios::binary);
          out << formats[written];
        }
        std::error_code ec;
        std::filesystem::rename(tmp, path, ec);
      }
    }
    std::fflush(stdout);
  }
  std::printf("stopping: %zu format(s) received, %d label(s) printed\n", p.formats().size(), p.labelsPrinted());
  return 0;
}
