// The template filler: no field value may change the label's structure
// (injection), and no template text may crash the loader or the filler.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "printers/label_template.h"
#include "printers/zpl.h"

using namespace floorlink::printers;

namespace {

constexpr std::string_view kTemplate =
    "# dpi: 203\n^XA^CI28^PW812\n^FO40,40^A0N,40,40^FD{{field.customer}}^FS\n"
    "^FO40,100^FH^FDRef {{field.customer}} {{station}}^FS\n"
    "^FO40,200^BY3^BCN,120,Y,N,N^FD{{field.customer}}^FS\n^XZ\n";

size_t commandCount(std::string_view zpl) { return zpl::tokenize(zpl).size(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    // Hostile value into a fixed template.
    static const auto t = LabelTemplate::parse("fuzz", kTemplate);
    if (!t) std::abort();
    static const size_t expected = [] {
      LabelValues v;
      v.fields["customer"] = "x";
      v.values["station"] = "s";
      return commandCount(*t->fill(v, 8));
    }();
    LabelValues v;
    v.fields["customer"] = std::string(in);
    v.values["station"] = "s";
    auto z = t->fill(v, (data[0] & 2) ? 12 : 8);
    if (!z) std::abort();
    if (commandCount(*z) != expected) std::abort();
    auto check = zpl::checkFormats(*z);
    if (!check.balanced || check.formats != 1) std::abort();
    auto layout = zpl::interpret(*z);
    if (!layout || layout->texts.empty() || layout->texts[0].text != in) std::abort();
    // In the Code 128 field too the value is data only: no invocation code
    // (">8" FNC1, ">;" subset C, …) from order data reaches the symbol.
    if (layout->barcodes.size() != 1 || layout->barcodes[0].symbology != zpl::Symbology::kCode128 ||
        layout->barcodes[0].content != in)
      std::abort();
  } else {
    // Any template text: load, fill with whatever it asks for, scale, read back.
    auto t = LabelTemplate::parse("fuzz", in);
    if (!t) return 0;
    LabelValues v;
    for (const auto& name : t->placeholders()) {
      if (name.starts_with("field.")) v.fields[name.substr(6)] = "^XZ~JA";
      else v.values[name] = "^XZ~JA";
    }
    auto z = t->fill(v, (data[0] & 2) ? 12 : 8);
    if (z) {
      if (z->find("^XZ~JA") != std::string::npos) std::abort();
      (void)zpl::interpret(*z);
    }
  }
  return 0;
}
