#pragma once
// Barcode verification before printing: every barcode of the rendered label
// is encoded again at the label's module width (ZXing-C++ writer; zint for
// GS1 DataMatrix, which ZXing 1.4 cannot write) and decoded back with
// ZXing-C++. Text, symbology and GS1 content must equal what was intended.
#include <string>
#include <string_view>
#include <vector>

#include "printers/zpl.h"

namespace floorlink::printers {

struct BarcodeCheck {
  int index = 0;
  zpl::Symbology symbology = zpl::Symbology::kCode128;
  std::string intended;  // GS1 as "(00)…", else the text
  std::string decoded;   // what came back (GS1 as "(00)…")
  bool ok = false;
  std::string problem;   // plain words when not ok
};

struct Verification {
  bool ok = false;
  std::string reason;    // the first problem, naming the barcode
  std::vector<BarcodeCheck> barcodes;
};

struct VerifyExpectations {
  std::string sscc;      // when set, every GS1 (00) on the label must be this SSCC
};

// Never throws; a label that cannot be read as ZPL fails verification.
Verification verifyLabel(std::string_view zpl, const VerifyExpectations& expectations = {});

}  // namespace floorlink::printers
