#include "drivers/scan.h"

#include <gtest/gtest.h>

#include <cstring>

namespace floorlink::drivers {
namespace {

FramingOptions framing(FrameSuffix suffix, std::string prefix = "", size_t fixedLength = 0, int idleMs = 0,
                       size_t maxFrame = 4096) {
  FramingOptions o;
  o.suffix = suffix;
  o.prefix = std::move(prefix);
  o.fixedLength = fixedLength;
  o.idleTimeout = std::chrono::milliseconds(idleMs);
  o.maxFrame = maxFrame;
  return o;
}

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<std::string> frames(ScanFramer& f, std::string_view in, std::vector<std::string>* errors = nullptr) {
  std::vector<Result<std::string>> out;
  f.feed(bytes(in), out);
  std::vector<std::string> ok;
  for (auto& r : out) {
    if (r) ok.push_back(*r);
    else if (errors) errors->push_back(r.error().message);
  }
  return ok;
}

TEST(AimIdentifier, KnownSymbologies) {
  EXPECT_EQ(parseAimIdentifier("]C1010950").symbology, Symbology::kGs1_128);
  EXPECT_TRUE(parseAimIdentifier("]C1").gs1);
  EXPECT_EQ(parseAimIdentifier("]C0ABC").symbology, Symbology::kCode128);
  EXPECT_FALSE(parseAimIdentifier("]C0ABC").gs1);
  EXPECT_EQ(parseAimIdentifier("]E04006381333931").symbology, Symbology::kEan13);
  EXPECT_EQ(parseAimIdentifier("]E495012346").symbology, Symbology::kEan8);
  EXPECT_EQ(parseAimIdentifier("]d2010950").symbology, Symbology::kGs1DataMatrix);
  EXPECT_EQ(parseAimIdentifier("]d1ABC").symbology, Symbology::kDataMatrix);
  EXPECT_EQ(parseAimIdentifier("]Q3010950").symbology, Symbology::kGs1QrCode);
  EXPECT_EQ(parseAimIdentifier("]Q1hello").symbology, Symbology::kQrCode);
  EXPECT_EQ(parseAimIdentifier("]e0010950").symbology, Symbology::kGs1DataBar);
  EXPECT_EQ(parseAimIdentifier("]A0CODE39").symbology, Symbology::kCode39);
  EXPECT_EQ(parseAimIdentifier("]X0abc").symbology, Symbology::kOther);
  EXPECT_EQ(parseAimIdentifier("]X0abc").id, "]X0");
  EXPECT_EQ(parseAimIdentifier("A-01-02").id, "");
  EXPECT_EQ(parseAimIdentifier("]").id, "");
  EXPECT_EQ(parseAimIdentifier("]1A").id, "");
}

class ClassifierTest : public ::testing::Test {
 protected:
  ScanClassifier classifier = ScanClassifier::create({.binLabelPattern = "^BIN-([A-Z]\\d{2}-\\d{2})$",
                                                      .commandPattern = "^CMD:(.+)$"})
                                  .value();
};

TEST_F(ClassifierTest, Gs1128Sscc) {
  auto v = classifier.classify("]C100106141412345678908");
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_EQ(v->kind, ScanKind::kSscc);
  EXPECT_EQ(v->sscc, "106141412345678908");
  EXPECT_EQ(v->symbology, Symbology::kGs1_128);
  EXPECT_EQ(v->aimId, "]C1");
}

TEST_F(ClassifierTest, Gs1DataMatrixGtinWithLotExpirySerial) {
  auto v = classifier.classify("]d2010950110153000317240200" "10LOT-7\x1d" "21SN0042");
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_EQ(v->kind, ScanKind::kGtin);
  EXPECT_EQ(v->gtin, "09501101530003");
  EXPECT_EQ(v->lot, "LOT-7");
  EXPECT_EQ(v->serial, "SN0042");
  ASSERT_TRUE(v->expiry);
  EXPECT_EQ(*v->expiry, (gs1::Date{2024, 2, 29}));
  ASSERT_TRUE(v->gs1);
  EXPECT_EQ(v->gs1->elements.size(), 4u);
}

TEST_F(ClassifierTest, LeadingGsWithoutAimIsGs1) {
  auto v = classifier.classify("\x1d" "0109501101530003" "3724");
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_EQ(v->kind, ScanKind::kGtin);
  EXPECT_EQ(v->count, 24);
}

TEST_F(ClassifierTest, Gs1WithoutGtinOrSsccIsText) {
  auto v = classifier.classify("]C1400PO-4711");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, ScanKind::kText);
  ASSERT_TRUE(v->gs1);
  EXPECT_EQ(v->gs1->find("400")->value, "PO-4711");
}

TEST_F(ClassifierTest, BadGs1IsAnErrorQuotingTheScan) {
  auto v = classifier.classify("]C10109501101530004");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kParse);
  EXPECT_NE(v.error().message.find("check digit"), std::string::npos);
  EXPECT_NE(v.error().message.find("]C10109501101530004"), std::string::npos);
}

TEST_F(ClassifierTest, EanAndUpc) {
  auto ean13 = classifier.classify("]E04006381333931");
  ASSERT_TRUE(ean13);
  EXPECT_EQ(ean13->kind, ScanKind::kGtin);
  EXPECT_EQ(ean13->gtin, "04006381333931");
  auto ean8 = classifier.classify("]E495012346");
  ASSERT_TRUE(ean8);
  EXPECT_EQ(ean8->gtin, "00000095012346");
  auto plain = classifier.classify("4006381333931");  // no AIM id: digits with a valid check digit
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->kind, ScanKind::kGtin);
  auto bad = classifier.classify("]E04006381333932");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("expected 1"), std::string::npos);
  auto notGtin = classifier.classify("4006381333932");  // no AIM id, bad check digit: just text
  ASSERT_TRUE(notGtin);
  EXPECT_EQ(notGtin->kind, ScanKind::kText);
}

TEST_F(ClassifierTest, BinLabelAndCommand) {
  auto bin = classifier.classify("]C0BIN-A01-02");
  ASSERT_TRUE(bin);
  EXPECT_EQ(bin->kind, ScanKind::kBinLabel);
  EXPECT_EQ(bin->bin, "A01-02");
  auto cmd = classifier.classify("CMD:CLOSE-TOTE");
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->kind, ScanKind::kCommand);
  EXPECT_EQ(cmd->command, "CLOSE-TOTE");
  auto text = classifier.classify("]C0HELLO");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->kind, ScanKind::kText);
  EXPECT_EQ(text->data, "HELLO");
  EXPECT_FALSE(classifier.classify("]C0"));
  EXPECT_FALSE(classifier.classify(""));
}

TEST(ClassifierCreate, BadPatternIsAnError) {
  auto c = ScanClassifier::create({.binLabelPattern = "([A-Z", .commandPattern = ""});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("bin label pattern \"([A-Z\""), std::string::npos);
}

TEST(ScanFramer, CrSuffixSplitAndJoined) {
  ScanFramer f(framing(FrameSuffix::kCr));
  EXPECT_TRUE(frames(f, "]C0AB").empty());
  EXPECT_TRUE(f.hasPartial());
  EXPECT_EQ(frames(f, "C\r]C0X\r]C0Y"), (std::vector<std::string>{"]C0ABC", "]C0X"}));
  EXPECT_EQ(frames(f, "\r"), (std::vector<std::string>{"]C0Y"}));
  EXPECT_EQ(frames(f, "\nZ\r"), (std::vector<std::string>{"Z"}));  // stray LF of CRLF dropped
}

TEST(ScanFramer, CrLfAndLf) {
  ScanFramer crlf(framing(FrameSuffix::kCrLf));
  EXPECT_EQ(frames(crlf, "A\r\nB\r"), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(frames(crlf, "\nC\r\n"), (std::vector<std::string>{"C"}));
  ScanFramer lf(framing(FrameSuffix::kLf));
  EXPECT_EQ(frames(lf, "A\nB\r\n\n"), (std::vector<std::string>{"A", "B"}));
}

TEST(ScanFramer, PrefixIsStrippedOrReported) {
  ScanFramer f(framing(FrameSuffix::kCr, "\x02"));
  std::vector<std::string> errors;
  EXPECT_EQ(frames(f, "\x02" "ABC\rXYZ\r", &errors), (std::vector<std::string>{"ABC"}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("does not start with the configured prefix \"<02>\""), std::string::npos);
}

TEST(ScanFramer, FixedLengthAndIdleFlush) {
  ScanFramer fixed(framing(FrameSuffix::kNone, "", 4));
  EXPECT_EQ(frames(fixed, "ABCDEF"), (std::vector<std::string>{"ABCD"}));
  EXPECT_EQ(frames(fixed, "GH"), (std::vector<std::string>{"EFGH"}));
  ScanFramer idle(framing(FrameSuffix::kNone, "", 0, 30));
  EXPECT_TRUE(frames(idle, "ABC").empty());
  auto flushed = idle.flush();
  ASSERT_TRUE(flushed && *flushed);
  EXPECT_EQ(**flushed, "ABC");
  EXPECT_FALSE(idle.flush());
}

TEST(ScanFramer, IncompleteFrameOnFlushIsAnError) {
  ScanFramer f(framing(FrameSuffix::kCr));
  frames(f, "ABC");
  auto flushed = f.flush();
  ASSERT_TRUE(flushed);
  ASSERT_FALSE(*flushed);
  EXPECT_NE(flushed->error().message.find("incomplete scan \"ABC\""), std::string::npos);
}

TEST(ScanFramer, OverlongFrameDroppedUntilSuffix) {
  ScanFramer f(framing(FrameSuffix::kCr, "", 0, 0, 8));
  std::vector<std::string> errors;
  EXPECT_TRUE(frames(f, "0123456789ABCDEF", &errors).empty());
  EXPECT_EQ(errors.size(), 1u);
  EXPECT_EQ(frames(f, "GH\rOK\r", &errors), (std::vector<std::string>{"OK"}));
  EXPECT_EQ(errors.size(), 1u);
}

TEST(HidPosReportDecoder, SingleAndContinuedReports) {
  HidPosReportDecoder d;
  std::vector<uint8_t> r(64, 0);
  r[0] = 0x02;
  r[1] = 5;
  r[2] = ']';
  r[3] = 'E';
  r[4] = '4';
  std::memcpy(&r[5], "95012", 5);
  r[63] = 0x01;  // continued
  EXPECT_FALSE(d.feed(r));
  std::memcpy(&r[5], "346", 3);
  r[1] = 3;
  r[63] = 0x00;
  auto frame = d.feed(r);
  ASSERT_TRUE(frame && *frame);
  EXPECT_EQ(**frame, "]E495012346");
  r[0] = 0x05;  // another report id: not scan data
  EXPECT_FALSE(d.feed(r));
  r[0] = 0x02;
  r[1] = 200;
  auto bad = d.feed(r);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(*bad);
  EXPECT_TRUE(d.feed(std::vector<uint8_t>{2, 0}).has_value());  // too short: an error
  EXPECT_FALSE(d.feed(std::vector<uint8_t>{7}).has_value());    // short report of another id: ignored

  HidPosReportDecoder noIds(0);  // device without report ids
  std::vector<uint8_t> plain = {4, 0, 0, 0, 'T', 'O', 'T', 'E', 0};
  auto f = noIds.feed(plain);
  ASSERT_TRUE(f && *f);
  EXPECT_EQ(**f, "TOTE");
}

}  // namespace
}  // namespace floorlink::drivers
