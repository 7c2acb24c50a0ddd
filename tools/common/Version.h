//===- Version.h - --version for the command-line tools ---------*- C++ -*-===//
//
// Every tool prints Tessel's version and the LLVM it was built with.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TOOLS_COMMON_VERSION_H
#define TESSEL_TOOLS_COMMON_VERSION_H

#include "tessel/Version.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace tessel::tools {

/// The text of `TOOL --version`.
inline void printVersion(llvm::raw_ostream &os, const char *tool) {
  os << tool << " (Tessel) " TESSEL_VERSION_STRING "\n  built with LLVM " LLVM_VERSION_STRING
     << "\n";
}

/// Makes llvm::cl's --version print printVersion's text.
inline void setVersionPrinter(const char *tool) {
  llvm::cl::SetVersionPrinter([tool](llvm::raw_ostream &os) { printVersion(os, tool); });
}

} // namespace tessel::tools

#endif // TESSEL_TOOLS_COMMON_VERSION_H
