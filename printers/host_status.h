#pragma once
// Replies of ZPL printers to ~HS (host status), ~HI (host identification)
// and ~HQES (extended status). Framing: each string is <STX>…<ETX><CR><LF>.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace floorlink::printers {

struct HostStatus {
  // String 1: aaa,b,c,dddd,eee,f,g,h,iii,j,k,l
  int interfaceSettings = 0;
  bool paperOut = false;
  bool paused = false;
  int labelLengthDots = 0;
  int formatsInBuffer = 0;
  bool bufferFull = false;
  bool diagnosticMode = false;
  bool partialFormat = false;
  bool corruptRam = false;
  bool underTemperature = false;
  bool overTemperature = false;
  // String 2: mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www
  int functionSettings = 0;
  bool headOpen = false;
  bool ribbonOut = false;
  bool thermalTransfer = false;
  int printMode = 0;
  int printWidthMode = 0;
  bool labelWaiting = false;
  int64_t labelsRemaining = 0;
  int graphicsStored = 0;
  // String 3: xxxx,y
  int password = 0;
  bool staticRam = false;

  // A condition that stops printing, in plain words ("paper out, head open"); empty when none.
  std::string faults() const;
  // True when the printer has finished every format it was given.
  bool idle() const { return formatsInBuffer == 0 && labelsRemaining == 0 && !partialFormat; }
  // Builds the exact ~HS reply for this state (fake printer, tests).
  std::string reply() const;
};

struct HostIdentification {
  std::string model;     // "ZT410-203dpi"
  std::string firmware;  // "V75.20.01Z"
  int dotsPerMm = 0;     // 6, 8, 12 or 24
  std::string memory;    // "8192KB"
  std::string options;
  std::string reply() const;
};

struct ExtendedStatus {
  bool error = false;
  uint32_t errorFlags = 0;    // group 1: 1 media out, 2 ribbon out, 4 head open, 8 cutter fault, …
  bool warning = false;
  uint32_t warningFlags = 0;
  std::string faults() const;
  std::string reply() const;
};

// Parse complete replies (all frames, with STX/ETX/CR/LF). Errors are kParse
// with what was wrong; nothing is trusted from a reply that does not parse.
Result<HostStatus> parseHostStatus(std::string_view reply);
Result<HostIdentification> parseHostIdentification(std::string_view reply);
Result<ExtendedStatus> parseExtendedStatus(std::string_view reply);

// Frames in `buffer`: how many complete <STX>…<ETX> frames it holds and how
// many bytes they span (including trailing CR/LF).
struct FrameScan {
  int frames = 0;
  size_t bytes = 0;
};
FrameScan scanFrames(std::string_view buffer);

}  // namespace floorlink::printers
