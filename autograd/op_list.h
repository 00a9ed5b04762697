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
    "prior_softmax", "grouped_linear", "combine_rows", "cast",       "select",      "linear",      "to_device",
};

}  // namespace comet::ag
