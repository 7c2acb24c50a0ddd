//===- State.cpp - nn::save and nn::load as NumPy .npz --------------------===//
//
// An .npz is a zip archive of one .npy file per array, named "<key>.npy";
// np.savez stores them uncompressed, np.savez_compressed deflates them.
// libzip reads both and writes the archive to a temporary file that it
// renames into place on success, so a failed save leaves no partial file.
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Module.h"

#include "compiler/API/NpyFormat.h"

#include <zip.h>

#include <cstring>
#include <map>
#include <sstream>

using namespace tessel;
using namespace tessel::nn;

namespace {

std::string zipMessage(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message = zip_error_strerror(&error);
  zip_error_fini(&error);
  return message;
}

/// Items joined for a message, at most 10 of them.
std::string joined(const std::vector<std::string> &names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 10; ++i)
    out += (i ? ", " : "") + names[i];
  if (names.size() > 10)
    out += " and " + std::to_string(names.size() - 10) + " more";
  return out;
}

} // namespace

Status nn::save(const Module &module, const std::string &path) {
  std::vector<NamedTensor> state = module.stateDict();
  for (const NamedTensor &entry : state)
    if (entry.value.empty())
      return Status::error("nn::save: '" + entry.name + "' is empty");
  int code = 0;
  zip_t *archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!archive)
    return Status::error("nn::save: cannot write '" + path + "': " + zipMessage(code));
  // libzip reads the buffers when the archive is closed.
  std::vector<std::string> files;
  files.reserve(state.size());
  for (const NamedTensor &entry : state) {
    files.push_back(encodeNpy(entry.value));
    zip_source_t *source =
        zip_source_buffer(archive, files.back().data(), files.back().size(), 0);
    zip_int64_t index = source ? zip_file_add(archive, (entry.name + ".npy").c_str(), source,
                                              ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE)
                               : -1;
    if (index < 0 || zip_set_file_compression(archive, index, ZIP_CM_STORE, 0) < 0) {
      std::string message = zip_strerror(archive);
      if (source && index < 0)
        zip_source_free(source);
      zip_discard(archive);
      return Status::error("nn::save: cannot add '" + entry.name + "' to '" + path +
                           "': " + message);
    }
  }
  if (zip_close(archive) < 0) {
    std::string message = zip_strerror(archive);
    zip_discard(archive);
    return Status::error("nn::save: writing '" + path + "' failed: " + message);
  }
  return Status();
}

Status nn::load(Module &module, const std::string &path) {
  int code = 0;
  zip_t *archive = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!archive)
    return Status::error("nn::load: cannot read '" + path + "': " + zipMessage(code));
  std::map<std::string, Tensor> file;
  Status status;
  zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count && status.ok(); ++i) {
    zip_stat_t stat;
    if (zip_stat_index(archive, i, 0, &stat) < 0 || !(stat.valid & ZIP_STAT_NAME) ||
        !(stat.valid & ZIP_STAT_SIZE)) {
      status = Status::error("nn::load: '" + path + "' has an unreadable entry");
      break;
    }
    std::string name = stat.name;
    std::string what = "'" + path + "' entry '" + name + "'";
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      status = Status::error("nn::load: " + what + " is not a .npy array");
      break;
    }
    // Larger than any tensor Tessel may hold: refuse before allocating.
    if (stat.size > (uint64_t(1) << 47)) {
      status = Status::error("nn::load: " + what + " is too large");
      break;
    }
    std::string bytes(stat.size, '\0');
    zip_file_t *entry = zip_fopen_index(archive, i, 0);
    zip_int64_t read = entry ? zip_fread(entry, bytes.data(), stat.size) : -1;
    if (entry)
      zip_fclose(entry);
    if (read != static_cast<zip_int64_t>(stat.size)) {
      status = Status::error("nn::load: " + what + " cannot be read: " + zip_strerror(archive));
      break;
    }
    std::istringstream in(std::move(bytes));
    auto tensor = parseNpy(in, what);
    if (!tensor)
      status = Status::error("nn::load: " + tensor.message());
    else
      file.emplace(name.substr(0, name.size() - 4), *tensor);
  }
  zip_discard(archive);
  if (!status.ok())
    return status;

  std::vector<NamedTensor> state = module.stateDict();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const NamedTensor &entry : state) {
    auto it = file.find(entry.name);
    if (it == file.end())
      missing.push_back("'" + entry.name + "'");
    else if (it->second.shape() != entry.value.shape())
      mismatched.push_back("'" + entry.name + "' (file " + it->second.shapeString() + ", module " +
                           entry.value.shapeString() + ")");
  }
  for (const auto &entry : file)
    if (std::none_of(state.begin(), state.end(),
                     [&](const NamedTensor &e) { return e.name == entry.first; }))
      unexpected.push_back("'" + entry.first + "'");
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string message = "nn::load: '" + path + "' does not match " + module.describe() + ":";
    if (!missing.empty())
      message += " missing " + joined(missing) + ";";
    if (!unexpected.empty())
      message += " unexpected " + joined(unexpected) + ";";
    if (!mismatched.empty())
      message += " shape mismatch " + joined(mismatched) + ";";
    message.pop_back();
    return Status::error(message + "; nothing was loaded");
  }
  for (NamedTensor &entry : state) {
    const Tensor &source = file.at(entry.name);
    // A module's tensors are contiguous: its constructor made them.
    std::memcpy(entry.value.data(), source.data(), source.numElements() * sizeof(float));
  }
  return Status();
}
