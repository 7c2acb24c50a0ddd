//===- ThreadsOption.h - --threads for the command-line tools ---*- C++ -*-===//
//
// libLLVM already registers a command-line option named "threads", so the
// tools take --threads N out of argv before llvm::cl parses the rest.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TOOLS_COMMON_THREADSOPTION_H
#define TESSEL_TOOLS_COMMON_THREADSOPTION_H

#include <cstdlib>
#include <string>
#include <vector>

namespace tessel::tools {

/// Removes every `--threads N` / `--threads=N` from `args` and stores N in
/// `threads`. Returns false with `error` set when N is missing or not a
/// number, or is 0 while `allowZero` is false.
inline bool extractThreads(std::vector<const char *> &args, unsigned &threads,
                           bool allowZero, std::string &error) {
  for (size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    size_t count = 1;
    if (arg == "--threads" || arg == "-threads") {
      if (i + 1 >= args.size()) {
        error = "--threads needs a number";
        return false;
      }
      value = args[i + 1];
      count = 2;
    } else if (arg.rfind("--threads=", 0) == 0) {
      value = arg.substr(10);
    } else {
      continue;
    }
    char *end = nullptr;
    unsigned long parsed = std::strtoul(value.c_str(), &end, 10);
    if (value.empty() || value[0] == '-' || *end != '\0' || (parsed == 0 && !allowZero)) {
      error = std::string("--threads takes a ") +
              (allowZero ? "non-negative" : "positive") + " number, got '" + value + "'";
      return false;
    }
    threads = static_cast<unsigned>(parsed);
    args.erase(args.begin() + i, args.begin() + i + count);
    --i;
  }
  return true;
}

} // namespace tessel::tools

#endif // TESSEL_TOOLS_COMMON_THREADSOPTION_H
