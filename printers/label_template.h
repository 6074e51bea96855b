#pragma once
// Label templates: ZPL files with {{named}} placeholders. Values are always
// hex-escaped with ^FH, so order data can never become ZPL commands.
//
//   # floorlink label template
//   # dpi: 203
//   ^XA^CI28
//   ^FO40,40^A0N,36,36^FD{{field.customer}}^FS
//   ^FO40,300^BY3^BCN,160,Y,N,N,D^FD(00){{sscc}}^FS
//   ^XZ
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/log.h"

namespace floorlink::printers {

// Values for one label. {{field.NAME}} reads `fields` (the task's label
// fields); every other placeholder reads `values` (sscc, date, station, …).
struct LabelValues {
  std::map<std::string, std::string> fields;
  std::map<std::string, std::string> values;
};

// Agent values a template may use besides field.*.
const std::vector<std::string>& knownValueNames();

// 152/203/300/600 dpi <-> 6/8/12/24 dots per mm; 0 when not a printhead resolution.
int dpiToDotsPerMm(int dpi);
int dotsPerMmToDpi(int dotsPerMm);

// Rescales coordinates, sizes and module widths of a ZPL stream. Fails when
// a barcode module width cannot be kept within 20% of its designed size.
Result<std::string> scaleZpl(std::string_view zpl, int fromDotsPerMm, int toDotsPerMm);

class LabelTemplate {
 public:
  // Validates: "# dpi:" header, balanced ^XA/^XZ, known placeholder names,
  // placeholders only inside field data. Adds ^CI28 and ^FH where missing.
  static Result<LabelTemplate> parse(std::string name, std::string_view text);
  static Result<LabelTemplate> load(const std::filesystem::path& file);

  const std::string& name() const { return name_; }
  int designDpi() const { return designDpi_; }
  int designDotsPerMm() const { return dpiToDotsPerMm(designDpi_); }
  // Placeholder names as written ("field.customer", "sscc").
  const std::set<std::string>& placeholders() const { return placeholders_; }
  bool uses(std::string_view placeholder) const { return placeholders_.contains(std::string(placeholder)); }

  // The ZPL to send to a printer with `printerDotsPerMm`. A missing value is
  // an error naming it; 0 dots/mm (resolution unknown) is refused.
  Result<std::string> fill(const LabelValues& values, int printerDotsPerMm) const;

 private:
  struct Piece {
    std::string text;         // literal ZPL, or the placeholder name
    bool placeholder = false;
    char indicator = '_';     // ^FH indicator of the field it sits in
    bool code128 = false;     // inside a ^BC field: '>' starts an invocation code
    char matrixEscape = 0;    // inside a ^BX quality 200 field: its escape character
  };
  std::string name_;
  int designDpi_ = 203;
  std::vector<Piece> pieces_;
  std::set<std::string> placeholders_;
};

// The templates of labels.templates_dir (*.zpl), by file stem.
class TemplateLibrary {
 public:
  // Loads every *.zpl file. A broken template is an error naming the file,
  // so a bad deployment is noticed at start-up, not at the first parcel.
  static Result<TemplateLibrary> loadDirectory(const std::filesystem::path& dir, Logger logger = {});
  void add(LabelTemplate t);
  const LabelTemplate* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, LabelTemplate, std::less<>> templates_;
};

}  // namespace floorlink::printers
