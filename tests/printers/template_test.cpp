#include <gtest/gtest.h>

#include <fstream>

#include "printers/label_template.h"
#include "printers/verify.h"
#include "printers/zpl.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

using testing::shippingTemplate;
using testing::shippingValues;

std::vector<std::string> commandCodes(std::string_view zpl) {
  std::vector<std::string> out;
  for (const auto& c : zpl::tokenize(zpl)) out.push_back(std::string(1, c.prefix) + c.code);
  return out;
}

std::string customerText(std::string_view zpl) {
  auto layout = zpl::interpret(zpl);
  EXPECT_TRUE(layout) << (layout ? "" : layout.error().describe());
  if (!layout) return {};
  return layout->texts.at(1).text;  // "SHIP TO", then the customer
}

TEST(LabelTemplate, LoadsTheShippedShippingTemplate) {
  auto t = shippingTemplate();
  EXPECT_EQ(t.designDpi(), 203);
  EXPECT_TRUE(t.uses("sscc"));
  EXPECT_TRUE(t.uses("field.customer"));
  EXPECT_FALSE(t.uses("tracking"));
}

TEST(LabelTemplate, HostileValuesPrintLiterallyAndCannotInjectZpl) {
  auto t = shippingTemplate();
  auto benign = t.fill(shippingValues("ACME"), 8);
  ASSERT_TRUE(benign) << benign.error().describe();
  for (const std::string& hostile : std::vector<std::string>{"^XZ^XA^FO0,0^FDX^FS", "~JA~HS", "_5E_7E", "a^FS^FO0,0^GB800,1200,800^FS",
                              std::string("nul\0byte\r\n^XZ", 13), "}}{{sscc}}"}) {
    SCOPED_TRACE(hostile);
    auto filled = t.fill(shippingValues(hostile), 8);
    ASSERT_TRUE(filled) << filled.error().describe();
    // Same command structure as the benign label: nothing was added or closed early.
    EXPECT_EQ(commandCodes(*filled), commandCodes(*benign));
    EXPECT_EQ(filled->find(hostile), std::string::npos);
    auto check = zpl::checkFormats(*filled);
    EXPECT_TRUE(check.balanced) << check.problem;
    EXPECT_EQ(check.formats, 1);
    // And the printer would print the text exactly as given.
    EXPECT_EQ(customerText(*filled), hostile);
  }
}

// One barcode field holding {{field.ref}}: filled with value, the barcode
// must encode exactly the value, as the given symbology.
void expectBarcodeCarriesValue(const std::string& barcodeCommand, const std::string& value,
                               zpl::Symbology symbology) {
  SCOPED_TRACE(barcodeCommand + " " + value);
  auto t = LabelTemplate::parse("ref", "# dpi: 203\n^XA^FO40,40" + barcodeCommand + "^FD{{field.ref}}^FS^XZ");
  ASSERT_TRUE(t) << t.error().describe();
  LabelValues v;
  v.fields["ref"] = value;
  auto filled = t->fill(v, 8);
  ASSERT_TRUE(filled) << filled.error().describe();
  auto layout = zpl::interpret(*filled);
  ASSERT_TRUE(layout) << layout.error().describe();
  ASSERT_EQ(layout->barcodes.size(), 1u);
  EXPECT_EQ(layout->barcodes[0].symbology, symbology);
  EXPECT_EQ(layout->barcodes[0].content, value);
}

// Found by fuzz_label_template: ^FH decodes before Code 128 reads its
// invocation codes, so a '>' in order data used to act as one (">8" turned a
// plain Code 128 into GS1-128). Values in ^BC data now carry '>' as ">0".
TEST(LabelTemplate, ValuesInCode128CannotInjectInvocationCodes) {
  for (const char* hostile : {">8", ">;12>8", "A>0B", ">", "x>"})
    expectBarcodeCarriesValue("^BY2^BCN,100,Y,N,N", hostile, zpl::Symbology::kCode128);
  // The template's own invocation codes still work: GS1-128 from the template.
  auto gs1 = LabelTemplate::parse("sscc", "# dpi: 203\n^XA^FO40,40^BY2^BCN,100,Y,N,N^FD>;>800{{sscc}}^FS^XZ");
  ASSERT_TRUE(gs1) << gs1.error().describe();
  LabelValues v;
  v.values["sscc"] = "095060000000000015";
  auto filled = gs1->fill(v, 8);
  ASSERT_TRUE(filled) << filled.error().describe();
  auto layout = zpl::interpret(*filled);
  ASSERT_TRUE(layout) << layout.error().describe();
  EXPECT_EQ(layout->barcodes.at(0).symbology, zpl::Symbology::kGs1_128);
}

// Data Matrix quality 200 reads escape sequences after ^FH decoding ("_1" is
// FNC1 with escape '_'); a value's escape characters are doubled.
TEST(LabelTemplate, ValuesInDataMatrixCannotInjectEscapeSequences) {
  for (const char* bx : {"^BXN,6,200,,,,_", "^BXN,6,200"})
    for (const char* hostile : {"_1", "~1", "a_1b~1c", "__", "~~1"})
      expectBarcodeCarriesValue(bx, hostile, zpl::Symbology::kDataMatrix);
}

TEST(LabelTemplate, Utf8NamesAreHexEscapedUnderCi28) {
  auto t = shippingTemplate();
  std::string name = "Zoë Ødegård — 東京 Ünal";
  auto filled = t.fill(shippingValues(name), 8);
  ASSERT_TRUE(filled);
  EXPECT_NE(filled->find("^CI28"), std::string::npos);
  EXPECT_NE(filled->find("_C3_AB"), std::string::npos);  // ë
  for (unsigned char c : *filled) EXPECT_LT(c, 0x80) << "raw non-ASCII byte in ZPL";
  EXPECT_EQ(customerText(*filled), name);
  auto layout = zpl::interpret(*filled);
  ASSERT_TRUE(layout);
  EXPECT_TRUE(layout->utf8);
}

TEST(LabelTemplate, MissingFieldIsAnErrorNamingIt) {
  auto t = shippingTemplate();
  auto v = shippingValues();
  v.fields.erase("postal_code");
  auto filled = t.fill(v, 8);
  ASSERT_FALSE(filled);
  EXPECT_NE(filled.error().message.find("postal_code"), std::string::npos) << filled.error().message;
  v = shippingValues();
  v.values.erase("sscc");
  filled = t.fill(v, 8);
  ASSERT_FALSE(filled);
  EXPECT_NE(filled.error().message.find("sscc"), std::string::npos);
}

TEST(LabelTemplate, ValidationAtLoad) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"^XA^FO1,1^FDx^FS^XZ", "dpi"},
      {"# dpi: 250\n^XA^XZ", "dpi must be"},
      {"# dpi: 203\n^XA^FO1,1^FD{{field.a}}^FS", "not closed"},
      {"# dpi: 203\n^XA^FO1,1^FDa^FS^XZ^XZ", "never opened"},
      {"# dpi: 203\n^XA^XA^XZ", "inside another"},
      {"# dpi: 203\n^XA^FO1,1^FD{{customer}}^FS^XZ", "unknown placeholder {{customer}}"},
      {"# dpi: 203\n^XA^FO{{field.x}},1^FDa^FS^XZ", "only stand in field data"},
      {"# dpi: 203\n^XA^FO1,1^FD{{field.a^FS^XZ", "without"},
      {"# dpi: 203\n^XA^FO1,1^FD{{Field.A}}^FS^XZ", "invalid placeholder"},
  };
  for (const auto& c : cases) {
    auto t = LabelTemplate::parse("t", c.text);
    ASSERT_FALSE(t) << c.text;
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << c.text << " -> " << t.error().message;
  }
}

TEST(LabelTemplate, AddsFhAndCi28WhereMissingAndKeepsLiteralUnderscores) {
  auto t = LabelTemplate::parse("t", "# dpi: 203\n^XA\n^FO10,10^A0N,30,30^FDref_{{field.ref}}^FS\n^XZ\n");
  ASSERT_TRUE(t) << t.error().describe();
  LabelValues v;
  v.fields["ref"] = "A_B";
  auto z = t->fill(v, 8);
  ASSERT_TRUE(z);
  EXPECT_LT(z->find("^XA"), z->find("^CI28")) << *z;
  EXPECT_NE(z->find("^CI28"), std::string::npos);
  EXPECT_NE(z->find("^FH_^FD"), std::string::npos) << *z;
  auto layout = zpl::interpret(*z);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->texts.at(0).text, "ref_A_B");
}

TEST(LabelTemplate, Scales203To300Dpi) {
  auto t = shippingTemplate();
  auto z = t.fill(shippingValues(), 12);
  ASSERT_TRUE(z) << z.error().describe();
  EXPECT_NE(z->find("^PW1218"), std::string::npos);
  EXPECT_NE(z->find("^LL1827"), std::string::npos);
  EXPECT_NE(z->find("^FO60,120^A0N,66,66"), std::string::npos) << *z;   // 40,80 and 44 dots at 203
  EXPECT_NE(z->find("^BY5"), std::string::npos);                          // 3 dots * 1.5 = 4.5 -> 5
  EXPECT_NE(z->find("^BCN,300,Y,N,N,D"), std::string::npos);              // height 200 -> 300
  EXPECT_NE(z->find("^BXN,9,200"), std::string::npos);                    // module 6 -> 9
  EXPECT_NE(z->find("^FO30,30^GB1158,1767,5"), std::string::npos) << *z;  // 772x1178x3 at 203 dpi
  auto layout = zpl::interpret(*z);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->barcodes.at(1).moduleWidth, 5);
  // The scaled label still verifies: every barcode decodes at its new module width.
  auto v = verifyLabel(*z, {.sscc = "106141411234567897"});
  EXPECT_TRUE(v.ok) << v.reason;
}

TEST(LabelTemplate, SameResolutionIsUnchangedAndUnknownResolutionIsRefused) {
  auto t = shippingTemplate();
  auto z = t.fill(shippingValues(), 8);
  ASSERT_TRUE(z);
  EXPECT_NE(z->find("^FO40,80^A0N,44,44"), std::string::npos);
  auto unknown = t.fill(shippingValues(), 0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(unknown.error().message.find("options.dpi"), std::string::npos);
}

TEST(LabelTemplate, RefusesScalingThatWouldDistortBarcodes) {
  auto t = LabelTemplate::parse("t", "# dpi: 300\n^XA^FO10,10^BY2^BCN,100,Y,N,N^FD{{field.a}}^FS^XZ");
  ASSERT_TRUE(t);
  LabelValues v;
  v.fields["a"] = "X1";
  auto z = t->fill(v, 8);  // 2 dots * 203/300 = 1.33 -> 1 (25% smaller)
  ASSERT_FALSE(z);
  EXPECT_NE(z.error().message.find("module width"), std::string::npos) << z.error().message;
}

TEST(TemplateLibrary, LoadsDirectoryAndNamesBrokenFiles) {
  auto dir = testing::tempDir("templates");
  std::filesystem::copy(testing::sourceDir() / "printers/templates/shipping.zpl", dir / "shipping.zpl");
  auto lib = TemplateLibrary::loadDirectory(dir);
  ASSERT_TRUE(lib) << lib.error().describe();
  EXPECT_NE(lib->find("shipping"), nullptr);
  EXPECT_EQ(lib->find("nope"), nullptr);
  {
    std::ofstream bad(dir / "bad.zpl");
    bad << "# dpi: 203\n^XA^FO1,1^FD{{nope}}^FS^XZ\n";
  }
  auto broken = TemplateLibrary::loadDirectory(dir);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("bad.zpl"), std::string::npos);
  EXPECT_FALSE(TemplateLibrary::loadDirectory(dir / "missing"));
}

TEST(ZplEscape, HexRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  auto e = zpl::hexEscape(all);
  EXPECT_EQ(e.find('^'), std::string::npos);
  EXPECT_EQ(e.find('~'), std::string::npos);
  auto d = zpl::hexDecode(e);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, all);
  EXPECT_FALSE(zpl::hexDecode("_4"));
  EXPECT_FALSE(zpl::hexDecode("_G1"));
}

}  // namespace
}  // namespace floorlink::printers
