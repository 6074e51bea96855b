#include <gtest/gtest.h>

#include "printers/gs1.h"

namespace floorlink::printers {
namespace {

TEST(Gs1CheckDigit, MatchesPublishedExamples) {
  // GS1 General Specifications examples and well-known GTINs.
  EXPECT_EQ(gs1::checkDigit("10614141123456789"), 7);   // SSCC (00)106141411234567897
  EXPECT_EQ(gs1::checkDigit("0950600013435"), 2);       // GTIN-14 09506000134352
  EXPECT_EQ(gs1::checkDigit("400638133393"), 1);        // EAN-13 4006381333931
  EXPECT_EQ(gs1::checkDigit("590123412345"), 7);        // EAN-13 5901234123457
  EXPECT_EQ(gs1::checkDigit("03600029145"), 2);         // UPC-A 036000291452
  EXPECT_TRUE(gs1::hasValidCheckDigit("106141411234567897"));
  EXPECT_FALSE(gs1::hasValidCheckDigit("106141411234567898"));
  EXPECT_EQ(gs1::checkDigit("12a"), -1);
  EXPECT_EQ(gs1::checkDigit(""), -1);
}

TEST(Sscc, BuiltFromPrefixExtensionAndSerial) {
  auto s = gs1::makeSscc("0614141", 1, 123456789);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(*s, "106141411234567897");
  EXPECT_TRUE(gs1::validateSscc(*s));
  // A 10-digit prefix leaves 6 serial digits.
  auto t = gs1::makeSscc("4012345678", 0, 42);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->size(), 18u);
  EXPECT_EQ(t->substr(0, 17), "04012345678000042");
  EXPECT_TRUE(gs1::hasValidCheckDigit(*t));
}

TEST(Sscc, RefusesBadConfigurationAndExhaustedRange) {
  EXPECT_FALSE(gs1::makeSscc("123456", 0, 1));         // prefix too short
  EXPECT_FALSE(gs1::makeSscc("12345678901", 0, 1));    // too long
  EXPECT_FALSE(gs1::makeSscc("12345a7", 0, 1));
  EXPECT_FALSE(gs1::makeSscc("1234567", 10, 1));
  auto full = gs1::makeSscc("4012345678", 0, 1000000);  // 7 digits do not fit in 6
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("extension digit"), std::string::npos);
  EXPECT_FALSE(gs1::validateSscc("10614141123456789"));
  EXPECT_FALSE(gs1::validateSscc("106141411234567890"));
}

TEST(Gs1ElementString, HriAndRawRoundTrip) {
  auto e = gs1::parseHri("(00)106141411234567897(420)10115");
  ASSERT_TRUE(e) << e.error().describe();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[1].ai, "420");
  EXPECT_EQ(gs1::toRaw(*e), "0010614141123456789742010115");
  auto raw = gs1::parseRaw("0109506000134352" "10ABC1\x1d" "17201225");
  ASSERT_TRUE(raw) << raw.error().describe();
  EXPECT_EQ(gs1::toHri(*raw), "(01)09506000134352(10)ABC1(17)201225");
  EXPECT_EQ(gs1::toRaw(*raw), "0109506000134352" "10ABC1\x1d" "17201225");
}

TEST(Gs1ElementString, RejectsWrongLengthsCheckDigitsAndUnknownAis) {
  EXPECT_FALSE(gs1::parseHri("(00)10614141123456789"));      // 17 digits
  EXPECT_FALSE(gs1::parseHri("(00)106141411234567898"));     // check digit
  EXPECT_FALSE(gs1::parseHri("(01)0950600013435X"));
  EXPECT_FALSE(gs1::parseHri("(420)SW1A 1AA"));              // space is not in GS1 set 82
  EXPECT_FALSE(gs1::parseHri("(999)1"));
  EXPECT_FALSE(gs1::parseHri("00106141411234567897"));
  EXPECT_FALSE(gs1::parseRaw("00106141411234567"));
  EXPECT_FALSE(gs1::parseRaw(""));
}

}  // namespace
}  // namespace floorlink::printers
