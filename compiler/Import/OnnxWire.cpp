//===- OnnxWire.cpp - Large initializers read in place from the file ------===//
//
// protobuf's parser copies every bytes field into a std::string of its
// own: VGG-16's 528 MB of weights, copied into fresh memory page by page,
// took a second before the importer saw a node. This scans the protobuf wire
// format of a ModelProto, which is simple and documented
// (protobuf.dev/programming-guides/encoding), and cuts the raw_data of the
// large float32 initializers out of a copy of the model's other bytes: the
// parser gets that skeleton, the importer reads those initializers' bytes
// where the file holds them.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporter.h"

#include <cstdint>

using namespace tessel;
using namespace tessel::detail;

namespace {

// Field numbers of onnx.proto that the scan follows.
constexpr uint64_t kModelGraph = 7;            // ModelProto.graph
constexpr uint64_t kGraphInitializer = 5;      // GraphProto.initializer
constexpr uint64_t kTensorDataType = 2;        // TensorProto.data_type
constexpr uint64_t kTensorRawData = 9;         // TensorProto.raw_data
constexpr uint64_t kTensorDataLocation = 14;   // TensorProto.data_location
constexpr uint64_t kFloat = 1, kExternal = 1;  // TensorProto.FLOAT, .EXTERNAL

enum WireType : uint64_t { Varint = 0, Fixed64 = 1, Length = 2, Fixed32 = 5 };

/// One field of a message: its number, wire type, all its bytes (`whole`,
/// tag included), and its value (a varint) or payload (a length-delimited
/// field).
struct Field {
  uint64_t number = 0, type = 0, value = 0;
  llvm::StringRef whole, payload;
};

bool readVarint(llvm::StringRef &rest, uint64_t &value) {
  value = 0;
  for (unsigned shift = 0; shift < 64 && !rest.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(rest.front());
    rest = rest.drop_front();
    value |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      return true;
  }
  return false;
}

/// Reads the next field of `rest`; false when the bytes are not a valid
/// field (groups, which ONNX never uses, included).
bool readField(llvm::StringRef &rest, Field &field) {
  const char *start = rest.data();
  uint64_t tag;
  if (!readVarint(rest, tag))
    return false;
  field.number = tag >> 3;
  field.type = tag & 7;
  switch (field.type) {
  case Varint:
    if (!readVarint(rest, field.value))
      return false;
    break;
  case Fixed64:
  case Fixed32: {
    size_t size = field.type == Fixed64 ? 8 : 4;
    if (rest.size() < size)
      return false;
    rest = rest.drop_front(size);
    break;
  }
  case Length: {
    uint64_t size;
    if (!readVarint(rest, size) || size > rest.size())
      return false;
    field.payload = rest.take_front(size);
    rest = rest.drop_front(size);
    break;
  }
  default:
    return false;
  }
  field.whole = llvm::StringRef(start, rest.data() - start);
  return true;
}

void appendVarint(std::string &out, uint64_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(static_cast<char>(value ? byte | 0x80 : byte));
  } while (value);
}

/// Appends field `number` holding `payload`.
void appendLengthField(std::string &out, uint64_t number, llvm::StringRef payload) {
  appendVarint(out, number << 3 | Length);
  appendVarint(out, payload.size());
  out.append(payload.data(), payload.size());
}

struct Splitter {
  size_t minBytes;
  SplitModel &split;

  /// Records whether `tensor`'s raw_data is cut; when it is, `out` gets the
  /// tensor's other fields.
  bool tensor(llvm::StringRef tensor, bool &cut, std::string &out) {
    uint64_t dataType = 0, location = 0;
    llvm::StringRef raw;
    bool hasRaw = false;
    Field f;
    for (llvm::StringRef rest = tensor; !rest.empty();) {
      if (!readField(rest, f))
        return false;
      if (f.number == kTensorDataType && f.type == Varint)
        dataType = f.value;
      else if (f.number == kTensorDataLocation && f.type == Varint)
        location = f.value;
      else if (f.number == kTensorRawData && f.type == Length) {
        raw = f.payload; // the last one counts, as for the parser
        hasRaw = true;
      }
    }
    cut = hasRaw && dataType == kFloat && location != kExternal && raw.size() >= minBytes;
    split.rawData.push_back(cut ? raw : llvm::StringRef());
    if (!cut)
      return true;
    for (llvm::StringRef rest = tensor; readField(rest, f);)
      if (!(f.number == kTensorRawData && f.type == Length))
        out.append(f.whole.data(), f.whole.size());
    return true;
  }

  bool graph(llvm::StringRef graph, std::string &out) {
    Field f;
    for (llvm::StringRef rest = graph; !rest.empty();) {
      if (!readField(rest, f))
        return false;
      if (f.number != kGraphInitializer || f.type != Length) {
        out.append(f.whole.data(), f.whole.size());
        continue;
      }
      std::string initializer;
      bool cut;
      if (!tensor(f.payload, cut, initializer))
        return false;
      if (cut)
        appendLengthField(out, kGraphInitializer, initializer);
      else
        out.append(f.whole.data(), f.whole.size());
    }
    return true;
  }

  bool model(llvm::StringRef model) {
    Field f;
    for (llvm::StringRef rest = model; !rest.empty();) {
      if (!readField(rest, f))
        return false;
      if (f.number != kModelGraph || f.type != Length) {
        split.skeleton.append(f.whole.data(), f.whole.size());
        continue;
      }
      std::string graphBytes;
      if (!graph(f.payload, graphBytes))
        return false;
      appendLengthField(split.skeleton, kModelGraph, graphBytes);
    }
    return true;
  }
};

} // namespace

std::optional<SplitModel> tessel::detail::splitLargeInitializers(llvm::StringRef model,
                                                                 size_t minBytes) {
  SplitModel split;
  if (!Splitter{minBytes, split}.model(model))
    return std::nullopt;
  return split;
}
