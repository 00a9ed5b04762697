// Tensors as NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
// Writes format version 1.0 (2.0 when the header is too long for 1.0); reads versions 1.0, 2.0 and 3.0.
// Little-endian, C order, dtypes '<f4' '<f8' '<i4' '<i8' (the markers '=' and '|' read as native order);
// a 0-d tensor has shape (). Malformed files throw comet::Error naming the file and the problem.
// Writes are atomic (core/io/atomic_file.h). Test: tests/core/test_io.cpp.
#pragma once
#include <string>

#include "core/tensor.h"

namespace comet::io {

void save_npy(const std::string& path, const Tensor& t);
Tensor load_npy(const std::string& path);

}  // namespace comet::io
