//===- Progress.h - Compile progress on a terminal --------------*- C++ -*-===//
//
// A compile that takes more than a moment shows which phase it is in on
// stderr, on one line that is rewritten and cleared at the end, when stderr
// is a terminal; logs and pipes get nothing.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TOOLS_COMMON_PROGRESS_H
#define TESSEL_TOOLS_COMMON_PROGRESS_H

#include "tessel/Compiler.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace tessel::tools {

/// Shows `timing`'s phases as they start ("<tool>: <phase>...") once the
/// compile has run for half a second; clear() erases the line.
class CompileProgress {
public:
  CompileProgress(CompileTiming &timing, const char *tool)
      : tool(tool), start(std::chrono::steady_clock::now()) {
    if (!isatty(fileno(stderr)))
      return;
    timing.onPhaseStart = [this](const std::string &phase) {
      if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500))
        return;
      std::fprintf(stderr, "\r\033[K%s: %s...", this->tool, phase.c_str());
      std::fflush(stderr);
      shown = true;
    };
  }
  ~CompileProgress() { clear(); }
  CompileProgress(const CompileProgress &) = delete;
  CompileProgress &operator=(const CompileProgress &) = delete;

  void clear() {
    if (shown)
      std::fputs("\r\033[K", stderr);
    shown = false;
  }

private:
  const char *tool;
  std::chrono::steady_clock::time_point start;
  bool shown = false;
};

} // namespace tessel::tools

#endif // TESSEL_TOOLS_COMMON_PROGRESS_H
