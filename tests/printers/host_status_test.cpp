#include <gtest/gtest.h>

#include "printers/host_status.h"

namespace floorlink::printers {
namespace {

const std::string kIdle =
    "\x02" "030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n"
    "\x02" "001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n"
    "\x02" "1234,0\x03\r\n";

TEST(HostStatus, ParsesAllThreeStrings) {
  std::string reply =
      "\x02" "014,1,1,0812,003,1,0,1,000,1,0,1\x03\r\n"
      "\x02" "001,0,1,1,1,1,6,1,00000042,1,005\x03\r\n"
      "\x02" "0001,1\x03\r\n";
  auto s = parseHostStatus(reply);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->interfaceSettings, 14);
  EXPECT_TRUE(s->paperOut);
  EXPECT_TRUE(s->paused);
  EXPECT_EQ(s->labelLengthDots, 812);
  EXPECT_EQ(s->formatsInBuffer, 3);
  EXPECT_TRUE(s->bufferFull);
  EXPECT_FALSE(s->diagnosticMode);
  EXPECT_TRUE(s->partialFormat);
  EXPECT_TRUE(s->corruptRam);
  EXPECT_FALSE(s->underTemperature);
  EXPECT_TRUE(s->overTemperature);
  EXPECT_TRUE(s->headOpen);
  EXPECT_TRUE(s->ribbonOut);
  EXPECT_TRUE(s->thermalTransfer);
  EXPECT_EQ(s->printMode, 1);
  EXPECT_TRUE(s->labelWaiting);
  EXPECT_EQ(s->labelsRemaining, 42);
  EXPECT_EQ(s->graphicsStored, 5);
  EXPECT_EQ(s->password, 1);
  EXPECT_TRUE(s->staticRam);
  EXPECT_FALSE(s->idle());
  auto f = s->faults();
  for (auto w : {"paper out", "head open", "ribbon out", "paused", "buffer full", "over temperature"})
    EXPECT_NE(f.find(w), std::string::npos) << w;
}

TEST(HostStatus, ReplyIsByteExactAndRoundTrips) {
  HostStatus s;
  s.interfaceSettings = 30;
  s.labelLengthDots = 1218;
  s.functionSettings = 1;
  s.thermalTransfer = true;
  s.printMode = 2;
  s.printWidthMode = 6;
  s.password = 1234;
  EXPECT_EQ(s.reply(), kIdle);
  auto back = parseHostStatus(kIdle);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->idle());
  EXPECT_EQ(back->faults(), "");
  EXPECT_EQ(back->reply(), kIdle);
}

TEST(HostStatus, RejectsMalformedReplies) {
  EXPECT_FALSE(parseHostStatus(""));
  EXPECT_FALSE(parseHostStatus(kIdle.substr(0, kIdle.size() - 12)));  // third string cut off
  std::string bad = kIdle;
  bad[3] = 'x';
  EXPECT_FALSE(parseHostStatus(bad));
  std::string flag2 = kIdle;
  flag2[5] = '2';  // paper out flag must be 0/1
  auto r = parseHostStatus(flag2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
  EXPECT_FALSE(parseHostStatus("\x02" "1,2\x03\x02" "3\x03\x02" "4\x03"));
}

TEST(HostIdentification, ParsesModelFirmwareAndResolution) {
  auto id = parseHostIdentification("\x02ZT410-300dpi,V75.20.01Z,12,8192KB\x03\r\n");
  ASSERT_TRUE(id) << id.error().describe();
  EXPECT_EQ(id->model, "ZT410-300dpi");
  EXPECT_EQ(id->firmware, "V75.20.01Z");
  EXPECT_EQ(id->dotsPerMm, 12);
  EXPECT_EQ(id->reply(), "\x02ZT410-300dpi,V75.20.01Z,12,8192KB\x03\r\n");
  EXPECT_FALSE(parseHostIdentification("\x02ZT410,V1,7,8192KB\x03\r\n"));
  EXPECT_FALSE(parseHostIdentification("ZT410,V1,8,8192KB"));
}

TEST(ExtendedStatus, ParsesErrorFlags) {
  ExtendedStatus e;
  e.error = true;
  e.errorFlags = 0x5;
  auto parsed = parseExtendedStatus(e.reply());
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_TRUE(parsed->error);
  EXPECT_EQ(parsed->errorFlags, 0x5u);
  EXPECT_EQ(parsed->faults(), "media out, head open");
  EXPECT_FALSE(parseExtendedStatus("\x02PRINTER STATUS\r\nERRORS: 1 x\r\n\x03"));
}

TEST(FrameScan, CountsCompleteFramesOnly) {
  EXPECT_EQ(scanFrames(kIdle).frames, 3);
  EXPECT_EQ(scanFrames(kIdle).bytes, kIdle.size());
  EXPECT_EQ(scanFrames(kIdle.substr(0, 40)).frames, 1);
}

}  // namespace
}  // namespace floorlink::printers
