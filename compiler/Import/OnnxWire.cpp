//===- OnnxWire.cpp - Large initializers read in place from the file ------===//
//
// protobuf's parser copies every bytes field into a std::string of its
// own: VGG-16's 528 MB of weights, copied into fresh memory page by page,
// took a second before the importer saw a node. This scans the protobuf wire
// format of a ModelProto with protobuf's own field reader (CodedInputStream)
// and cuts the raw_data of the large float32 initializers out of a copy of
// the model's other bytes: the parser gets that skeleton, the importer reads
// those initializers' bytes where the file holds them.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporter.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>
#include <cstdint>

using namespace tessel;
using namespace tessel::detail;

namespace {

// The fields of onnx.proto that the scan follows, as its generated classes
// number them.
constexpr uint64_t kModelGraph = onnx::ModelProto::kGraphFieldNumber;
constexpr uint64_t kGraphInitializer = onnx::GraphProto::kInitializerFieldNumber;
constexpr uint64_t kTensorDataType = onnx::TensorProto::kDataTypeFieldNumber;
constexpr uint64_t kTensorRawData = onnx::TensorProto::kRawDataFieldNumber;
constexpr uint64_t kTensorDataLocation = onnx::TensorProto::kDataLocationFieldNumber;

using google::protobuf::internal::WireFormatLite;

/// One field of a message: its number, wire type, all its bytes (`whole`,
/// tag included), and its value (a varint) or payload (a length-delimited
/// field).
struct Field {
  uint64_t number = 0, type = 0, value = 0;
  llvm::StringRef whole, payload;
};

/// Reads the next field of `in`, which reads `message`, with protobuf's own
/// reader; false when the bytes are not a valid field (groups, which ONNX
/// never uses, included).
bool readField(google::protobuf::io::CodedInputStream &in, llvm::StringRef message,
               Field &field) {
  int start = in.CurrentPosition();
  uint32_t tag = in.ReadTag();
  if (tag == 0)
    return false;
  field.number = WireFormatLite::GetTagFieldNumber(tag);
  field.type = WireFormatLite::GetTagWireType(tag);
  uint32_t size32;
  uint64_t size64;
  switch (field.type) {
  case WireFormatLite::WIRETYPE_VARINT:
    if (!in.ReadVarint64(&field.value))
      return false;
    break;
  case WireFormatLite::WIRETYPE_FIXED64:
    if (!in.ReadLittleEndian64(&size64))
      return false;
    break;
  case WireFormatLite::WIRETYPE_FIXED32:
    if (!in.ReadLittleEndian32(&size32))
      return false;
    break;
  case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
    if (!in.ReadVarint32(&size32) || size32 > static_cast<uint32_t>(INT_MAX))
      return false;
    int at = in.CurrentPosition();
    if (!in.Skip(static_cast<int>(size32)))
      return false;
    field.payload = message.substr(at, size32);
    break;
  }
  default:
    return false;
  }
  field.whole = message.slice(start, in.CurrentPosition());
  return true;
}

/// Calls `each` on every field of `message`; false when one does not read
/// or `each` fails.
bool forEachField(llvm::StringRef message, llvm::function_ref<bool(const Field &)> each) {
  if (message.size() > static_cast<size_t>(INT_MAX))
    return false;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t *>(message.data()), static_cast<int>(message.size()));
  Field f;
  while (static_cast<size_t>(in.CurrentPosition()) < message.size())
    if (!readField(in, message, f) || !each(f))
      return false;
  return true;
}

/// Appends field `number` holding `payload`.
void appendLengthField(std::string &out, uint64_t number, llvm::StringRef payload) {
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteTag(WireFormatLite::MakeTag(static_cast<int>(number),
                                         WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  coded.WriteVarint64(payload.size());
  coded.WriteRaw(payload.data(), static_cast<int>(payload.size()));
}

struct Splitter {
  size_t minBytes;
  SplitModel &split;

  /// Records whether `tensor`'s raw_data is cut; when it is, `out` gets the
  /// tensor's other fields.
  bool tensor(llvm::StringRef tensor, bool &cut, std::string &out) {
    uint64_t dataType = 0, location = 0;
    std::optional<llvm::StringRef> raw; // the last one counts, as for the parser
    auto isRaw = [](const Field &f) {
      return f.number == kTensorRawData && f.type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    };
    auto isVarint = [](const Field &f, uint64_t number) {
      return f.number == number && f.type == WireFormatLite::WIRETYPE_VARINT;
    };
    if (!forEachField(tensor, [&](const Field &f) {
          if (isVarint(f, kTensorDataType))
            dataType = f.value;
          else if (isVarint(f, kTensorDataLocation))
            location = f.value;
          else if (isRaw(f))
            raw = f.payload;
          return true;
        }))
      return false;
    cut = raw && dataType == onnx::TensorProto::FLOAT &&
          location != onnx::TensorProto::EXTERNAL && raw->size() >= minBytes;
    split.rawData.push_back(cut ? *raw : llvm::StringRef());
    if (!cut)
      return true;
    return forEachField(tensor, [&](const Field &f) {
      if (!isRaw(f))
        out.append(f.whole.data(), f.whole.size());
      return true;
    });
  }

  /// Appends `message` to `out` with each length-delimited field `number`
  /// rewritten by `rewrite` (which reports whether it changed it).
  bool rewriteFields(llvm::StringRef message, uint64_t number, std::string &out,
                     llvm::function_ref<bool(llvm::StringRef, bool &, std::string &)> rewrite) {
    return forEachField(message, [&](const Field &f) {
      if (f.number != number || f.type != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        out.append(f.whole.data(), f.whole.size());
        return true;
      }
      std::string rewritten;
      bool changed = false;
      if (!rewrite(f.payload, changed, rewritten))
        return false;
      if (changed)
        appendLengthField(out, number, rewritten);
      else
        out.append(f.whole.data(), f.whole.size());
      return true;
    });
  }

  bool model(llvm::StringRef model) {
    return rewriteFields(model, kModelGraph, split.skeleton,
                         [&](llvm::StringRef graph, bool &changed, std::string &out) {
                           changed = true;
                           return rewriteFields(graph, kGraphInitializer, out,
                                                [&](llvm::StringRef t, bool &cut,
                                                    std::string &o) {
                                                  return tensor(t, cut, o);
                                                });
                         });
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
