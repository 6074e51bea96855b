#define ZX_USE_UTF8 1
#include "printers/barcode_image.h"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/CharacterSet.h>
#include <ZXing/MultiFormatWriter.h>
#include <fmt/format.h>
#include <zint.h>

#include <algorithm>
#include <memory>

#include "core/gs1.h"

namespace floorlink::printers::detail {

ZXing::BarcodeFormat zxingFormat(zpl::Symbology s) {
  switch (s) {
    case zpl::Symbology::kCode128:
    case zpl::Symbology::kGs1_128: return ZXing::BarcodeFormat::Code128;
    case zpl::Symbology::kCode39: return ZXing::BarcodeFormat::Code39;
    case zpl::Symbology::kEan13: return ZXing::BarcodeFormat::EAN13;
    case zpl::Symbology::kQrCode: return ZXing::BarcodeFormat::QRCode;
    case zpl::Symbology::kDataMatrix:
    case zpl::Symbology::kGs1DataMatrix: return ZXing::BarcodeFormat::DataMatrix;
  }
  return ZXing::BarcodeFormat::None;
}

bool isGs1(zpl::Symbology s) { return s == zpl::Symbology::kGs1_128 || s == zpl::Symbology::kGs1DataMatrix; }
bool is2d(zpl::Symbology s) {
  return s == zpl::Symbology::kQrCode || s == zpl::Symbology::kDataMatrix || s == zpl::Symbology::kGs1DataMatrix;
}

namespace {

Result<Image> encodeZxing(const zpl::Barcode& b) {
  int m = std::max(1, b.moduleWidth);
  ZXing::BitMatrix matrix;
  try {
    ZXing::MultiFormatWriter writer(zxingFormat(b.symbology));
    if (b.symbology == zpl::Symbology::kCode128 || b.symbology == zpl::Symbology::kGs1_128) {
      std::wstring w;
      if (b.symbology == zpl::Symbology::kGs1_128) w += L'\u00f1';  // FNC1 in first position
      for (unsigned char c : b.content) {
        if (c == 0x1d) {
          w += L'\u00f1';
          continue;
        }
        if (c >= 0x80)
          return fail(ErrorCode::kInvalidArgument, "Code 128 cannot carry non-ASCII text \"" + b.content + "\"");
        w += static_cast<wchar_t>(c);
      }
      matrix = writer.setMargin(10).encode(w, 0, 1);
    } else if (b.symbology == zpl::Symbology::kQrCode) {
      matrix = writer.setMargin(4).setEncoding(ZXing::CharacterSet::UTF8).encode(b.content, 0, 0);
    } else if (is2d(b.symbology)) {
      matrix = writer.setMargin(4).encode(b.content, 0, 0);
    } else {
      matrix = writer.setMargin(10).encode(b.content, 0, 1);
    }
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot be encoded as {}: {}", zpl::toString(b.symbology), e.what()));
  }
  Image img;
  bool twoD = is2d(b.symbology);
  img.width = matrix.width() * m;
  img.height = twoD ? matrix.height() * m : 24;
  img.pixels.assign(static_cast<size_t>(img.width) * img.height, 255);
  int left = matrix.width(), right = -1;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      int mx = x / m, my = twoD ? y / m : 0;
      if (matrix.get(mx, my)) {
        img.pixels[static_cast<size_t>(y) * img.width + x] = 0;
        left = std::min(left, mx);
        right = std::max(right, mx);
      }
    }
  img.symbolWidthDots = right >= left ? (right - left + 1) * m : 0;
  return img;
}

Result<Image> encodeZint(const zpl::Barcode& b) {
  auto elements = gs1::parse(b.content);
  if (!elements) return std::unexpected(elements.error());
  std::string input;
  for (const auto& e : elements->elements) input += "[" + e.ai + "]" + e.value;
  std::unique_ptr<zint_symbol, void (*)(zint_symbol*)> sym(ZBarcode_Create(), ZBarcode_Delete);
  if (!sym) return fail(ErrorCode::kInternal, "zint: out of memory");
  sym->symbology = BARCODE_DATAMATRIX;
  sym->input_mode = GS1_MODE;
  sym->scale = static_cast<float>(std::max(1, b.moduleWidth)) / 2.0f;  // zint raster: 2 px per module at scale 1
  sym->whitespace_width = 4;
  sym->whitespace_height = 4;
  int rc = ZBarcode_Encode_and_Buffer(sym.get(), reinterpret_cast<const unsigned char*>(input.data()),
                                      static_cast<int>(input.size()), 0);
  if (rc >= ZINT_ERROR)
    return fail(ErrorCode::kInvalidArgument, std::string("cannot be encoded as GS1 DataMatrix: ") + sym->errtxt);
  Image img;
  img.width = sym->bitmap_width;
  img.height = sym->bitmap_height;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = sym->bitmap[i * 3];
  img.symbolWidthDots = sym->width * std::max(1, b.moduleWidth);
  return img;
}

}  // namespace


Result<Image> renderBarcode(const zpl::Barcode& b) {
  auto img = b.symbology == zpl::Symbology::kGs1DataMatrix ? encodeZint(b) : encodeZxing(b);
  if (!img) return img;
  // Where the symbol starts inside its quiet zone, so callers place it at ^FO.
  int left = img->width, top = img->height;
  for (int y = 0; y < img->height; ++y)
    for (int x = 0; x < img->width; ++x)
      if (img->pixels[static_cast<size_t>(y) * img->width + x] < 128) {
        left = std::min(left, x);
        top = std::min(top, y);
      }
  img->quietLeft = left == img->width ? 0 : left;
  img->quietTop = top == img->height ? 0 : top;
  return img;
}

}  // namespace floorlink::printers::detail
