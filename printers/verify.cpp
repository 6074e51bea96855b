#define ZX_USE_UTF8 1
#include "printers/verify.h"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/CharacterSet.h>
#include <ZXing/MultiFormatWriter.h>
#include <ZXing/ReadBarcode.h>
#include <fmt/format.h>
#include <zint.h>

#include <cstring>
#include <memory>

#include "printers/barcode_image.h"
#include "core/gs1.h"

namespace floorlink::printers {
namespace {

using detail::isGs1;
using detail::is2d;
using detail::zxingFormat;

std::string intendedText(const zpl::Barcode& b) {
  if (isGs1(b.symbology)) {
    auto e = gs1::parse(b.content);
    return e ? e->toHri() : b.content;
  }
  if (b.symbology == zpl::Symbology::kEan13 && b.content.size() == 12) {
    auto c = gs1::checkDigit(b.content);
    return c ? b.content + static_cast<char>('0' + *c) : b.content;
  }
  return b.content;
}

BarcodeCheck check(const zpl::Barcode& b, const zpl::Layout& layout, const VerifyExpectations& expect) {
  BarcodeCheck out;
  out.index = b.index;
  out.symbology = b.symbology;
  out.intended = intendedText(b);
  auto problem = [&](std::string what) {
    out.ok = false;
    out.problem = b.describe() + ": " + what;
    return out;
  };
  auto img = detail::renderBarcode(b);
  if (!img) return problem(img.error().message);
  if (layout.widthDots > 0 && b.orientation == 'N' && b.x + img->symbolWidthDots > layout.widthDots)
    return problem(fmt::format("is {} dots wide at module width {} and does not fit the {}-dot label from x={}",
                               img->symbolWidthDots, b.moduleWidth, layout.widthDots, b.x));
  ZXing::DecodeHints hints;
  hints.setFormats(zxingFormat(b.symbology));
  hints.setTryHarder(true);
  auto r = ZXing::ReadBarcode(ZXing::ImageView(img->pixels.data(), img->width, img->height, ZXing::ImageFormat::Lum),
                              hints);
  if (!r.isValid())
    return problem(fmt::format("does not decode back at module width {} ({})", b.moduleWidth,
                               r.error() ? r.error().msg() : std::string("nothing found")));
  if (r.format() != zxingFormat(b.symbology))
    return problem(fmt::format("decodes as {} instead of {}", ZXing::ToString(r.format()), zpl::toString(b.symbology)));
  std::string text = r.text();
  if (isGs1(b.symbology)) {
    if (r.contentType() != ZXing::ContentType::GS1)
      return problem("decodes without the GS1 FNC1 marker: scanners would not read it as GS1");
    auto got = gs1::parse(text);
    auto want = gs1::parse(b.content);
    if (!got) return problem("decoded GS1 content is invalid: " + got.error().message);
    out.decoded = got->toHri();
    if (!want || *got != *want)
      return problem(fmt::format("decodes as {} but {} was intended", out.decoded, out.intended));
    for (const auto& e : got->elements) {
      if (e.ai == "00" && !expect.sscc.empty() && e.value != expect.sscc)
        return problem(fmt::format("carries SSCC {} but this job's SSCC is {}: the template's barcode data is wrong",
                                   e.value, expect.sscc));
    }
  } else {
    out.decoded = text;
    if (text != out.intended)
      return problem(fmt::format("decodes as \"{}\" but \"{}\" was intended", text, out.intended));
  }
  out.ok = true;
  return out;
}

}  // namespace

Verification verifyLabel(std::string_view zpl, const VerifyExpectations& expectations) {
  Verification v;
  auto layout = zpl::interpret(zpl);
  if (!layout) {
    v.reason = "label cannot be read back: " + layout.error().message;
    return v;
  }
  v.ok = true;
  if (!layout->unsupportedBarcodes.empty()) {
    v.ok = false;
    v.reason = "cannot verify " + layout->unsupportedBarcodes.front() +
               ": floorlink verifies Code 128, GS1-128, Code 39, EAN-13, QR Code and (GS1) DataMatrix";
  }
  for (const auto& b : layout->barcodes) {
    auto c = check(b, *layout, expectations);
    if (!c.ok && v.ok) {
      v.ok = false;
      v.reason = c.problem;
    }
    v.barcodes.push_back(std::move(c));
  }
  return v;
}

}  // namespace floorlink::printers
