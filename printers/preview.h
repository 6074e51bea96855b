#pragma once
// Label preview for technicians: renders ZPL (boxes, text in a built-in
// 5x7 bitmap font scaled to the ^A size, barcodes) to a PNG at the printer's
// resolution. It shows layout and barcode content; it is not a pixel-exact
// copy of Zebra's fonts.
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace floorlink::printers {

struct Raster {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // 8-bit grey, row-major, 0 = black
  bool black(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x] < 128; }
};

struct PreviewOptions {
  int dotsPerMm = 8;        // the printer's resolution (for the PNG's pHYs)
  int defaultWidth = 812;   // dots, when the label has no ^PW (4 in at 203 dpi)
  int defaultLength = 1218; // dots, when the label has no ^LL (6 in at 203 dpi)
};

Result<Raster> rasterizeLabel(std::string_view zpl, const PreviewOptions& options = {});
Result<std::vector<uint8_t>> encodePng(const Raster& raster, int dotsPerMm);
// rasterize + encode + write; the file is replaced atomically.
Status writeLabelPng(std::string_view zpl, const std::filesystem::path& out, const PreviewOptions& options = {});

}  // namespace floorlink::printers
