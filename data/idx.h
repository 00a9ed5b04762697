// IDX files (the MNIST / Fashion-MNIST format), read and written, gzip-compressed or plain (told apart by the gzip magic bytes
// 1f 8b, not by the name). Header: big-endian magic 0x0000TTDD (TT = data type, DD = number of dimensions), then one
// big-endian uint32 per dimension, then the data row-major. Only unsigned bytes (TT = 0x08) are read: images are
// magic 0x00000803 [count, rows, cols], labels 0x00000801 [count]. Every malformed input is refused with a
// comet::Error naming the file and the field or byte offset. Test: tests/data/test_idx.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace comet::data {

struct IdxArray {
  uint32_t magic = 0;          // e.g. 0x00000803
  std::vector<int64_t> dims;   // e.g. {10000, 28, 28}
  std::vector<uint8_t> data;   // prod(dims) bytes, row-major

  int64_t count() const { return dims.empty() ? 0 : dims[0]; }  // items along dimension 0
  int64_t item_size() const;                                    // bytes per item: prod(dims[1:])
};

// Any unsigned-byte IDX file, gzip or plain.
IdxArray read_idx(const std::string& path);
// As read_idx, and the magic must be 0x00000803 (images [count, rows, cols]) or 0x00000801 (labels [count]).
IdxArray read_idx_images(const std::string& path);
IdxArray read_idx_labels(const std::string& path);

struct LabeledImages {
  IdxArray images;  // [n, rows, cols]
  IdxArray labels;  // [n]
};
// An image file and its label file; the counts must agree.
LabeledImages read_idx_labeled(const std::string& images_path, const std::string& labels_path);

// Writes a as an IDX file, gzip-compressed when `gzip` (whatever the name), e.g. a data subset or test fixture.
void write_idx(const std::string& path, const IdxArray& a, bool gzip);

// Items `rows` of a (copy), in that order: e.g. the images of one split.
IdxArray take_items(const IdxArray& a, const std::vector<int64_t>& rows);

}  // namespace comet::data
