// The differentiable ops. Each op's forward and backward live side by side in one autograd/ops_*.cpp file and
// call the kernels of kernels/ (fast or reference, see kernels/backend.h). Every op works on F32 and F64
// (F64 is how the gradient checker runs them). Matrices are 2-D row-major; "rows" are samples.
// Every op named here is listed in autograd/op_list.h, and tests/autograd/ fail if one lacks a
// reference comparison or a gradient check.
#pragma once
#include <optional>
#include <vector>

#include "autograd/var.h"
#include "core/rng.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/gate_math.h"

namespace comet::ag {

// ---- ops_linalg.cpp
// op(a) @ op(b) for 2-D a, b.
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
// x [B, in] @ w [in, out] + b [out] in one pass (the bias is the GEMM's starting value).
Var linear(const Var& x, const Var& w, const Var& b);
// Batched product: a [G, M, K] @ b [G, K, N] -> [G, M, N].
Var bmm(const Var& a, const Var& b);
// 2-D transpose (a copy).
Var transpose(const Var& x);

// ---- ops_device.cpp
// A copy of x on `device` (x itself when it is there already); the gradient goes back to x's device. An op's inputs
// must share one device (autograd/device.h).
Var to_device(const Var& x, Device device);

// ---- ops_elementwise.cpp
Var unary(Unary op, const Var& x);
inline Var relu(const Var& x) { return unary(Unary::Relu, x); }
inline Var sigmoid(const Var& x) { return unary(Unary::Sigmoid, x); }
inline Var tanh(const Var& x) { return unary(Unary::Tanh, x); }
inline Var exp(const Var& x) { return unary(Unary::Exp, x); }
inline Var log(const Var& x) { return unary(Unary::Log, x); }
inline Var softplus(const Var& x) { return unary(Unary::Softplus, x); }
// a op b with a of shape [..., C] seen as R x C, and b broadcast onto it: b of the same shape, b of shape [C]
// or [1, C] (per column: bias add), b of shape [R, 1] (per row), or b with one element. Result: a's shape.
Var binary(Binary op, const Var& a, const Var& b);
inline Var add(const Var& a, const Var& b) { return binary(Binary::Add, a, b); }
inline Var sub(const Var& a, const Var& b) { return binary(Binary::Sub, a, b); }
inline Var mul(const Var& a, const Var& b) { return binary(Binary::Mul, a, b); }
inline Var div(const Var& a, const Var& b) { return binary(Binary::Div, a, b); }
Var scale(const Var& x, double alpha);
// Converting copy to another floating dtype (e.g. a double-precision sub-computation); the gradient converts back.
Var cast(const Var& x, DType dtype);

// ---- ops_reduce.cpp
// Over::All -> shape [] ; Over::Rows (sum down each column) -> [1, C] ; Over::Cols (along each row) -> [R, 1].
enum class Over { All, Rows, Cols };
Var sum(const Var& x, Over over = Over::All);
Var mean(const Var& x, Over over = Over::All);

// ---- ops_softmax.cpp (row-wise, numerically stable)
Var softmax(const Var& x);
Var log_softmax(const Var& x);

// ---- ops_loss.cpp (each returns the mean over its elements or rows as a 0-d tensor)
Var mse(const Var& pred, const Var& target);
// Mean of (pred - target)^2 over elements whose mask is 1 (mask: 0/1 of pred's shape, a constant);
// 0 when the mask is empty.
Var masked_mse(const Var& pred, const Var& target, const Tensor& mask);
Var bce_with_logits(const Var& logits, const Var& target);
// logits [B, C], labels [B] (i32/i64) in [0, C).
Var cross_entropy(const Var& logits, const Tensor& labels);

// ---- ops_index.cpp (the MoE dispatch primitives; gather and scatter-add are each other's backward)
// out[i] = x[index[i]]: x [N, D], index [M] -> [M, D].
Var gather_rows(const Var& x, const Tensor& index);
// out[index[i]] += src[i]: src [M, D], index [M] -> [num_rows, D]. Deterministic (no float atomics).
Var scatter_add_rows(const Var& src, const Tensor& index, int64_t num_rows);
// Embedding lookup: table [V, D], ids [B] -> [B, D]; backward scatter-adds into the table.
Var embedding(const Var& table, const Tensor& ids);
Var concat_cols(const std::vector<Var>& parts);                   // [R, C_i] -> [R, sum C_i]
std::vector<Var> split_cols(const Var& x, const std::vector<int64_t>& sizes);
Var reshape(const Var& x, const Shape& shape);
// x[index] for x [n, ...]: shape [...] (e.g. one expert's weights from a stacked [n, in, out] tensor); the gradient
// lands in that block only.
Var select(const Var& x, int64_t index);
Var flatten(const Var& x);  // [N, ...] -> [N, prod(...)]

// ---- ops_nn.cpp
// Inverted dropout: keeps each element with probability 1 - p and scales it by 1 / (1 - p); identity when
// not training or p == 0. The mask comes from `gen` (seeded, thread-count independent).
Var dropout(const Var& x, double p, Generator& gen, bool training);
// x [N, C, H, W], weight [O, C, KH, KW], bias [O] (optional); stride 1, zero padding `pad` on each side.
Var conv2d(const Var& x, const Var& weight, const std::optional<Var>& bias, int64_t pad);
// 2x2 max-pool with stride 2 (H and W must be even); ties go to the first element in row-major order.
Var maxpool2x2(const Var& x);

// ---- ops_gate.cpp (the gates' building blocks; math in kernels/gate_math.h)
// Smooth-step S_gamma elementwise (exact 0 / 1 outside the band, zero gradient there).
Var smooth_step(const Var& x, double gamma);
// Leaf reach probabilities of a routing tree: s [..., tree.num_activations] -> p [..., tree.num_leaves].
Var tree_probs(const Var& s, const RoutingTree& tree);
// Row-wise joint softmax with a prior: a, p [..., C] -> w = p exp(a) / sum(p exp(a)) = softmax(a + log p), exactly 0
// where p = 0; the gradient w.r.t. p is finite there too.
Var prior_softmax(const Var& a, const Var& p);

// ---- ops_moe.cpp (the sparse MoE's expert compute and combine; kernels in kernels/grouped_gemm.h, kernels/index.h)
// Rows [offsets[e], offsets[e+1]) of x [M, in] go through expert e: y = x W_e + b_e, with W [n, in, out],
// b [n, out], offsets n + 1 non-decreasing entries from 0 to M. Experts with no rows get zero gradients.
Var grouped_linear(const Var& x, const Var& w, const Var& b, const std::vector<int64_t>& offsets);
// The experts' rows weighted back into the samples': ys [plan.pairs(), d] (pair p's row, in the plan's order),
// g [plan.batch, plan.experts] -> y [plan.batch, d], y[b] = sum of g[b, e] ys[p] over b's pairs (b, e) in expert
// order. The bits of scatter_add_rows(mul(ys, gather_rows(reshape(g, [B n, 1]), flat)), sample, B), forward and
// backward, without their intermediate rows; g's entries outside the plan get zero gradient.
Var combine_rows(const Var& ys, const Var& g, const DispatchPlan& plan);

}  // namespace comet::ag
