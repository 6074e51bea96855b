#include "printers/preview.h"

#include <png.h>
#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>

#include "printers/barcode_image.h"
#include "printers/bitmap_font.h"
#include "core/gs1.h"
#include "printers/zpl.h"

namespace floorlink::printers {
namespace {

void fillRect(Raster& r, int x, int y, int w, int h, uint8_t value) {
  int x0 = std::max(0, x), y0 = std::max(0, y);
  int x1 = std::min(r.width, x + w), y1 = std::min(r.height, y + h);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) r.pixels[static_cast<size_t>(yy) * r.width + xx] = value;
}

// Decodes UTF-8 to code points; a broken sequence becomes U+FFFD (drawn as a box).
std::u32string utf32(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += cp;
    i += static_cast<size_t>(len);
  }
  return out;
}

void drawText(Raster& r, int x, int y, int height, int width, std::string_view text) {
  // A 6x8 cell scaled to the font size: ^A height is the cell height.
  double sy = std::max(1.0, height / 8.0);
  double sx = std::max(1.0, width / 6.0);
  int cx = x;
  for (char32_t c : utf32(text)) {
    const auto& g = detail::glyph(c);
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (g[row] & (0x10 >> col))
          fillRect(r, cx + static_cast<int>(col * sx), y + static_cast<int>(row * sy),
                   static_cast<int>(sx + 0.999), static_cast<int>(sy + 0.999), 0);
    cx += static_cast<int>(6 * sx);
  }
}

}  // namespace

Result<Raster> rasterizeLabel(std::string_view zpl, const PreviewOptions& options) {
  auto layout = zpl::interpret(zpl);
  if (!layout) return std::unexpected(layout.error());
  Raster r;
  r.width = layout->widthDots > 0 ? layout->widthDots : options.defaultWidth;
  r.height = layout->lengthDots > 0 ? layout->lengthDots : options.defaultLength;
  if (r.width <= 0 || r.height <= 0 || r.width > 20000 || r.height > 40000)
    return fail(ErrorCode::kInvalidArgument, fmt::format("label size {}x{} dots is not plausible", r.width, r.height));
  r.pixels.assign(static_cast<size_t>(r.width) * r.height, 255);
  for (const auto& b : layout->boxes) {
    uint8_t v = b.black ? 0 : 255;
    if (b.thickness * 2 >= std::min(b.width, b.height)) {
      fillRect(r, b.x, b.y, b.width, b.height, v);
    } else {
      fillRect(r, b.x, b.y, b.width, b.thickness, v);
      fillRect(r, b.x, b.y + b.height - b.thickness, b.width, b.thickness, v);
      fillRect(r, b.x, b.y, b.thickness, b.height, v);
      fillRect(r, b.x + b.width - b.thickness, b.y, b.thickness, b.height, v);
    }
  }
  for (const auto& t : layout->texts) drawText(r, t.x, t.y, t.height, t.width, t.text);
  for (const auto& b : layout->barcodes) {
    auto img = detail::renderBarcode(b);
    if (!img) return fail(img.error().code, b.describe() + ": " + img.error().message);
    bool twoD = detail::is2d(b.symbology);
    int rows = twoD ? img->height - 2 * img->quietTop : b.height;
    for (int y = 0; y < rows; ++y) {
      int srcY = twoD ? y + img->quietTop : img->height / 2;
      for (int x = 0; x + img->quietLeft < img->width; ++x) {
        if (img->pixels[static_cast<size_t>(srcY) * img->width + x + img->quietLeft] >= 128) continue;
        int px = b.x + x, py = b.y + y;
        if (px >= 0 && py >= 0 && px < r.width && py < r.height) r.pixels[static_cast<size_t>(py) * r.width + px] = 0;
      }
    }
    if (!twoD && b.humanReadable) {
      std::string hri = b.content;
      if (detail::isGs1(b.symbology)) {
        auto e = gs1::parse(b.content);
        if (e) hri = e->toHri();
      }
      drawText(r, b.x, b.y + b.height + 4, 20, 12, hri);
    }
  }
  return r;
}

Result<std::vector<uint8_t>> encodePng(const Raster& raster, int dotsPerMm) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) return fail(ErrorCode::kInternal, "libpng: cannot create writer");
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return fail(ErrorCode::kInternal, "libpng: encoding failed");
  }
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t len) {
        auto* v = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
        v->insert(v->end(), data, data + len);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(raster.width), static_cast<png_uint_32>(raster.height), 8,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (dotsPerMm > 0)
    png_set_pHYs(png, info, static_cast<png_uint_32>(dotsPerMm * 1000), static_cast<png_uint_32>(dotsPerMm * 1000),
                 PNG_RESOLUTION_METER);
  png_write_info(png, info);
  for (int y = 0; y < raster.height; ++y)
    png_write_row(png, const_cast<png_bytep>(raster.pixels.data() + static_cast<size_t>(y) * raster.width));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

Status writeLabelPng(std::string_view zpl, const std::filesystem::path& path, const PreviewOptions& options) {
  auto r = rasterizeLabel(zpl, options);
  if (!r) return std::unexpected(r.error());
  auto png = encodePng(*r, options.dotsPerMm);
  if (!png) return std::unexpected(png.error());
  auto tmp = path;
  tmp += ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return fail(ErrorCode::kIo, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  bool good = std::fwrite(png->data(), 1, png->size(), f) == png->size();
  good = std::fclose(f) == 0 && good;
  if (!good) return fail(ErrorCode::kIo, "cannot write " + tmp.string());
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
  return ok();
}

}  // namespace floorlink::printers
