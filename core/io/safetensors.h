// Named tensors as safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header size N, N bytes of JSON {name: {"dtype": "F32"|"F64"|"I32"|"I64", "shape": [...], "data_offsets":
// [begin, end]}, "__metadata__": {str: str}} padded with spaces to a multiple of 8, then the data buffer
// (offsets relative to its start). The writer lays the tensors out in name order without gaps; the reader
// checks every offset, size and overlap and returns the tensors sorted by name (JSON objects have no order).
// Malformed files throw comet::Error naming the file and the problem. Writes are atomic
// (core/io/atomic_file.h). Test: tests/core/test_io.cpp.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace comet::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Names must be unique and not "__metadata__".
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});
NamedTensors load_safetensors(const std::string& path);
// The "__metadata__" map of a file (empty when it has none); the header is validated as by load_safetensors.
std::map<std::string, std::string> load_safetensors_metadata(const std::string& path);

}  // namespace comet::io
