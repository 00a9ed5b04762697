// safetensors reader and writer: the JSON header through nlohmann::json, then the raw little-endian data.
// Test: tests/core/test_io.cpp.
#include "core/io/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/io/atomic_file.h"

namespace comet::io {
namespace {

using nlohmann::json;

constexpr char kMetadataKey[] = "__metadata__";
constexpr int kMaxJsonDepth = 16;  // the format needs 3; deeper input is rejected before it costs memory

struct StType {
  DType dtype;
  const char* name;
};
constexpr StType kTypes[] = {
    {DType::F32, "F32"}, {DType::F64, "F64"}, {DType::I32, "I32"}, {DType::I64, "I64"}};

const char* st_name(DType dtype) {
  for (const StType& t : kTypes)
    if (t.dtype == dtype) return t.name;
  throw Error(fmt::format("save_safetensors: dtype {} has no safetensors name", dtype_name(dtype)));
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // byte range in the data buffer
};

struct Header {
  std::vector<Entry> entries;  // sorted by name
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // file offset of the data buffer
};

// Parses JSON, rejecting duplicate keys in any object (nlohmann would silently keep the last one).
json parse_json(const std::string& text, const InputFile& file) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  const auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) file.fail("the JSON header is nested deeper than {} levels", kMaxJsonDepth);
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second)
      file.fail("duplicate key '{}' in the JSON header", parsed.get<std::string>());
    return true;
  };
  try {
    return json::parse(text, callback);
  } catch (const json::exception& e) {
    file.fail("invalid JSON header: {}", e.what());
  }
}

uint64_t as_uint(const json& v, const std::string& tensor, const char* field, const InputFile& file) {
  if (v.is_number_integer() && !v.is_number_unsigned())
    file.fail("tensor '{}': negative value {} in {}", tensor, v.get<int64_t>(), field);
  if (!v.is_number_unsigned())
    file.fail("tensor '{}': {} must hold integers, got {}", tensor, field, v.dump());
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const json& v, const InputFile& file) {
  if (!v.is_object()) file.fail("tensor '{}': expected an object with dtype, shape and data_offsets", name);
  for (const auto& item : v.items())
    if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
      file.fail("tensor '{}': unexpected key '{}'", name, item.key());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) file.fail("tensor '{}': missing key '{}'", name, key);

  Entry e{name, DType::F32, {}, 0, 0};
  const json& dtype = v["dtype"];
  const auto type = std::find_if(std::begin(kTypes), std::end(kTypes),
                                 [&](const StType& t) { return dtype.is_string() && dtype == t.name; });
  if (type == std::end(kTypes))
    file.fail("tensor '{}': unsupported dtype {} (supported: F32, F64, I32, I64)", name, dtype.dump());
  e.dtype = type->dtype;

  if (!v["shape"].is_array()) file.fail("tensor '{}': shape must be an array", name);
  for (const json& d : v["shape"]) {
    const uint64_t dim = as_uint(d, name, "shape", file);
    if (dim > static_cast<uint64_t>(INT64_MAX))
      file.fail("tensor '{}': dimension {} is too large", name, dim);
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  const json& offsets = v["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    file.fail("tensor '{}': data_offsets must be [begin, end]", name);
  e.begin = as_uint(offsets[0], name, "data_offsets", file);
  e.end = as_uint(offsets[1], name, "data_offsets", file);
  return e;
}

std::map<std::string, std::string> parse_metadata(const json& v, const InputFile& file) {
  if (!v.is_object()) file.fail("{} must be an object of strings", kMetadataKey);
  std::map<std::string, std::string> out;
  for (const auto& item : v.items()) {
    if (!item.value().is_string()) file.fail("{} value of '{}' is not a string", kMetadataKey, item.key());
    out[item.key()] = item.value().get<std::string>();
  }
  return out;
}

// Each tensor's byte range matches its shape and lies in the buffer; together they tile it exactly.
void check_layout(const std::vector<Entry>& entries, uint64_t buffer_size, const InputFile& file) {
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) {
    if (e.begin > e.end)
      file.fail("tensor '{}': data_offsets [{}, {}] end before they begin", e.name, e.begin, e.end);
    if (e.end > buffer_size)
      file.fail(
          "tensor '{}': data_offsets [{}, {}] lie outside the data buffer of {} bytes (truncated file?)",
          e.name, e.begin, e.end, buffer_size);
    const std::optional<uint64_t> nbytes = checked_nbytes(e.shape, e.dtype);
    if (!nbytes) file.fail("tensor '{}': shape {} has too many elements", e.name, shape_str(e.shape));
    if (e.end - e.begin != *nbytes)
      file.fail("tensor '{}': shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", e.name,
                shape_str(e.shape), dtype_name(e.dtype), *nbytes, e.begin, e.end, e.end - e.begin);
    by_offset.push_back(&e);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : by_offset) {
    if (e->begin < pos)
      file.fail("tensors '{}' (bytes [{}, {})) and '{}' (bytes [{}, {})) overlap", prev->name, prev->begin,
                prev->end, e->name, e->begin, e->end);
    if (e->begin > pos)
      file.fail("{} unused bytes before tensor '{}' in the data buffer", e->begin - pos, e->name);
    pos = e->end;
    prev = e;
  }
  if (pos != buffer_size) file.fail("{} trailing bytes after the last tensor", buffer_size - pos);
}

Header read_header(const InputFile& file) {
  uint64_t n = 0;
  file.read(0, &n, sizeof n, "header size");
  if (n > file.size() - sizeof n)
    file.fail("header size {} is larger than the rest of the file ({} bytes)", n, file.size() - sizeof n);
  const json j = parse_json(file.read_string(sizeof n, n, "header"), file);
  if (!j.is_object()) file.fail("the JSON header is not an object");
  Header h;
  h.data_start = sizeof n + n;
  for (const auto& item : j.items()) {  // std::map order: sorted by name
    if (item.key() == kMetadataKey)
      h.metadata = parse_metadata(item.value(), file);
    else
      h.entries.push_back(parse_entry(item.key(), item.value(), file));
  }
  check_layout(h.entries, file.size() - h.data_start, file);
  return h;
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const char* op = "save_safetensors";
  std::vector<const NamedTensors::value_type*> order;
  for (const auto& nt : tensors) {
    if (nt.first == kMetadataKey) fail(op, path, "'{}' is reserved and cannot name a tensor", kMetadataKey);
    check_saveable(op, path, nt.second, fmt::format("tensor '{}'", nt.first));
    order.push_back(&nt);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->first == order[i - 1]->first)
      fail(op, path, "tensor name '{}' appears twice", order[i]->first);

  json header = json::object();
  std::vector<ByteSpan> pieces(1);  // pieces[0]: header size and header, filled in below
  uint64_t offset = 0;
  for (const auto* nt : order) {
    const Tensor& t = nt->second;
    header[nt->first] = {{"dtype", st_name(t.dtype())},
                         {"shape", t.shape()},
                         {"data_offsets", json::array({offset, offset + t.nbytes()})}};
    pieces.push_back({t.raw(), t.nbytes()});
    offset += t.nbytes();
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    fail(op, path, "cannot encode the header (names and metadata must be UTF-8): {}", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-byte aligned
  const uint64_t n = text.size();
  text.insert(0, reinterpret_cast<const char*>(&n), sizeof n);
  pieces[0] = {text.data(), text.size()};
  write_file_atomic(path, pieces, op);
}

NamedTensors load_safetensors(const std::string& path) {
  const InputFile file(path, "load_safetensors");
  const Header h = read_header(file);
  NamedTensors out;
  for (const Entry& e : h.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    file.read(h.data_start + e.begin, t.raw(), e.end - e.begin, "tensor data");
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  return read_header(InputFile(path, "load_safetensors_metadata")).metadata;
}

}  // namespace comet::io
