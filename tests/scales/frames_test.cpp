// Table tests of the pure parts: unit conversion and the frame parsers, with
// the examples of the protocol manuals (MT-SICS reference, 8217 host
// interface, NCI SCP-01, HID POS usage tables 1.02 and the DYMO M25 layout).
#include <gtest/gtest.h>

#include "drivers/scale/frames.h"
#include "drivers/scale/reading.h"

namespace floorlink::drivers {
namespace {

std::span<const uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// ---------------------------------------------------------------- units

struct GramsCase {
  const char* decimal;
  WeightUnit unit;
  int64_t grams;
};

class DecimalToGrams : public ::testing::TestWithParam<GramsCase> {};

TEST_P(DecimalToGrams, ConvertsExactlyAndRoundsHalfAwayFromZero) {
  auto c = GetParam();
  auto g = decimalToGrams(c.decimal, c.unit);
  ASSERT_TRUE(g.has_value()) << c.decimal << ": " << g.error().describe();
  EXPECT_EQ(*g, c.grams) << c.decimal << " " << toString(c.unit);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DecimalToGrams,
    ::testing::Values(GramsCase{"100.00", WeightUnit::kGram, 100}, GramsCase{"0.5", WeightUnit::kGram, 1},
                      GramsCase{"-0.5", WeightUnit::kGram, -1}, GramsCase{"0.4999", WeightUnit::kGram, 0},
                      GramsCase{"-0.4999", WeightUnit::kGram, 0}, GramsCase{"1.234", WeightUnit::kKilogram, 1234},
                      GramsCase{"1.0005", WeightUnit::kKilogram, 1001}, GramsCase{"1.0004", WeightUnit::kKilogram, 1000},
                      GramsCase{"+0012.3", WeightUnit::kKilogram, 12300}, GramsCase{"7.", WeightUnit::kGram, 7},
                      GramsCase{".5", WeightUnit::kKilogram, 500},
                      // 1 lb = 453.59237 g, 1 oz = 28.349523125 g exactly.
                      GramsCase{"1", WeightUnit::kPound, 454}, GramsCase{"1", WeightUnit::kOunce, 28},
                      GramsCase{"16", WeightUnit::kOunce, 454}, GramsCase{"2.2046", WeightUnit::kPound, 1000},
                      GramsCase{"1.25", WeightUnit::kPound, 567}, GramsCase{"0.0176", WeightUnit::kOunce, 0},
                      GramsCase{"0.0177", WeightUnit::kOunce, 1}, GramsCase{"-3.5", WeightUnit::kOunce, -99},
                      GramsCase{"1500", WeightUnit::kMilligram, 2}, GramsCase{"1499", WeightUnit::kMilligram, 1},
                      GramsCase{"999999999999.999", WeightUnit::kGram, 1000000000000}));

TEST(DecimalToGrams, RejectsWhatIsNotANumber) {
  for (const char* bad : {"", "-", "+", ".", "1.2.3", "12a", "1 2", "--1", "1234567890123456", "ab"}) {
    auto g = decimalToGrams(bad, WeightUnit::kGram);
    ASSERT_FALSE(g.has_value()) << bad;
    EXPECT_EQ(g.error().code, ErrorCode::kParse) << bad;
  }
  EXPECT_FALSE(decimalToGrams("999999999999999", WeightUnit::kKilogram).has_value());  // > 1000 t
}

TEST(ScaledToGrams, HidStyleMantissaAndExponent) {
  EXPECT_EQ(scaledToGrams(20, 0, WeightUnit::kGram).value(), 20);
  EXPECT_EQ(scaledToGrams(6452, -1, WeightUnit::kOunce).value(), 18291);  // 645.2 oz = 18291.112 g
  EXPECT_EQ(scaledToGrams(5, 3, WeightUnit::kGram).value(), 5000);
  EXPECT_EQ(scaledToGrams(1234, -3, WeightUnit::kKilogram).value(), 1234);
  EXPECT_EQ(scaledToGrams(15, -1, WeightUnit::kPound).value(), 680);  // 1.5 lb = 680.389 g
  EXPECT_FALSE(scaledToGrams(1, 10, WeightUnit::kGram).has_value());
  EXPECT_FALSE(scaledToGrams(1, -10, WeightUnit::kGram).has_value());
}

TEST(WeightUnit, ParsesTheUnitsScalesSend) {
  EXPECT_EQ(parseWeightUnit("g").value(), WeightUnit::kGram);
  EXPECT_EQ(parseWeightUnit("KG").value(), WeightUnit::kKilogram);
  EXPECT_EQ(parseWeightUnit("lbs").value(), WeightUnit::kPound);
  EXPECT_EQ(parseWeightUnit("OZ").value(), WeightUnit::kOunce);
  auto bad = parseWeightUnit("ct");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("set the scale to g, kg, lb or oz"), std::string::npos);
}

// ---------------------------------------------------------------- splitter

TEST(FrameSplitter, JoinsPiecesAndSplitsRuns) {
  FrameSplitter s("\r\n", 16);
  std::vector<FrameSplitter::Frame> out;
  s.feed(bytesOf("S S   1"), out);
  EXPECT_TRUE(out.empty());
  s.feed(bytesOf("0.00 g\r\nZ A\r\nS"), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, "S S   10.00 g");
  EXPECT_EQ(out[1].bytes, "Z A");
  EXPECT_EQ(s.pending(), 1u);
}

TEST(FrameSplitter, CutsOverlongFramesAndResynchronises) {
  FrameSplitter s("\r", 8);
  std::vector<FrameSplitter::Frame> out;
  s.feed(bytesOf("0123456789abcdef\rOK\r"), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].overlong);
  EXPECT_EQ(out[0].bytes, "01234567");
  EXPECT_FALSE(out[1].overlong);
  EXPECT_EQ(out[1].bytes, "OK");
}

TEST(Printable, NamesControlBytes) {
  EXPECT_EQ(printable(std::string("\x02?A\r", 4)), "<STX>?A<CR>");
  EXPECT_EQ(printable(std::string("\xff", 1)), "<0xFF>");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
}

// ---------------------------------------------------------------- MT-SICS

struct SicsCase {
  const char* line;
  const char* command;
  char status;
  std::optional<int64_t> grams;
};

class MtSicsTable : public ::testing::TestWithParam<SicsCase> {};

TEST_P(MtSicsTable, ParsesManualExamples) {
  auto c = GetParam();
  auto r = parseMtSicsLine(c.line);
  ASSERT_TRUE(r.has_value()) << c.line << ": " << r.error().describe();
  EXPECT_EQ(r->command, c.command);
  EXPECT_EQ(r->status, c.status);
  EXPECT_EQ(r->grams, c.grams) << c.line;
}

INSTANTIATE_TEST_SUITE_P(
    Manual, MtSicsTable,
    ::testing::Values(SicsCase{"S S     100.00 g", "S", 'S', 100}, SicsCase{"S D     129.07 g", "S", 'D', 129},
                      SicsCase{"S S      -0.25 kg", "S", 'S', -250}, SicsCase{"S S -    12.35 g", "S", 'S', -12},
                      SicsCase{"S S       1.5 lb", "S", 'S', 680}, SicsCase{"S S     0.0350 oz", "S", 'S', 1},
                      SicsCase{"S I", "S", 'I', std::nullopt}, SicsCase{"S +", "S", '+', std::nullopt},
                      SicsCase{"S -", "S", '-', std::nullopt}, SicsCase{"SI D  12.00 g", "SI", 'D', 12},
                      SicsCase{"ES", "ES", 0, std::nullopt}, SicsCase{"ET", "ET", 0, std::nullopt},
                      SicsCase{"EL", "EL", 0, std::nullopt}, SicsCase{"Z A", "Z", 'A', std::nullopt},
                      SicsCase{"Z I", "Z", 'I', std::nullopt}, SicsCase{"Z +", "Z", '+', std::nullopt},
                      SicsCase{"Z -", "Z", '-', std::nullopt}, SicsCase{"T S     100.00 g", "T", 'S', 100},
                      SicsCase{"T I", "T", 'I', std::nullopt}, SicsCase{"T +", "T", '+', std::nullopt},
                      SicsCase{"TA A     100.00 g", "TA", 'A', 100}, SicsCase{"TAC A", "TAC", 'A', std::nullopt},
                      SicsCase{"I4 A \"0123456789\"", "I4", 'A', std::nullopt},
                      SicsCase{"S S     100.00 g\r", "S", 'S', 100}));

TEST(MtSics, KeepsQuotedTextAndUnknownUnits) {
  auto r = parseMtSicsLine("I4 A \"B021002593\"");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "B021002593");
  auto ct = parseMtSicsLine("S S      12.50 ct");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->unit, "ct");
  EXPECT_FALSE(ct->grams.has_value());  // the driver reports the unit as unusable
}

TEST(MtSics, RejectsMalformedLines) {
  for (const char* bad : {"", "s s 1 g", "S X 1 g", "S S abc g", "S S 1.2.3 g", "S", "S SS 1 g", "S S 12.5",
                          "I4 A \"open", "TOOLONGCMD A", "\x01S S 1 g", "S S \xff g"}) {
    auto r = parseMtSicsLine(bad);
    ASSERT_FALSE(r.has_value()) << printable(bad);
    EXPECT_EQ(r.error().code, ErrorCode::kParse);
  }
}

// ---------------------------------------------------------------- Toledo 8217

TEST(Toledo8217, WeightRecordsInPoundsAndKilograms) {
  auto lb = parseToledo8217Frame("001.50");
  ASSERT_TRUE(lb.has_value());
  EXPECT_EQ(lb->decimals, 2);
  EXPECT_EQ(toledo8217Grams(*lb, std::nullopt).value(), 680);  // 1.50 lb
  auto kg = parseToledo8217Frame("01.234");
  ASSERT_TRUE(kg.has_value());
  EXPECT_FALSE(kg->net);
  EXPECT_EQ(toledo8217Grams(*kg, std::nullopt).value(), 1234);
  auto net = parseToledo8217Frame("00.500N");
  ASSERT_TRUE(net.has_value());
  EXPECT_TRUE(net->net);
  EXPECT_EQ(toledo8217Grams(*net, std::nullopt).value(), 500);
  // Grams format has no decimal point: the unit must be configured.
  auto g = parseToledo8217Frame("001234");
  ASSERT_TRUE(g.has_value());
  EXPECT_FALSE(toledo8217Grams(*g, std::nullopt).has_value());
  EXPECT_EQ(toledo8217Grams(*g, WeightUnit::kGram).value(), 1234);
  // The parity bit of a 7E1 byte read as 8 bits is ignored.
  auto parity = parseToledo8217Frame(std::string("0\xb1.234", 6));  // '1' | 0x80
  ASSERT_TRUE(parity.has_value());
  EXPECT_EQ(toledo8217Grams(*parity, std::nullopt).value(), 1234);
}

struct StatusCase {
  uint8_t byte;
  bool motion, over, under, outside, center, net;
};

class Toledo8217StatusTable : public ::testing::TestWithParam<StatusCase> {};

TEST_P(Toledo8217StatusTable, DecodesEveryBit) {
  auto c = GetParam();
  std::string frame = "?";
  frame += static_cast<char>(c.byte);
  auto r = parseToledo8217Frame(frame);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  ASSERT_TRUE(r->status.has_value());
  EXPECT_EQ(r->status->motion, c.motion);
  EXPECT_EQ(r->status->overCapacity, c.over);
  EXPECT_EQ(r->status->underZero, c.under);
  EXPECT_EQ(r->status->outsideZeroRange, c.outside);
  EXPECT_EQ(r->status->centerOfZero, c.center);
  EXPECT_EQ(r->status->net, c.net);
}

INSTANTIATE_TEST_SUITE_P(Manual, Toledo8217StatusTable,
                         ::testing::Values(StatusCase{0x40, false, false, false, false, false, false},
                                           StatusCase{0x41, true, false, false, false, false, false},
                                           StatusCase{0x42, false, true, false, false, false, false},
                                           StatusCase{0x44, false, false, true, false, false, false},
                                           StatusCase{0x48, false, false, false, true, false, false},
                                           StatusCase{0x50, false, false, false, false, true, false},
                                           StatusCase{0x60, false, false, false, false, false, true},
                                           StatusCase{0xE1, true, false, false, false, false, true},  // parity set
                                           StatusCase{0x7F, true, true, true, true, true, true}));

TEST(Toledo8217, RejectsNoise) {
  for (std::string bad : {std::string("?"), std::string("?\x01", 2), std::string("?AB"), std::string("ABC"),
                          std::string(""), std::string("1.2.3"), std::string("0123456789.0")}) {
    EXPECT_FALSE(parseToledo8217Frame(bad).has_value()) << printable(bad);
  }
  EXPECT_EQ(Toledo8217Status{}.describe(), "ok");
}

// ---------------------------------------------------------------- NCI

TEST(Nci, WeightAndStatus) {
  auto r = parseNciFrame("\n  1.25lb\r\n00\r");
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->grams, 567);
  EXPECT_EQ(r->unit, "lb");
  ASSERT_TRUE(r->status.has_value());
  EXPECT_EQ(r->status->describe(), "ok");

  auto kg = parseNciFrame("\n  0.995kg\r\n00\r");
  ASSERT_TRUE(kg.has_value());
  EXPECT_EQ(kg->grams, 995);

  auto grams = parseNciFrame("\n_1234g_\r\n00\r");
  ASSERT_TRUE(grams.has_value()) << grams.error().describe();
  EXPECT_EQ(grams->grams, 1234);

  auto neg = parseNciFrame("\n- 0.50KG\r\n00\r");
  ASSERT_TRUE(neg.has_value()) << neg.error().describe();
  EXPECT_EQ(neg->grams, -500);

  auto lbOz = parseNciFrame("\n1LB 4.5OZ\r\n00\r");  // 20.5 oz
  ASSERT_TRUE(lbOz.has_value()) << lbOz.error().describe();
  EXPECT_EQ(lbOz->grams, 581);

  auto withS = parseNciFrame("\n  2.000kg\r\nS00\r");  // models that prefix the status with S
  ASSERT_TRUE(withS.has_value()) << withS.error().describe();
  EXPECT_EQ(withS->grams, 2000);
}

TEST(Nci, DecodesBothStatusBytes) {
  struct Case {
    const char* status;
    bool motion, atZero, ram, eeprom, under, over, rom, calibration;
  };
  for (auto c : {Case{"00", false, false, false, false, false, false, false, false},
                 Case{"10", true, false, false, false, false, false, false, false},
                 Case{"20", false, true, false, false, false, false, false, false},
                 Case{"40", false, false, true, false, false, false, false, false},
                 Case{"80", false, false, false, true, false, false, false, false},
                 Case{"01", false, false, false, false, true, false, false, false},
                 Case{"02", false, false, false, false, false, true, false, false},
                 Case{"04", false, false, false, false, false, false, true, false},
                 Case{"08", false, false, false, false, false, false, false, true},
                 Case{"3?", true, true, false, false, true, true, true, true},
                 Case{"1\xb0", true, false, false, false, false, false, false, false}}) {  // parity bit set
    auto r = parseNciFrame(std::string("\n") + c.status + "\r");
    ASSERT_TRUE(r.has_value()) << printable(c.status) << ": " << r.error().describe();
    ASSERT_TRUE(r->status.has_value());
    const NciStatus& s = *r->status;
    EXPECT_FALSE(r->grams.has_value());
    EXPECT_EQ(s.motion, c.motion) << c.status;
    EXPECT_EQ(s.atZero, c.atZero) << c.status;
    EXPECT_EQ(s.ramError, c.ram) << c.status;
    EXPECT_EQ(s.eepromError, c.eeprom) << c.status;
    EXPECT_EQ(s.underCapacity, c.under) << c.status;
    EXPECT_EQ(s.overCapacity, c.over) << c.status;
    EXPECT_EQ(s.romError, c.rom) << c.status;
    EXPECT_EQ(s.calibrationError, c.calibration) << c.status;
  }
}

TEST(Nci, UnrecognisedCommandAndNoise) {
  auto q = parseNciFrame("\n?\r");
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(q->unrecognised);
  for (std::string bad : {std::string("no lf"), std::string("\n00"), std::string("\nAB\r"), std::string("\n0\r"),
                          std::string("\n1.0\r\n00\r"), std::string("\n1.0ct\r\n00\r"),
                          std::string("\nx\r\ny\r\nz\r"), std::string("\n")}) {
    EXPECT_FALSE(parseNciFrame(bad).has_value()) << printable(bad);
  }
}

// ---------------------------------------------------------------- HID POS

std::vector<uint8_t> report(std::initializer_list<int> b) {
  std::vector<uint8_t> out;
  for (int v : b) out.push_back(static_cast<uint8_t>(v));
  return out;
}

TEST(HidPos, DymoM25Reports) {
  const HidScaleQuirk& dymo = *findHidScaleQuirk("dymo-m25");
  auto grams = parseHidScaleReport(report({3, 4, 2, 0, 0x14, 0x00}), dymo);  // 20 g stable
  ASSERT_TRUE(grams.has_value()) << grams.error().describe();
  EXPECT_EQ(grams->status, HidScaleStatus::kWeightStable);
  EXPECT_EQ(grams->grams, 20);
  auto ounces = parseHidScaleReport(report({3, 4, 11, 0xFF, 0x34, 0x19}), dymo);  // 645.2 oz
  ASSERT_TRUE(ounces.has_value());
  EXPECT_EQ(ounces->exponent, -1);
  EXPECT_EQ(ounces->rawWeight, 6452);
  EXPECT_EQ(ounces->grams, 18291);
  auto zero = parseHidScaleReport(report({3, 2, 2, 0, 0, 0}), dymo);
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->status, HidScaleStatus::kStableAtZero);
  auto under = parseHidScaleReport(report({3, 5, 2, 0, 0x0A, 0}), dymo);
  ASSERT_TRUE(under.has_value());
  EXPECT_EQ(under->grams, -10);
  auto over = parseHidScaleReport(report({3, 6, 2, 0, 0, 0}), dymo);
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->status, HidScaleStatus::kOverWeightLimit);
  auto kg = parseHidScaleReport(report({3, 4, 3, 0xFD, 0xD2, 0x04}), dymo);  // 1234e-3 kg
  ASSERT_TRUE(kg.has_value());
  EXPECT_EQ(kg->grams, 1234);
  auto padded = parseHidScaleReport(report({3, 4, 2, 0, 0x14, 0x00, 0, 0}), dymo);  // max-packet padding
  ASSERT_TRUE(padded.has_value());
  EXPECT_EQ(padded->grams, 20);
}

TEST(HidPos, QuirksAreData) {
  ASSERT_NE(findHidScaleQuirk(0x0922, 0x8004), nullptr);
  EXPECT_EQ(findHidScaleQuirk(0x0922, 0x8004)->name, "dymo-m25");
  EXPECT_EQ(findHidScaleQuirk(0x1234, 0x5678), nullptr);
  const HidScaleQuirk& noId = *findHidScaleQuirk("no-report-id");
  auto r = parseHidScaleReport(report({4, 2, 0, 0x14, 0x00}), noId);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->grams, 20);
  const HidScaleQuirk& id4 = *findHidScaleQuirk("report-id-4");
  EXPECT_TRUE(parseHidScaleReport(report({4, 4, 2, 0, 0x14, 0x00}), id4).has_value());
  EXPECT_FALSE(parseHidScaleReport(report({3, 4, 2, 0, 0x14, 0x00}), id4).has_value());
}

TEST(HidPos, RejectsBadReports) {
  const HidScaleQuirk& std3 = *findHidScaleQuirk("standard");
  EXPECT_FALSE(parseHidScaleReport(report({3, 4, 2, 0, 0x14}), std3).has_value());          // short
  EXPECT_FALSE(parseHidScaleReport(report({1, 4, 2, 0, 0x14, 0}), std3).has_value());       // other report
  EXPECT_FALSE(parseHidScaleReport(report({3, 0, 2, 0, 0x14, 0}), std3).has_value());       // status 0
  EXPECT_FALSE(parseHidScaleReport(report({3, 9, 2, 0, 0x14, 0}), std3).has_value());       // status 9
  auto carat = parseHidScaleReport(report({3, 4, 4, 0, 0x14, 0}), std3);
  ASSERT_FALSE(carat.has_value());
  EXPECT_NE(carat.error().message.find("unit code 4"), std::string::npos);
  EXPECT_FALSE(parseHidScaleReport(report({3, 4, 2, 0x7F, 0x14, 0}), std3).has_value());    // exponent 127
}

// ---------------------------------------------------------------- continuous

ContinuousParser defaultParser() {
  ContinuousFormat f;
  f.pattern = R"(^\s*(?<status>ST|US|OL),(?:GS|NT),(?<sign>[+-]?)\s*(?<weight>[0-9.]+)\s*(?<unit>kg|g|lb|oz)\s*$)";
  return ContinuousParser::create(f).value();
}

TEST(Continuous, NamedPartsOfTheDefaultPattern) {
  auto p = defaultParser();
  auto st = p.parse("ST,GS,+0001.234kg");
  ASSERT_TRUE(st.has_value()) << st.error().describe();
  EXPECT_EQ(st->grams, 1234);
  EXPECT_EQ(st->status, WeightStatus::kStable);
  auto us = p.parse("US,GS,+0001.230kg");
  ASSERT_TRUE(us.has_value());
  EXPECT_EQ(us->status, WeightStatus::kMotion);
  auto neg = p.parse("ST,NT,-0000.500kg");
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(neg->grams, -500);
  auto ol = p.parse("OL,GS,+9999.999kg");
  ASSERT_TRUE(ol.has_value());
  EXPECT_EQ(ol->status, WeightStatus::kOverload);
  EXPECT_FALSE(p.parse("XX,GS,+0001.234kg").has_value());
  EXPECT_FALSE(p.parse("ST,GS,+0001.234ct").has_value());
}

TEST(Continuous, CustomPatternWithConfiguredUnitAndNoStatus) {
  ContinuousFormat f;
  f.pattern = R"(^\x02W(?:[:=])\s*(?<weight>-?\d+(?:\.\d+)?)$)";
  f.unit = WeightUnit::kPound;
  auto p = ContinuousParser::create(f);
  ASSERT_TRUE(p.has_value()) << p.error().describe();
  auto r = p->parse("\x02W: 2.5");
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->grams, 1134);  // 2.5 lb = 1133.98 g
  EXPECT_EQ(r->status, WeightStatus::kUnknown);
  EXPECT_FALSE(p->parse("W: 2.5").has_value());
}

TEST(Continuous, StatusListsAreConfigurable) {
  ContinuousFormat f;
  f.pattern = R"((?<status>[A-Z]+) (?<weight>\d+) (?<unit>g))";
  f.stable = {"STABLE"};
  f.motion = {"MOVING"};
  auto p = ContinuousParser::create(f).value();
  EXPECT_EQ(p.parse("STABLE 12 g")->status, WeightStatus::kStable);
  EXPECT_EQ(p.parse("MOVING 12 g")->status, WeightStatus::kMotion);
  auto other = p.parse("ST 12 g");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("stable_status"), std::string::npos);
}

TEST(Continuous, BadPatternsAreRejectedWithTheReason) {
  auto make = [](std::string pattern, std::optional<WeightUnit> unit = WeightUnit::kGram) {
    ContinuousFormat f;
    f.pattern = std::move(pattern);
    f.unit = unit;
    return ContinuousParser::create(f);
  };
  EXPECT_NE(make("(?<unit>g)").error().message.find("weight"), std::string::npos);
  EXPECT_FALSE(make("(?<weight>\\d+").has_value());  // unbalanced
  EXPECT_NE(make("(?<mass>\\d+)").error().message.find("unknown"), std::string::npos);
  EXPECT_NE(make("(?<weight>\\d+)", std::nullopt).error().message.find("unit"), std::string::npos);
  EXPECT_NE(make("(?<weight>\\d+)(?<weight>\\d+)").error().message.find("twice"), std::string::npos);
  // Groups inside classes and escaped parentheses are not counted as parts.
  auto tricky = make(R"(\((?<weight>[(0-9.]+)\)[)])");
  ASSERT_TRUE(tricky.has_value()) << tricky.error().describe();
  EXPECT_EQ(tricky->parse("(12.5))")->grams, 13);
}

}  // namespace
}  // namespace floorlink::drivers
