//===- DiskCache.cpp - Compiled code kept on disk between processes -------===//

#include "compiler/API/DiskCache.h"
#include "dialects/tessel/IR/Constants.h"
#include "tessel/Version.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

using namespace tessel;
using namespace tessel::detail;

void AlignedFree::operator()(void *p) const { std::free(p); }

AlignedBuffer detail::allocateAligned(size_t size, size_t alignment) {
  return AlignedBuffer(mlir::tessel::allocateConstantStorage(size, alignment));
}

const std::string &detail::getBuildIdentity() {
  static const std::string identity = [] {
    Dl_info info;
    if (!dladdr(reinterpret_cast<void *>(&getBuildIdentity), &info) || !info.dli_fname)
      return std::string("unknown build");
    llvm::SmallString<256> path(info.dli_fname);
    llvm::sys::fs::make_absolute(path);
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(path, status))
      return std::string(path);
    return std::string(path) + " " + std::to_string(status.getSize()) + " " +
           std::to_string(status.getLastModificationTime().time_since_epoch().count());
  }();
  return identity;
}

namespace {

/// The first bytes of an entry: the format, this build's version, the byte
/// order of the numbers that follow.
std::string header() {
  return std::string("tessel compile cache 1\n") + TESSEL_VERSION_STRING +
         (llvm::sys::IsLittleEndianHost ? "\nle\n" : "\nbe\n");
}

constexpr size_t kDigestBytes = 32;

/// Reads an entry's fields in order; any read past the end fails it.
struct Reader {
  llvm::StringRef rest;
  bool ok = true;
  uint64_t number() {
    uint64_t v = 0;
    if (rest.size() < sizeof v) {
      ok = false;
      return 0;
    }
    std::memcpy(&v, rest.data(), sizeof v);
    rest = rest.drop_front(sizeof v);
    return v;
  }
  llvm::StringRef bytes(uint64_t n) {
    if (rest.size() < n) {
      ok = false;
      return {};
    }
    llvm::StringRef b = rest.take_front(n);
    rest = rest.drop_front(n);
    return b;
  }
};

} // namespace

std::string detail::getCacheDirectory(const CompileOptions &options) {
  if (!options.cacheDir.empty())
    return options.cacheDir;
  if (const char *env = std::getenv("TESSEL_CACHE_DIR"))
    return env;
  return "";
}

static std::string entryPath(const std::string &dir, const std::string &key) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, key + ".tessel");
  return path.str().str();
}

std::optional<CompiledCode> detail::loadCachedCode(const std::string &dir,
                                                   const std::string &key) {
  auto buffer = llvm::MemoryBuffer::getFile(entryPath(dir, key), /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  llvm::StringRef all = (*buffer)->getBuffer();
  std::string expected = header();
  if (all.size() < expected.size() + kDigestBytes || !all.starts_with(expected))
    return std::nullopt;
  llvm::StringRef payload = all.drop_back(kDigestBytes);
  auto digest = llvm::BLAKE3::hash(llvm::arrayRefFromStringRef(payload));
  if (std::memcmp(digest.data(), all.take_back(kDigestBytes).data(), kDigestBytes) != 0)
    return std::nullopt;
  Reader r{payload.drop_front(expected.size())};
  CompiledCode code;
  uint64_t objects = r.number();
  for (uint64_t i = 0; r.ok && i < objects; ++i) {
    llvm::StringRef bytes = r.bytes(r.number());
    code.objects.emplace_back(bytes);
  }
  uint64_t constants = r.number();
  for (uint64_t i = 0; r.ok && i < constants; ++i) {
    CodeConstant c;
    c.symbol = r.bytes(r.number()).str();
    c.alignment = r.number();
    c.size = r.number();
    llvm::StringRef bytes = r.bytes(c.size);
    if (!r.ok || c.alignment == 0 || (c.alignment & (c.alignment - 1)) != 0 ||
        c.alignment > 4096)
      return std::nullopt;
    AlignedBuffer data = allocateAligned(c.size, c.alignment);
    if (!data)
      return std::nullopt;
    std::memcpy(data.get(), bytes.data(), c.size);
    c.data = std::move(data);
    code.constants.push_back(std::move(c));
  }
  if (!r.ok || !r.rest.empty())
    return std::nullopt;
  return code;
}

Status detail::storeCachedCode(const std::string &dir, const std::string &key,
                               const CompiledCode &code) {
  auto failed = [&](const std::string &what, std::error_code error) {
    return Status::error("cannot write to the compile cache '" + dir + "': " + what + ": " +
                         error.message());
  };
  if (std::error_code error = llvm::sys::fs::create_directories(dir))
    return failed("creating it", error);
  // A unique temporary file renamed into place: concurrent writers and
  // readers never see half an entry.
  int fd = -1;
  llvm::SmallString<256> temporary;
  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, key + ".%%%%%%%%.tmp");
  if (std::error_code error = llvm::sys::fs::createUniqueFile(model, fd, temporary))
    return failed("creating a file", error);
  {
    // Written and hashed piece by piece: no copy of the weights in memory.
    llvm::raw_fd_ostream file(fd, /*shouldClose=*/true);
    llvm::BLAKE3 hasher;
    auto put = [&](llvm::StringRef bytes) {
      file << bytes;
      hasher.update(llvm::arrayRefFromStringRef(bytes));
    };
    auto number = [&](uint64_t v) {
      put(llvm::StringRef(reinterpret_cast<const char *>(&v), sizeof v));
    };
    put(header());
    number(code.objects.size());
    for (const llvm::SmallString<0> &object : code.objects) {
      number(object.size());
      put(object.str());
    }
    number(code.constants.size());
    for (const CodeConstant &c : code.constants) {
      number(c.symbol.size());
      put(c.symbol);
      number(c.alignment);
      number(c.size);
      put(llvm::StringRef(c.data.get(), c.size));
    }
    auto digest = hasher.final();
    file.write(reinterpret_cast<const char *>(digest.data()), digest.size());
    file.close();
    if (file.has_error()) {
      std::error_code error = file.error();
      file.clear_error();
      llvm::sys::fs::remove(temporary);
      return failed("writing " + temporary.str().str(), error);
    }
  }
  if (std::error_code error = llvm::sys::fs::rename(temporary, entryPath(dir, key))) {
    llvm::sys::fs::remove(temporary);
    return failed("renaming " + temporary.str().str(), error);
  }
  return Status();
}
