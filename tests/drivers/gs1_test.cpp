// GS1 element strings, with examples from the GS1 General Specifications.
#include "drivers/gs1.h"

#include <gtest/gtest.h>

namespace floorlink::drivers::gs1 {
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
  EXPECT_EQ(checkDigit("10614141234567890"), '8');
  EXPECT_EQ(checkDigit("12a"), '\0');
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

}  // namespace
}  // namespace floorlink::drivers::gs1
