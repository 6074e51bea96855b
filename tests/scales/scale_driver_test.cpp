// The scale drivers over a FakeTransport with an emulated scale behind it:
// motion then settle, overload, negative gross, garbage, silence, unplug and
// replug, zero and tare, live readings, and option validation.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/scales/fake_transport.h"
#include "tests/scales/tcp_scale_server.h"
#include "tests/scales/scale_test_support.h"

namespace floorlink::testing {
namespace {

using drivers::DeviceState;
using drivers::Scale;
using std::chrono::milliseconds;

struct Rig {
  std::unique_ptr<EventLoop> loop = EventLoop::create().value();
  FakeTransport* transport = nullptr;
  std::unique_ptr<Scale> scale;
  StatusLog statuses;

  Rig(const std::string& protocol, ScaleEmulator* emulator, std::map<std::string, std::string> options = {},
      config::AddressScheme scheme = config::AddressScheme::kSerial) {
    options.try_emplace("poll_interval_ms", "10");
    options.try_emplace("answer_timeout_ms", "100");
    if (protocol == "hid-pos") options.erase("poll_interval_ms"), options.erase("answer_timeout_ms");
    auto t = std::make_unique<FakeTransport>(*loop, emulator);
    transport = t.get();
    auto created = drivers::createScale(*loop, scaleConfig(protocol, options, scheme), std::move(t));
    EXPECT_TRUE(created.has_value()) << created.error().describe();
    scale = std::move(*created);
    scale->setStatusCallback(statuses.callback());
    scale->start();
  }

  Result<drivers::Weight> weigh() {
    WeighResult w;
    scale->weigh(w.callback());
    EXPECT_TRUE(runUntil(*loop, [&] { return w.result.has_value(); }));
    return w.result.value_or(fail(ErrorCode::kInternal, "weigh never answered"));
  }
  Status command(void (Scale::*fn)(Scale::CommandCallback)) {
    CommandResult c;
    (scale.get()->*fn)(c.callback());
    EXPECT_TRUE(runUntil(*loop, [&] { return c.result.has_value(); }));
    return c.result.value_or(fail(ErrorCode::kInternal, "command never answered"));
  }
  void after(milliseconds delay, std::function<void()> fn) { loop->addTimer(delay, std::move(fn)); }
};

// ---------------------------------------------------------------- MT-SICS

TEST(MtSicsScale, MotionThenSettleGivesTheStableWeight) {
  MtSicsEmulator emu;
  emu.state.grams = 1234;
  emu.state.motion = true;
  Rig rig("mt-sics", &emu, {{"stable_readings", "3"}});
  rig.after(milliseconds{150}, [&] { emu.state.motion = false; });
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 1234);
  EXPECT_GE(w->readings, 3);
  EXPECT_FALSE(w->net);
  EXPECT_EQ(rig.scale->status().state, DeviceState::kOk);
  // The startup reset and the immediate-weight polls went out.
  EXPECT_TRUE(rig.transport->written.starts_with("@\r\n"));
  EXPECT_NE(rig.transport->written.find("SI\r\n"), std::string::npos);
}

TEST(MtSicsScale, ChangingWeightIsNotAcceptedUntilItHolds) {
  MtSicsEmulator emu;
  emu.state.grams = 100;
  Rig rig("mt-sics", &emu, {{"stable_readings", "4"}});
  // The packer keeps adding items: the weight is stable but never the same for long.
  rig.loop->addTimer(
      milliseconds{15}, [&] { if (emu.state.grams < 160) emu.state.grams += 10; }, milliseconds{15});
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 160);
}

TEST(MtSicsScale, OverloadIsRejected) {
  MtSicsEmulator emu;
  emu.state.overload = true;
  Rig rig("mt-sics", &emu);
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kFault);
  EXPECT_NE(w.error().message.find("over capacity"), std::string::npos) << w.error().message;
}

TEST(MtSicsScale, UnderloadAndNegativeGrossAreRejected) {
  MtSicsEmulator emu;
  emu.state.underload = true;
  Rig rig("mt-sics", &emu);
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("under zero"), std::string::npos) << w.error().message;
  emu.state.underload = false;
  emu.state.grams = -35;
  ASSERT_TRUE(runUntil(*rig.loop, [&] {
    auto* r = rig.scale->lastReading();
    return r != nullptr && r->weightKnown && r->grams == -35;
  }));
  auto n = rig.weigh();
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code, ErrorCode::kFault);
  EXPECT_NE(n.error().message.find("negative weight (-35 g)"), std::string::npos) << n.error().message;
}

TEST(MtSicsScale, NeverSettlingTimesOutWithTheReason) {
  MtSicsEmulator emu;
  emu.state.grams = 2500;
  emu.state.motion = true;
  Rig rig("mt-sics", &emu, {{"timeout_ms", "300"}});
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kTimeout);
  EXPECT_NE(w.error().message.find("no stable weight within 300 ms"), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find("still moving (last 2500 g)"), std::string::npos) << w.error().message;
}

TEST(MtSicsScale, EmptyPlatterIsNotAWeight) {
  MtSicsEmulator emu;
  emu.state.grams = 0;
  Rig rig("mt-sics", &emu, {{"timeout_ms", "300"}});
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("nothing on the scale"), std::string::npos) << w.error().message;
}

TEST(MtSicsScale, GarbageGoesToFaultWithAHint) {
  MtSicsEmulator emu;
  emu.state.grams = 500;
  emu.state.garbage = true;
  Rig rig("mt-sics", &emu, {{"timeout_ms", "400"}});
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(rig.scale->status().state, DeviceState::kFault);
  EXPECT_NE(rig.scale->status().detail.find("data we cannot read"), std::string::npos) << rig.scale->status().detail;
  EXPECT_NE(rig.scale->status().detail.find("mt-sics"), std::string::npos);
  EXPECT_NE(w.error().message.find("scale fault"), std::string::npos) << w.error().message;
  // The scale recovers as soon as it talks sense again.
  emu.state.garbage = false;
  auto ok = rig.weigh();
  ASSERT_TRUE(ok.has_value()) << ok.error().describe();
  EXPECT_EQ(ok->grams, 500);
  EXPECT_EQ(rig.scale->status().state, DeviceState::kOk);
}

TEST(MtSicsScale, SilenceIsAFault) {
  MtSicsEmulator emu;
  emu.state.grams = 500;
  Rig rig("mt-sics", &emu, {{"timeout_ms", "1000"}});
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kOk; }));
  emu.state.silent = true;
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kFault; }));
  EXPECT_NE(rig.scale->status().detail.find("no answer from the scale"), std::string::npos)
      << rig.scale->status().detail;
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kTimeout);
  EXPECT_NE(w.error().message.find("no answer from the scale"), std::string::npos) << w.error().message;
}

TEST(MtSicsScale, UnplugFailsPendingWorkAndReplugRecovers) {
  MtSicsEmulator emu;
  emu.state.grams = 800;
  emu.state.motion = true;
  Rig rig("mt-sics", &emu);
  WeighResult pending;
  rig.scale->weigh(pending.callback());
  rig.loop->runFor(milliseconds{50});
  rig.transport->unplug("device removed");
  ASSERT_TRUE(pending.result.has_value());
  ASSERT_FALSE(pending.result->has_value());
  EXPECT_EQ(pending.result->error().code, ErrorCode::kDisconnected);
  EXPECT_EQ(rig.scale->status().state, DeviceState::kOffline);
  EXPECT_NE(rig.scale->status().detail.find("disconnected (device removed)"), std::string::npos);
  // While unplugged, weigh fails at once.
  auto offline = rig.weigh();
  ASSERT_FALSE(offline.has_value());
  EXPECT_EQ(offline.error().code, ErrorCode::kDisconnected);
  // Reopen attempts fail with the reason, then succeed after the replug.
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.transport->opens >= 2; }));
  EXPECT_NE(rig.scale->status().detail.find("cannot open fake:scale: no such device"), std::string::npos)
      << rig.scale->status().detail;
  rig.transport->replug();
  emu.state.motion = false;
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kOk; }));
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 800);
  EXPECT_TRUE(rig.statuses.sawState(DeviceState::kOffline));
}

TEST(MtSicsScale, ZeroTareAndClearTare) {
  MtSicsEmulator emu;
  emu.state.grams = 0;
  Rig rig("mt-sics", &emu);
  emu.state.grams = 3;  // drift
  ASSERT_TRUE(rig.command(&Scale::zero).has_value());
  EXPECT_EQ(emu.state.zeroCount, 1);
  emu.state.grams = 250;  // the empty box
  ASSERT_TRUE(rig.command(&Scale::tare).has_value());
  emu.state.grams = 1250;
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 1000);
  EXPECT_TRUE(w->net);
  ASSERT_TRUE(rig.command(&Scale::clearTare).has_value());
  auto gross = rig.weigh();
  ASSERT_TRUE(gross.has_value());
  EXPECT_EQ(gross->grams, 1250);
  EXPECT_FALSE(gross->net);
  EXPECT_NE(rig.transport->written.find("Z\r\n"), std::string::npos);
  EXPECT_NE(rig.transport->written.find("T\r\n"), std::string::npos);
  EXPECT_NE(rig.transport->written.find("TAC\r\n"), std::string::npos);
}

TEST(MtSicsScale, ZeroRefusedSaysWhy) {
  MtSicsEmulator emu;
  emu.state.zeroBlocked = true;
  Rig rig("mt-sics", &emu);
  auto z = rig.command(&Scale::zero);
  ASSERT_FALSE(z.has_value());
  EXPECT_EQ(z.error().code, ErrorCode::kBusy);
  EXPECT_NE(z.error().message.find("could not zero"), std::string::npos) << z.error().message;
}

TEST(MtSicsScale, UnansweredZeroTimesOut) {
  MtSicsEmulator emu;
  Rig rig("mt-sics", &emu, {{"timeout_ms", "300"}});
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kOk; }));
  emu.state.silent = true;
  auto z = rig.command(&Scale::zero);
  ASSERT_FALSE(z.has_value());
  EXPECT_EQ(z.error().code, ErrorCode::kTimeout);
  EXPECT_NE(z.error().message.find("did not answer the zero command within 300 ms"), std::string::npos)
      << z.error().message;
}

TEST(MtSicsScale, LiveReadingsReachWatchers) {
  MtSicsEmulator emu;
  emu.state.grams = 42;
  emu.state.motion = true;
  Rig rig("mt-sics", &emu);
  std::vector<drivers::Reading> seen;
  auto id = rig.scale->watchReadings([&](const drivers::Reading& r) { seen.push_back(r); });
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return seen.size() >= 3; }));
  EXPECT_EQ(seen.back().grams, 42);
  EXPECT_EQ(seen.back().status, drivers::WeightStatus::kMotion);
  EXPECT_EQ(seen.back().displayed, "42.00 g");
  EXPECT_EQ(seen.back().describe(), "42 g (42.00 g) motion");
  ASSERT_NE(rig.scale->lastReading(), nullptr);
  rig.scale->unwatchReadings(id);
  size_t count = seen.size();
  rig.loop->runFor(milliseconds{60});
  EXPECT_EQ(seen.size(), count);
}

TEST(MtSicsScale, DestroyingTheScaleInsideACallbackIsSafe) {
  MtSicsEmulator emu;
  emu.state.grams = 10;
  Rig rig("mt-sics", &emu);
  bool called = false;
  rig.scale->weigh([&](Result<drivers::Weight>) {
    called = true;
    rig.scale.reset();
  });
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return called; }));
  rig.loop->runFor(milliseconds{50});  // timers of the dead scale must not fire
}

TEST(MtSicsScale, StopCancelsPendingWork) {
  MtSicsEmulator emu;
  emu.state.motion = true;
  Rig rig("mt-sics", &emu);
  WeighResult w;
  rig.scale->weigh(w.callback());
  rig.scale->stop();
  ASSERT_TRUE(w.result.has_value());
  EXPECT_EQ(w.result->error().code, ErrorCode::kCancelled);
  EXPECT_EQ(rig.scale->status().detail, "stopped");
}

TEST(MtSicsScale, WindowModeAndConcurrentWeighs) {
  MtSicsEmulator emu;
  emu.state.grams = 640;
  emu.state.motion = true;
  Rig rig("mt-sics", &emu, {{"stable_window_ms", "100"}});
  WeighResult a, b;
  rig.scale->weigh(a.callback());
  rig.scale->weigh(b.callback());
  rig.after(milliseconds{50}, [&] { emu.state.motion = false; });
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return a.result.has_value() && b.result.has_value(); }));
  ASSERT_TRUE(a.result->has_value()) << a.result->error().describe();
  ASSERT_TRUE(b.result->has_value());
  EXPECT_EQ((*a.result)->grams, 640);
  EXPECT_EQ((*b.result)->grams, 640);
  EXPECT_GE((*a.result)->stableFor, milliseconds{100});
}

// ---------------------------------------------------------------- Toledo 8217

TEST(Toledo8217Scale, MotionThenSettleInKilograms) {
  Toledo8217Emulator emu;
  emu.state.grams = 1234;
  emu.state.motion = true;
  Rig rig("toledo-8217", &emu);
  rig.after(milliseconds{100}, [&] { emu.state.motion = false; });
  std::vector<drivers::Reading> seen;
  rig.scale->watchReadings([&](const drivers::Reading& r) { seen.push_back(r); });
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 1234);
  EXPECT_EQ(w->unit, drivers::WeightUnit::kKilogram);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().status, drivers::WeightStatus::kMotion);
  EXPECT_FALSE(seen.front().weightKnown);
  EXPECT_NE(rig.transport->written.find('W'), std::string::npos);
}

TEST(Toledo8217Scale, OverloadAndUnderZeroStatusBytesAreRejected) {
  Toledo8217Emulator emu;
  emu.state.overload = true;
  Rig rig("toledo-8217", &emu);
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("over capacity"), std::string::npos);
  emu.state.overload = false;
  emu.state.underload = true;
  ASSERT_TRUE(runUntil(*rig.loop, [&] {
    auto* r = rig.scale->lastReading();
    return r != nullptr && r->status == drivers::WeightStatus::kUnderload;
  }));
  auto u = rig.weigh();
  ASSERT_FALSE(u.has_value());
  EXPECT_NE(u.error().message.find("under zero"), std::string::npos);
}

TEST(Toledo8217Scale, ZeroTareClearWithStatusReplies) {
  Toledo8217Emulator emu;
  emu.state.grams = 2;
  Rig rig("toledo-8217", &emu);
  ASSERT_TRUE(rig.command(&Scale::zero).has_value());
  EXPECT_EQ(emu.state.zeroCount, 1);
  emu.state.grams = 300;
  ASSERT_TRUE(rig.command(&Scale::tare).has_value());
  emu.state.grams = 1300;
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 1000);
  EXPECT_TRUE(w->net);
  ASSERT_TRUE(rig.command(&Scale::clearTare).has_value());
  EXPECT_NE(rig.transport->written.find("T\r"), std::string::npos);
  EXPECT_NE(rig.transport->written.find('C'), std::string::npos);
  emu.state.motion = true;
  auto z = rig.command(&Scale::zero);
  ASSERT_FALSE(z.has_value());
  EXPECT_NE(z.error().message.find("moving"), std::string::npos);
}

TEST(Toledo8217Scale, ALateWeightRecordDoesNotAnswerTheZeroCommand) {
  Rig rig("toledo-8217", nullptr, {{"answer_timeout_ms", "2000"}, {"poll_interval_ms", "10"}});
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.transport->written == "W"; }));  // first poll
  CommandResult z;
  rig.scale->zero(z.callback());
  rig.transport->deliver("\x02" "01.234\r");  // answers the poll
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.transport->written.ends_with("Z"); }));
  rig.transport->deliver("\x02" "01.234\r");  // late duplicate: not the zero's answer
  rig.loop->runFor(milliseconds{30});
  EXPECT_FALSE(z.result.has_value());
  rig.transport->deliver(std::string("\x02?") + Toledo8217Emulator::statusByte(false, false, false, false) + "\r");
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return z.result.has_value(); }));
  EXPECT_TRUE(z.result->has_value()) << z.result->error().describe();
}

TEST(Toledo8217Scale, PoundsAndConfiguredUnits) {
  // A scale in pounds sends two decimals; a unit option overrides.
  Rig rig("toledo-8217", nullptr, {{"unit", "lb"}});
  std::vector<drivers::Reading> seen;
  rig.scale->watchReadings([&](const drivers::Reading& r) { seen.push_back(r); });
  rig.transport->deliver("\x02" "002.50\r");
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return !seen.empty(); }));
  EXPECT_EQ(seen[0].grams, 1134);
}

// ---------------------------------------------------------------- NCI

TEST(NciScale, MotionThenSettle) {
  NciEmulator emu;
  emu.state.grams = 995;
  emu.state.motion = true;
  Rig rig("nci", &emu);
  rig.after(milliseconds{100}, [&] { emu.state.motion = false; });
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 995);
  EXPECT_NE(rig.transport->written.find("W\r"), std::string::npos);
}

TEST(NciScale, ZeroWorksTareIsUnsupported) {
  NciEmulator emu;
  emu.state.grams = 4;
  Rig rig("nci", &emu);
  ASSERT_TRUE(rig.command(&Scale::zero).has_value());
  EXPECT_EQ(emu.state.zeroCount, 1);
  auto t = rig.command(&Scale::tare);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(t.error().message.find("TARE key"), std::string::npos);
  emu.state.zeroBlocked = true;
  emu.state.grams = 300;
  auto z = rig.command(&Scale::zero);
  ASSERT_FALSE(z.has_value());
  EXPECT_NE(z.error().message.find("did not zero"), std::string::npos) << z.error().message;
}

TEST(NciScale, ScaleErrorsBecomeAFaultState) {
  NciEmulator emu;
  emu.state.grams = 300;
  emu.state.ramError = true;
  Rig rig("nci", &emu);
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kFault; }));
  EXPECT_NE(rig.scale->status().detail.find("RAM error"), std::string::npos);
  emu.state.ramError = false;
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kOk; }));
}

TEST(NciScale, OverloadRejected) {
  NciEmulator emu;
  emu.state.overload = true;
  Rig rig("nci", &emu);
  auto w = rig.weigh();
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("over capacity"), std::string::npos);
}

// ---------------------------------------------------------------- HID POS

TEST(HidPosScale, DymoReportStreamSettles) {
  Rig rig("hid-pos", nullptr, {{"quirk", "dymo-m25"}, {"stable_readings", "3"}}, config::AddressScheme::kUsb);
  for (uint16_t g : {100, 180, 203}) rig.transport->deliver(dymoReport(3, g));  // in motion
  for (int i = 0; i < 3; ++i) rig.transport->deliver(dymoReport(4, 205));
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 205);
  auto z = rig.command(&Scale::zero);
  ASSERT_FALSE(z.has_value());
  EXPECT_EQ(z.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(z.error().message.find("press ZERO"), std::string::npos);
}

TEST(HidPosScale, OuncesOverloadAndFaults) {
  Rig rig("hid-pos", nullptr, {{"stable_readings", "2"}}, config::AddressScheme::kUsb);
  for (int i = 0; i < 2; ++i) rig.transport->deliver(dymoReport(4, 6452, true));
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 18291);
  for (int i = 0; i < 2; ++i) rig.transport->deliver(dymoReport(6, 0));
  rig.loop->runFor(milliseconds{20});
  auto over = rig.weigh();
  ASSERT_FALSE(over.has_value());
  EXPECT_NE(over.error().message.find("over capacity"), std::string::npos);
  rig.transport->deliver(dymoReport(8, 0));
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kFault; }));
  EXPECT_NE(rig.scale->status().detail.find("re-zeroing"), std::string::npos);
  rig.transport->deliver(std::string("\x01\x02\x03", 3));
  rig.transport->deliver(std::string("\x01\x02\x03", 3));
  rig.transport->deliver(std::string("\x01\x02\x03", 3));
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().detail.find("cannot read") != std::string::npos; }));
}

TEST(HidPosScale, UnplugFailsTheWeighAndReplugRecovers) {
  Rig rig("hid-pos", nullptr, {{"stable_readings", "2"}}, config::AddressScheme::kUsb);
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.transport->opens == 1; }));
  WeighResult w;
  rig.scale->weigh(w.callback());
  rig.transport->deliver(dymoReport(3, 120));
  rig.loop->runFor(milliseconds{20});
  rig.transport->unplug("LIBUSB_ERROR_NO_DEVICE");
  ASSERT_TRUE(w.result.has_value());
  EXPECT_EQ(w.result->error().code, ErrorCode::kDisconnected);
  EXPECT_NE(rig.scale->status().detail.find("LIBUSB_ERROR_NO_DEVICE"), std::string::npos);
  rig.transport->replug();
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.transport->isOpen(); }));
  rig.loop->runFor(milliseconds{20});
  for (int i = 0; i < 2; ++i) rig.transport->deliver(dymoReport(4, 130));
  auto again = rig.weigh();
  ASSERT_TRUE(again.has_value()) << again.error().describe();
  EXPECT_EQ(again->grams, 130);
}

TEST(LiveReading, OneLinePerReadingWithTheState) {
  drivers::Reading r;
  r.grams = 1234;
  r.displayed = "1.234 kg";
  r.status = drivers::WeightStatus::kStable;
  r.net = true;
  EXPECT_EQ(drivers::formatLiveReading(&r, {DeviceState::kOk, "ok"}), "1234 g (1.234 kg) stable net [ok]");
  r.weightKnown = false;
  r.displayed = "status: motion";
  r.status = drivers::WeightStatus::kMotion;
  r.net = false;
  EXPECT_EQ(drivers::formatLiveReading(&r, {DeviceState::kOk, "ok"}), "no weight (status: motion) motion [ok]");
  EXPECT_EQ(drivers::formatLiveReading(nullptr, {DeviceState::kFault, "no answer from the scale"}),
            "no reading [fault: no answer from the scale]");
}

// ---------------------------------------------------------------- continuous

TEST(ContinuousScale, DefaultPatternStreamSettles) {
  Rig rig("continuous", nullptr, {{"stable_readings", "2"}, {"zero_command", "Z\\r\\n"}});
  rig.transport->deliver("US,GS,+0001.200kg\r\nUS,GS,+0001.2");
  rig.transport->deliver("50kg\r\nST,GS,+0001.250kg\r\nST,GS,+0001.250kg\r\n");
  auto w = rig.weigh();
  ASSERT_TRUE(w.has_value()) << w.error().describe();
  EXPECT_EQ(w->grams, 1250);
  ASSERT_TRUE(rig.command(&Scale::zero).has_value());
  EXPECT_EQ(rig.transport->written, "Z\r\n");
  auto t = rig.command(&Scale::tare);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message.find("tare_command"), std::string::npos);
}

TEST(ContinuousScale, SilenceAndGarbage) {
  Rig rig("continuous", nullptr, {{"silence_ms", "100"}});
  rig.transport->deliver("ST,GS,+0000.100kg\r\n");
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kOk; }));
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return rig.scale->status().state == DeviceState::kFault; }));
  EXPECT_NE(rig.scale->status().detail.find("no data from the scale"), std::string::npos);
  rig.transport->deliver("hello\r\nworld\r\n!!!\r\n");
  ASSERT_TRUE(runUntil(*rig.loop, [&] {
    return rig.scale->status().detail.find("does not match the frame pattern") != std::string::npos;
  }));
  EXPECT_NE(rig.scale->status().detail.find("does not match the frame pattern"), std::string::npos);
}

// ---------------------------------------------------------------- over TCP

TEST(MtSicsScaleOverTcp, RealTransportSettleCutAndReconnect) {
  TcpScaleServer server;
  server.set(2750, true);
  auto loop = EventLoop::create().value();
  auto cfg = scaleConfig("mt-sics", {{"poll_interval_ms", "20"}, {"answer_timeout_ms", "200"}});
  cfg.address = config::parseAddress("tcp://127.0.0.1:" + std::to_string(server.port())).value();
  auto transport = drivers::createTransport(*loop, cfg.address).value();
  auto scale = drivers::createScale(*loop, cfg, std::move(transport)).value();
  scale->start();
  WeighResult w;
  scale->weigh(w.callback());
  loop->addTimer(milliseconds{100}, [&] { server.set(2750, false); });
  ASSERT_TRUE(runUntil(*loop, [&] { return w.result.has_value(); }));
  ASSERT_TRUE(w.result->has_value()) << w.result->error().describe();
  EXPECT_EQ((*w.result)->grams, 2750);
  EXPECT_EQ(scale->describe(), "mt-sics over tcp://127.0.0.1:" + std::to_string(server.port()));
  server.dropConnection();
  ASSERT_TRUE(runUntil(*loop, [&] { return scale->status().state == DeviceState::kOffline; }));
  EXPECT_NE(scale->status().detail.find("disconnected"), std::string::npos) << scale->status().detail;
  ASSERT_TRUE(runUntil(*loop, [&] { return scale->status().state == DeviceState::kOk; }));  // reconnected
  server.set(3100, false);
  WeighResult again;
  scale->weigh(again.callback());
  ASSERT_TRUE(runUntil(*loop, [&] { return again.result.has_value() && again.result->has_value() &&
                                           (*again.result)->grams == 3100; }))
      << (again.result && !again.result->has_value() ? again.result->error().describe() : "");
}

// ---------------------------------------------------------------- factory

std::string createError(const std::string& protocol, std::map<std::string, std::string> options,
                        config::DeviceKind kind = config::DeviceKind::kScale) {
  auto loop = EventLoop::create().value();
  auto d = scaleConfig(protocol, std::move(options));
  d.kind = kind;
  auto s = drivers::createScale(*loop, d, std::make_unique<FakeTransport>(*loop));
  if (s.has_value()) return "";
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  return s.error().message;
}

TEST(ScaleFactory, ValidatesOptionsAndQuotesTheirOrigin) {
  EXPECT_EQ(createError("mt-sics", {{"stable_readings", "5"}, {"timeout_ms", "8000"}}), "");
  EXPECT_NE(createError("sartorius", {}).find("devices[2].protocol: scale protocol \"sartorius\" is unknown"),
            std::string::npos);
  EXPECT_EQ(createError("mt-sics", {{"stable_readings", "many"}}),
            "floorlink.toml:41: devices[2].options.stable_readings: must be a whole number from 1 to 100, got \"many\"");
  EXPECT_NE(createError("mt-sics", {{"timeout_ms", "10"}}).find("devices[2].options.timeout_ms"), std::string::npos);
  EXPECT_NE(createError("mt-sics", {{"stable_readings", "3"}, {"stable_window_ms", "500"}}).find("not both"),
            std::string::npos);
  EXPECT_NE(createError("mt-sics", {{"quirk", "dymo-m25"}}).find("unknown option for a mt-sics scale"),
            std::string::npos);
  EXPECT_NE(createError("hid-pos", {{"quirk", "acme"}}).find("known: standard, dymo-m10"), std::string::npos);
  EXPECT_NE(createError("continuous", {{"frame_pattern", "(?<weight>\\d+ (?<unit>g)"}}).find(
                "devices[2].options.frame_pattern: frame pattern is not a valid regular expression"),
            std::string::npos);
  EXPECT_NE(createError("continuous", {{"frame_pattern", "(?<weight>\\d+)"}}).find("set the device option unit"),
            std::string::npos);
  EXPECT_NE(createError("continuous", {{"zero_command", "\\q"}}).find("unknown escape"), std::string::npos);
  EXPECT_NE(createError("toledo-8217", {{"unit", "stone"}}).find("devices[2].options.unit: unit \"stone\""),
            std::string::npos);
  EXPECT_NE(createError("mt-sics", {}, config::DeviceKind::kPrinter).find("not a scale"), std::string::npos);
  EXPECT_NE(createError("mt-sics", {{"answer_timeout_ms", "9000"}}).find("must not exceed timeout_ms"),
            std::string::npos);
}

TEST(ScaleFactory, HidQuirkFollowsTheUsbIds) {
  auto loop = EventLoop::create().value();
  auto d = scaleConfig("hid-pos", {}, config::AddressScheme::kUsb);
  d.address.vendorId = 0x0922;
  d.address.productId = 0x8004;
  auto t = std::make_unique<FakeTransport>(*loop);
  auto s = drivers::createScale(*loop, d, std::move(t));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)->describe(), "hid-pos over fake:scale");
  EXPECT_EQ((*s)->id(), "scale1");
}

TEST(ScaleFactory, OpenFailureIsAStateNotAnError) {
  auto loop = EventLoop::create().value();
  auto t = std::make_unique<FakeTransport>(*loop);
  t->openError = "cannot open /dev/ttyUSB0: no such file or directory";
  FakeTransport* raw = t.get();
  auto s = drivers::createScale(*loop, scaleConfig("nci", {}), std::move(t)).value();
  s->start();
  EXPECT_EQ(s->status().state, DeviceState::kOffline);
  EXPECT_NE(s->status().detail.find("no such file or directory"), std::string::npos);
  ASSERT_TRUE(runUntil(*loop, [&] { return raw->opens >= 3; }));  // retried with backoff
}

}  // namespace
}  // namespace floorlink::testing
