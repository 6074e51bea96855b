#include <gtest/gtest.h>

#include "printers/label_template.h"
#include "printers/verify.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

constexpr const char* kSscc = "106141411234567897";

TEST(Verify, ShippingLabelBarcodesDecodeBack) {
  auto z = testing::shippingTemplate().fill(testing::shippingValues(), 8);
  ASSERT_TRUE(z);
  auto v = verifyLabel(*z, {.sscc = kSscc});
  ASSERT_TRUE(v.ok) << v.reason;
  ASSERT_EQ(v.barcodes.size(), 3u);
  EXPECT_EQ(v.barcodes[0].symbology, zpl::Symbology::kGs1_128);
  EXPECT_EQ(v.barcodes[0].decoded, "(420)10115");
  EXPECT_EQ(v.barcodes[1].decoded, std::string("(00)") + kSscc);
  EXPECT_EQ(v.barcodes[2].symbology, zpl::Symbology::kGs1DataMatrix);  // via zint
  EXPECT_EQ(v.barcodes[2].decoded, std::string("(00)") + kSscc);
}

TEST(Verify, CatchesATemplateWhoseBarcodeDataIsWrong) {
  // The designer pasted a sample SSCC into the barcode instead of {{sscc}}.
  auto t = LabelTemplate::parse("bad", "# dpi: 203\n^XA^PW812\n^FO40,40^A0N,30,30^FD{{sscc}}^FS\n"
                                       "^FO40,100^BY3^BCN,200,Y,N,N,D^FD(00)006141411234567890^FS\n^XZ\n");
  ASSERT_TRUE(t) << t.error().describe();
  LabelValues values;
  values.values["sscc"] = kSscc;
  auto z = t->fill(values, 8);
  ASSERT_TRUE(z);
  auto v = verifyLabel(*z, {.sscc = kSscc});
  ASSERT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("barcode 1"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("006141411234567890"), std::string::npos) << v.reason;
}

TEST(Verify, CatchesInvalidGs1DataAndUnencodableContent) {
  struct Case {
    const char* zpl;
    const char* expect;
  } cases[] = {
      // an extra digit pasted after the placeholder
      {"^XA^FO10,10^BY2^BCN,100,Y,N,N,D^FD(00)1061414112345678970^FS^XZ", "(00)"},
      {"^XA^FO10,10^BY2^BCN,100,Y,N,N,D^FD(01)09506000134353^FS^XZ", "check digit"},
      {"^XA^FO10,10^BY2^BEN,100,Y,N^FD4006381333932^FS^XZ", "EAN-13"},
      {"^XA^FO10,10^BY2^BCN,100,Y,N,N^FH^FDGr_C3_BC_C3_9Fe^FS^XZ", "non-ASCII"},
      {"^XA^PW400^FO300,10^BY3^BCN,100,Y,N,N,D^FD(00)106141411234567897^FS^XZ", "does not fit"},
  };
  for (const auto& c : cases) {
    auto v = verifyLabel(c.zpl, {});
    EXPECT_FALSE(v.ok) << c.zpl;
    EXPECT_NE(v.reason.find(c.expect), std::string::npos) << c.zpl << " -> " << v.reason;
  }
}

TEST(Verify, PlainSymbologiesRoundTrip) {
  auto v = verifyLabel("^XA^CI28^FO10,10^BY2^BCN,100,Y,N,N^FDORDER-42^FS"
                       "^FO10,200^BY2^B3N,N,100,Y,N^FDABC123^FS"
                       "^FO10,400^BY2^BEN,100,Y,N^FD400638133393^FS"
                       "^FO10,600^BQN,2,4^FH^FDQA,Gr_C3_BC_C3_9Fe _5EXZ^FS"
                       "^FO300,600^BXN,5,200^FDplain dm^FS^XZ");
  ASSERT_TRUE(v.ok) << v.reason;
  ASSERT_EQ(v.barcodes.size(), 5u);
  EXPECT_EQ(v.barcodes[2].decoded, "4006381333931");
  EXPECT_EQ(v.barcodes[3].decoded, "Grüße ^XZ");
}

TEST(Verify, RefusesBarcodesItCannotCheck) {
  auto v = verifyLabel("^XA^FO10,20^B7N,5,5,,,N^FDpdf^FS^XZ");
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("^B7 at 10,20"), std::string::npos) << v.reason;
}

TEST(Verify, UnreadableLabelFails) {
  auto v = verifyLabel("^XA^FO1,1^FH^FD_ZZ^FS^XZ");
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("^FH"), std::string::npos) << v.reason;
}

}  // namespace
}  // namespace floorlink::printers
