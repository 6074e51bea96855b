#pragma once
// Internal: the built-in preview font, 5x7 glyphs in a 6x8 cell.
#include <array>
#include <cstdint>

namespace floorlink::printers::detail {

// Rows top to bottom, bit 4 = leftmost column. Unknown characters get a box.
const std::array<uint8_t, 7>& glyph(char32_t c);

}  // namespace floorlink::printers::detail
