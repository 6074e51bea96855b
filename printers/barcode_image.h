#pragma once
// Internal to printers/: barcode symbols as grey images at a module width,
// shared by verification and preview.
#include <cstdint>
#include <vector>

#include <ZXing/BarcodeFormat.h>

#include "core/error.h"
#include "printers/zpl.h"

namespace floorlink::printers::detail {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // 8-bit grey, 0 = black
  int symbolWidthDots = 0;      // without quiet zone
  int quietLeft = 0, quietTop = 0;  // dots of quiet zone before the symbol
};

// 1D symbols come out 24 rows tall (callers stretch them); 2D ones square.
Result<Image> renderBarcode(const zpl::Barcode& barcode);
bool isGs1(zpl::Symbology s);
bool is2d(zpl::Symbology s);
// The ZXing format that writes (and reads back) a symbology.
ZXing::BarcodeFormat zxingFormat(zpl::Symbology s);

}  // namespace floorlink::printers::detail
