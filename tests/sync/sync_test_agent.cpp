// sync_test_agent: a minimal agent process for the crash tests: the real
// SQLite task store (agent/store) behind a Sync, nothing else. The test
// SIGKILLs it mid-drain and starts it again on the same database.
//   sync_test_agent --url tcp://127.0.0.1:PORT --db /tmp/x/floorlink.db [--events N]
// SIGTERM: clean shutdown (online:false, DISCONNECT), exit 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/port/oms_port.h"
#include "agent/store/task_store.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "sync/sync.h"

namespace fl = floorlink;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::string url, db;
  int events = 0;
  int ackTimeoutS = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--url") url = argv[i + 1];
    else if (a == "--db") db = argv[i + 1];
    else if (a == "--events") events = std::atoi(argv[i + 1]);
    else if (a == "--ack-timeout") ackTimeoutS = std::atoi(argv[i + 1]);
  }
  if (url.empty() || db.empty()) {
    std::fprintf(stderr, "usage: sync_test_agent --url URL --db FILE [--events N] [--ack-timeout S]\n");
    return 2;
  }
  auto loop = fl::EventLoop::create();
  if (!loop) return 3;
  bool stopping = false;
  std::unique_ptr<fl::sync::Sync> sync;
  (void)(*loop)->watchSignal(SIGTERM, [&] {
    stopping = true;
    if (sync) sync->stop();
    (*loop)->stop();
  });
  fl::SystemClock clock;
  fl::agent::StoreOptions so;
  so.path = db;
  so.site = "dc1";
  so.agentId = "pc7";
  auto store = fl::agent::TaskStore::open(so, clock);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().describe().c_str());
    return 3;
  }
  fl::config::Config cfg;
  cfg.agent.site = "dc1";
  cfg.agent.id = "pc7";
  cfg.mqtt.url = url;
  cfg.mqtt.keepalive = 2s;
  cfg.mqtt.connectTimeout = 3s;
  cfg.mqtt.backoffMin = 100ms;
  cfg.mqtt.backoffMax = 800ms;
  cfg.mqtt.ackTimeout = std::chrono::seconds(ackTimeoutS);
  cfg.mqtt.inflight = 16;
  fl::agent::OmsPort port(**store);
  auto s = fl::sync::Sync::create(**loop, cfg, port, fl::Logger());
  if (!s) {
    std::fprintf(stderr, "sync: %s\n", s.error().describe().c_str());
    return 3;
  }
  sync = std::move(*s);
  (*store)->setCommitListener([&](const fl::agent::CommitNotice&) {
    if (sync) sync->notifyNewEvents();
  });
  (void)sync->start();
  // Produce events while syncing, 20 per 5 ms, as a busy agent commits them.
  int produced = 0;
  (*loop)->addTimer(5ms, [&] {
    if (produced >= events) return;
    auto tx = (*store)->begin();
    if (!tx) return;
    for (int i = 0; i < 20 && produced < events; ++i) {
      fl::sync::EventDraft d;
      d.type = "task.started";
      d.occurredAt = clock.nowMs();
      d.dataJson = R"({"operator":"op)" + std::to_string(produced % 7) + "\"}";
      if (!tx->appendEvent(d)) return;
      ++produced;
    }
    (void)tx->commit();
  }, 5ms);
  auto r = (*loop)->run();
  sync.reset();
  return r && stopping ? 0 : 4;
}
