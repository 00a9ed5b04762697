// Checkpoints of a multi-task MoE as safetensors files (readable by PyTorch users' tools): every named parameter
// (Mmoe::named_params), the slot permutation ("permutation.hard" i64 [n], "permutation.step" i64 [1]) and the model
// configuration in the metadata. Loading checks that the file was written for the same architecture: a missing,
// extra or differently shaped tensor is an error naming it, and the model is left unchanged.
// Writes are atomic (temporary file + rename). Test: tests/moe/test_checkpoint.cpp.
#pragma once
#include <string>

#include "moe/mmoe.h"

namespace comet::moe {

void save_checkpoint(const std::string& path, Mmoe& model);
void load_checkpoint(const std::string& path, Mmoe& model);

}  // namespace comet::moe
