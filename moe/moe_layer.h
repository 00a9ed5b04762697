// The MoE layer: y[b] = sum_e g[b, e] f_e(x[b]) for gate weights g [B, n] and experts f_e.
// Two paths with identical results:
//  - Dense (the reference): every expert on every sample, weighted by g's column.
//  - Sparse (the default): the (sample, expert) pairs with g != 0 are grouped by expert (histogram, prefix sum,
//    stable order; kernels/dispatch.h), rows are gathered into expert-contiguous order, each expert layer is one
//    grouped GEMM over the segments, and the experts' rows are combined back, weighted, into the samples' rows
//    (ag::combine_rows: each sample sums its pairs in expert order, deterministically). Backward
//    runs through the same grouping; experts without samples get zero gradients. Activation memory grows with the
//    number of pairs (about k B), not with n.
// Several gates over the same experts (the MMoE's one gate per task): each expert runs once on each sample that
// some gate routes to it (one dropout mask per (sample, expert), as in a dense MMoE), and every gate mixes those
// outputs. The sparse path dispatches the union of the gates' non-zero pairs; a gate's mixture then also carries the
// pairs where its own weight is 0, with a zero term, and its weights get the dense reference's gradient there.
// Tests: tests/moe/test_moe_layer.cpp, tests/moe/test_multi_gate.cpp.
#pragma once
#include "moe/experts.h"

namespace comet::moe {

enum class MoePath { Sparse, Dense };

ag::Var moe_forward(Experts& experts, const ag::Var& x, const ag::Var& gate_weights, MoePath path = MoePath::Sparse,
                    const ExpertMode& mode = {});
// One mixture per gate: result[t] = sum_e gate_weights[t][:, e] f_e(x). With one gate, moe_forward's bits.
std::vector<ag::Var> moe_forward(Experts& experts, const ag::Var& x, const std::vector<ag::Var>& gate_weights,
                                 MoePath path = MoePath::Sparse, const ExpertMode& mode = {});

// Routing statistics of a gate weight matrix g [B, n].
struct RoutingStats {
  double experts_per_sample = 0;  // mean number of non-zero weights per sample
  double within_k = 0;            // share of samples with at most k non-zero weights
  std::vector<double> usage;      // per expert: share of all (sample, expert) pairs
};
RoutingStats routing_stats(const Tensor& g, int64_t k);

// Per expert, 1 when some gate weight matrix [B, n] gives it a non-zero weight on some sample (it receives rows on
// the sparse path), else 0 (idle).
std::vector<uint8_t> experts_with_rows(const std::vector<Tensor>& gate_weights);

}  // namespace comet::moe
