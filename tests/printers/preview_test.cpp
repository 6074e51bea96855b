#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>
#include <gtest/gtest.h>

#include <fstream>

#include "printers/preview.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

TEST(Preview, RendersBoxesTextAndDecodableBarcodesAtPrinterResolution) {
  auto z = testing::shippingTemplate().fill(testing::shippingValues("Zoë"), 12);
  ASSERT_TRUE(z);
  auto r = rasterizeLabel(*z, {.dotsPerMm = 12});
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->width, 1218);   // ^PW812 at 203 dpi scaled to 300 dpi
  EXPECT_EQ(r->height, 1827);
  // The frame (^GB at 30,30, 5 dots thick) is black, the inside white.
  EXPECT_TRUE(r->black(32, 500));
  EXPECT_FALSE(r->black(45, 500));
  // The SSCC barcode in the preview (rows 870-1170 at 300 dpi) decodes to the label's SSCC.
  ZXing::DecodeHints hints;
  hints.setFormats(ZXing::BarcodeFormat::Code128);
  hints.setTryHarder(true);
  auto found = ZXing::ReadBarcode(
      ZXing::ImageView(r->pixels.data() + 860 * r->width, r->width, 320, ZXing::ImageFormat::Lum), hints);
  ASSERT_TRUE(found.isValid());
  EXPECT_EQ(found.text(), "00106141411234567897");
  EXPECT_EQ(found.symbologyIdentifier(), "]C1");
}

TEST(Preview, WritesAPng) {
  auto z = testing::shippingTemplate().fill(testing::shippingValues(), 8);
  ASSERT_TRUE(z);
  auto dir = testing::tempDir("preview");
  auto out = dir / "label.png";
  ASSERT_TRUE(writeLabelPng(*z, out, {.dotsPerMm = 8}));
  std::ifstream in(out, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(std::filesystem::file_size(out), 1000u);
}

TEST(Preview, BadLabelIsAnError) {
  EXPECT_FALSE(rasterizeLabel("^XA^PW99999^LL99999^XZ"));
  EXPECT_FALSE(rasterizeLabel("^XA^FO1,1^FH^FD_Q^FS^XZ"));
}

}  // namespace
}  // namespace floorlink::printers
