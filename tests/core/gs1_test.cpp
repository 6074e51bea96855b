// GS1 element strings, with examples from the GS1 General Specifications.
#include "core/gs1.h"

#include <gtest/gtest.h>

#include <optional>

namespace floorlink::gs1 {
namespace {

constexpr char GS = kGroupSeparator;

TEST(Gs1CheckDigit, GtinSsccAndGln) {
  EXPECT_TRUE(hasValidCheckDigit("09501101530003"));   // GTIN-14 (GenSpecs example)
  EXPECT_TRUE(hasValidCheckDigit("106141412345678908"));  // SSCC (GenSpecs example)
  EXPECT_TRUE(hasValidCheckDigit("4006381333931"));     // EAN-13 / GLN
  EXPECT_TRUE(hasValidCheckDigit("95012346"));          // EAN-8
  EXPECT_FALSE(hasValidCheckDigit("09501101530004"));
  EXPECT_FALSE(hasValidCheckDigit("106141412345678907"));
  EXPECT_FALSE(hasValidCheckDigit("0950110153000X"));
  EXPECT_EQ(checkDigit("10614141234567890"), 8);
  EXPECT_EQ(checkDigit("12a"), std::nullopt);
}

struct Case {
  const char* name;
  std::string data;
  std::vector<Element> expected;
};

class Gs1Valid : public ::testing::TestWithParam<Case> {};

TEST_P(Gs1Valid, Parses) {
  auto r = parse(GetParam().data);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->elements, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    GenSpecsExamples, Gs1Valid,
    ::testing::Values(
        Case{"GtinExpiryLot", "0109501101530003" "17140704" "10AB-123",
             {{"01", "09501101530003"}, {"17", "140704"}, {"10", "AB-123"}}},
        Case{"LeadingFnc1", std::string(1, GS) + "0109501101530003" "10AB-123" + GS + "17140704",
             {{"01", "09501101530003"}, {"10", "AB-123"}, {"17", "140704"}}},
        Case{"Sscc", "00106141412345678908", {{"00", "106141412345678908"}}},
        Case{"NetWeight", "0109521234543213" "3103000123", {{"01", "09521234543213"}, {"3103", "000123"}}},
        Case{"LogisticWeight", "00106141412345678908" "3302001250", {{"00", "106141412345678908"}, {"3302", "001250"}}},
        Case{"ContentCount", "02095011015300033" "7" "24" + std::string(1, GS) + "400PO-4711",
             {{"02", "09501101530003"}, {"37", "24"}, {"400", "PO-4711"}}},
        Case{"SerialVariableThenFixed", "0109501101530003" "21ABC123" + std::string(1, GS) + "15141231",
             {{"01", "09501101530003"}, {"21", "ABC123"}, {"15", "141231"}}},
        Case{"ShipTo", "4104006381333931" "420" "10115" + std::string(1, GS) + "421" "276" "10115",
             {{"410", "4006381333931"}, {"420", "10115"}, {"421", "27610115"}}},
        Case{"CountAndProdDate", "30" "1500" + std::string(1, GS) + "11" "231130" "13" "231200",
             {{"30", "1500"}, {"11", "231130"}, {"13", "231200"}}},
        Case{"TrailingSeparator", "0109501101530003" "10LOT1" + std::string(1, GS),
             {{"01", "09501101530003"}, {"10", "LOT1"}}}),
    [](const auto& p) { return std::string(p.param.name); });

struct BadCase {
  const char* name;
  std::string data;
  std::string messagePart;
};

class Gs1Invalid : public ::testing::TestWithParam<BadCase> {};

TEST_P(Gs1Invalid, RejectsWithReason) {
  auto r = parse(GetParam().data);
  ASSERT_FALSE(r) << "parsed: " << r->toHri();
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
  EXPECT_NE(r.error().message.find(GetParam().messagePart), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, Gs1Invalid,
    ::testing::Values(
        BadCase{"BadGtinCheckDigit", "0109501101530004", "check digit of 09501101530004 is wrong (expected 3)"},
        BadCase{"BadSsccCheckDigit", "00106141412345678907", "(00) SSCC"},
        BadCase{"BadGlnCheckDigit", "4104006381333932", "(410)"},
        BadCase{"TruncatedGtin", "01095011015300", "needs 14 characters, got 12"},
        BadCase{"TruncatedBeforeSeparator", "01095011015" + std::string(1, GS) + "10A", "needs 14 characters, got 9"},
        BadCase{"TruncatedDate", "010950110153000317140", "needs 6 characters, got 3"},
        BadCase{"UnknownAi", "0109501101530003" "05123", "unknown application identifier at position 16"},
        BadCase{"NotAnAi", "ABC", "no application identifier at position 0"},
        BadCase{"LotTooLong", "10" + std::string(21, 'A'), "at most 20 characters, got 21"},
        BadCase{"MissingSeparatorAfterLot", "10ABC0109501101530003AAAAAAA", "at most 20 characters"},
        BadCase{"LetterInNumeric", "0109501101530O03", "not allowed"},
        BadCase{"BadCharInLot", "10AB#1", "character \"#\" not allowed"},
        BadCase{"Month13", "0109501101530003" "17141304", "has month 13"},
        BadCase{"Feb30", "0109501101530003" "17150230", "has day 30 but 2015-2 has 28"},
        BadCase{"EmptyAfterGs", std::string(1, GS), "empty"},
        BadCase{"DoubleSeparator", "10A" + std::string(2, GS) + "21B", "two separators"},
        BadCase{"EmptyVariableField", "10" + std::string(1, GS) + "21B", "needs at least 1 characters"},
        BadCase{"CountryNotNumeric", "421DE" "10115", "not allowed"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Gs1Date, DayZeroIsEndOfMonth) {
  EXPECT_EQ(parseDate("240200").value(), (Date{2024, 2, 29}));  // leap year
  EXPECT_EQ(parseDate("230200").value(), (Date{2023, 2, 28}));
  EXPECT_EQ(parseDate("241100").value(), (Date{2024, 11, 30}));
  EXPECT_EQ(parseDate("241231").value(), (Date{2024, 12, 31}));
  EXPECT_FALSE(parseDate("240229x"));
  EXPECT_FALSE(parseDate("230229"));
  EXPECT_EQ(parseDate("241000")->day, 31);
}

TEST(Gs1Date, SlidingCentury) {
  EXPECT_EQ(parseDate("991231", 2026)->year, 1999);  // 73 years ahead: previous century
  EXPECT_EQ(parseDate("760101", 2026)->year, 2076);  // 50 ahead: this century
  EXPECT_EQ(parseDate("770101", 2026)->year, 1977);
  EXPECT_EQ(parseDate("300101", 2026)->year, 2030);
}

TEST(Gs1Hri, RoundTrip) {
  auto r = parseHri("(01)09501101530003(17)140704(10)AB-123");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->toHri(), "(01)09501101530003(17)140704(10)AB-123");
  ASSERT_NE(r->find("10"), nullptr);
  EXPECT_EQ(r->find("10")->value, "AB-123");
  EXPECT_EQ(r->find("21"), nullptr);
  EXPECT_FALSE(parseHri("(05)123"));
  EXPECT_FALSE(parseHri("01)123"));
}

TEST(Gs1Titles, KnownAis) {
  EXPECT_EQ(aiTitle("00"), "SSCC");
  EXPECT_EQ(aiTitle("01"), "GTIN");
  EXPECT_EQ(aiTitle("3103"), "MEASURE (31nn)");
  EXPECT_EQ(aiTitle("05"), "");
}

TEST(Gs1CheckDigit, MatchesPublishedExamples) {
  // GS1 General Specifications examples and well-known GTINs.
  EXPECT_EQ(checkDigit("10614141123456789"), 7);   // SSCC (00)106141411234567897
  EXPECT_EQ(checkDigit("0950600013435"), 2);       // GTIN-14 09506000134352
  EXPECT_EQ(checkDigit("400638133393"), 1);        // EAN-13 4006381333931
  EXPECT_EQ(checkDigit("590123412345"), 7);        // EAN-13 5901234123457
  EXPECT_EQ(checkDigit("03600029145"), 2);         // UPC-A 036000291452
  EXPECT_TRUE(hasValidCheckDigit("106141411234567897"));
  EXPECT_FALSE(hasValidCheckDigit("106141411234567898"));
  EXPECT_EQ(checkDigit("12a"), std::nullopt);
  EXPECT_EQ(checkDigit(""), std::nullopt);
}

TEST(Sscc, BuiltFromPrefixExtensionAndSerial) {
  auto s = makeSscc("0614141", 1, 123456789);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(*s, "106141411234567897");
  EXPECT_TRUE(validateSscc(*s));
  // A 10-digit prefix leaves 6 serial digits.
  auto t = makeSscc("4012345678", 0, 42);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->size(), 18u);
  EXPECT_EQ(t->substr(0, 17), "04012345678000042");
  EXPECT_TRUE(hasValidCheckDigit(*t));
}

TEST(Sscc, RefusesBadConfigurationAndExhaustedRange) {
  EXPECT_FALSE(makeSscc("12345", 0, 1));          // prefix too short (GS1: 6-12 digits)
  EXPECT_FALSE(makeSscc("1234567890123", 0, 1));  // too long
  EXPECT_FALSE(makeSscc("12345a7", 0, 1));
  EXPECT_FALSE(makeSscc("1234567", 10, 1));
  auto full = makeSscc("4012345678", 0, 1000000);  // 7 digits do not fit in 6
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("extension digit"), std::string::npos);
  EXPECT_FALSE(validateSscc("10614141123456789"));
  EXPECT_FALSE(validateSscc("106141411234567890"));
}

TEST(Gs1ElementString, HriAndRawRoundTrip) {
  auto e = parseHri("(00)106141411234567897(420)10115");
  ASSERT_TRUE(e) << e.error().describe();
  ASSERT_EQ(e->elements.size(), 2u);
  EXPECT_EQ(e->elements[1].ai, "420");
  EXPECT_EQ(e->toRaw(), "0010614141123456789742010115");
  auto raw = parse("0109506000134352" "10ABC1\x1d" "17201225");
  ASSERT_TRUE(raw) << raw.error().describe();
  EXPECT_EQ(raw->toHri(), "(01)09506000134352(10)ABC1(17)201225");
  EXPECT_EQ(raw->toRaw(), "0109506000134352" "10ABC1\x1d" "17201225");
}

TEST(Gs1ElementString, RejectsWrongLengthsCheckDigitsAndUnknownAis) {
  EXPECT_FALSE(parseHri("(00)10614141123456789"));      // 17 digits
  EXPECT_FALSE(parseHri("(00)106141411234567898"));     // check digit
  EXPECT_FALSE(parseHri("(01)0950600013435X"));
  EXPECT_FALSE(parseHri("(420)SW1A 1AA"));              // space is not in GS1 set 82
  EXPECT_FALSE(parseHri("(999)1"));
  EXPECT_FALSE(parseHri("00106141411234567897"));
  EXPECT_FALSE(parse("00106141411234567"));
  EXPECT_FALSE(parse(""));
}

// The rule config accepts is the rule the SSCC generator uses.
TEST(Sscc, EveryCompanyPrefixLengthGs1AllowsMakesAnSscc) {
  for (std::string prefix = "061414"; prefix.size() <= 12; prefix += "1") {
    auto s = makeSscc(prefix, 3, 7);
    ASSERT_TRUE(s) << prefix << ": " << s.error().describe();
    EXPECT_EQ(s->size(), 18u);
    EXPECT_EQ(s->substr(1, prefix.size()), prefix);
    EXPECT_TRUE(validateSscc(*s));
  }
}

}  // namespace
}  // namespace floorlink::gs1
