// The list of every differentiable op. tests/autograd/test_ops.cpp fails if an op here lacks a
// reference-vs-fast comparison or a gradient check (a missing backward cannot slip in unnoticed).
#pragma once

namespace comet::ag {

inline constexpr const char* kOpNames[] = {
    "matmul",   "relu",          "sigmoid",       "tanh",         "exp",         "log",
    "softplus", "add",           "sub",           "mul",          "div",         "scale",
    "sum",      "mean",          "softmax",       "log_softmax",  "mse",         "masked_mse",
    "bce_with_logits",           "cross_entropy", "gather_rows",  "scatter_add_rows",
    "embedding", "concat_cols",  "split_cols",    "reshape",      "flatten",     "dropout",
    "conv2d",   "maxpool2x2",    "bmm",           "transpose",    "smooth_step", "tree_probs",
    "prior_softmax", "grouped_linear", "cast",        "select",      "linear",      "to_device",
};

// The ops that run on a CUDA device (autograd/device.h); the others refuse device tensors with an error naming the
// tensor's shape and device. tests/autograd/test_ops.cpp runs every op case on the device (the host emulation of
// it without a GPU) and checks both halves of this list.
inline constexpr const char* kOpsOnCuda[] = {
    "matmul", "linear", "bmm", "relu", "sigmoid", "tanh", "exp",  "log", "softplus", "add", "sub",
    "mul",    "div",    "scale", "sum", "mean",   "mse",  "masked_mse", "reshape", "flatten", "to_device",
    "softmax", "log_softmax", "bce_with_logits", "cross_entropy", "smooth_step", "concat_cols", "split_cols",
    "transpose", "gather_rows", "scatter_add_rows", "embedding", "grouped_linear", "select",
    "tree_probs", "prior_softmax",
};

}  // namespace comet::ag
