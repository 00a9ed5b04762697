// Bodies and launch math of the gate kernels on the device (launch seam: kernels/cuda/launch.h): one thread per
// row (a sample, or a sample's tree), running the row functions the CPU runs (kernels/gate_math.h) in the
// tensor's type as cpu:: does, so a host run gives cpu::'s bits. PerRowKernel<Op> is the one mechanism, a
// grid-stride loop over rows calling op(row); the Ops:
//   TopKRowOp               the k largest of a row of n gate logits (the Top-k gate's selection, moe/gate_topk.cpp:
//                           larger first, ties to the lower expert, experts written ascending)
//   TreeProbsOp             COMET's leaf reach probabilities p of a row of activations s (tree_forward_row)
//   TreeProbsBackwardOp     gs from gp (tree_backward_row)
//   PriorSoftmaxOp          COMET's leaf weights w = p exp(a) / sum p exp(a) (prior_softmax_row)
//   PriorSoftmaxBackwardOp  ga and gp from g (prior_softmax_backward_row)
// The tree's arrays reach the device as a RoutingTreeView (pointers instead of vectors); the row functions'
// scratch is a [rows, nodes + 1] buffer per array. The smooth-step between the node logits and s is
// SmoothStepKernel (elementwise_kernels.h). Launchers: kernels/cuda/gate.cu. Test: tests/kernels/test_cuda_gate.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cuda/launch.h"
#include "kernels/gate_math.h"

namespace comet::cuda {

template <class Op>
struct PerRowKernel : OnePhase<PerRowKernel<Op>> {
  int64_t rows;
  Op op;

  COMET_HD void run(const Thread& t) const {
    for (int64_t r = t.global(); r < rows; r += t.grid_threads()) op(r);
  }
};

// Whether expert e of row h ranks among the k largest: fewer than k experts come before it, a larger logit or an
// equal one at a lower index coming first.
template <class T>
COMET_HD bool in_top_k(int64_t n, int64_t k, const T* h, int64_t e) {
  int64_t before = 0;
  for (int64_t o = 0; o < n; ++o) before += h[o] > h[e] || (h[o] == h[e] && o < e);
  return before < k;
}

// index[r * k + j] = r * n + e_j, the flat indices of row r's k selected experts e_0 < e_1 < ... (1 <= k <= n).
// O(n^2) compares per row, for the gates' few experts.
template <class T>
struct TopKRowOp {
  int64_t n, k;
  const T* h;
  int64_t* index;

  COMET_HD void operator()(int64_t r) const {
    int64_t j = 0;
    for (int64_t e = 0; e < n; ++e)
      if (in_top_k(n, k, h + r * n, e)) index[r * k + j++] = r * n + e;
  }
};

// A RoutingTree's arrays behind pointers, with the members the row functions read.
struct RoutingTreeView {
  int32_t num_leaves, num_activations;
  bool left_takes_s;
  int32_t nodes;
  const int32_t* left;
  const int32_t* right;
  const int32_t* act;

  COMET_HD int32_t num_nodes() const { return nodes; }
  COMET_HD int64_t scratch() const { return nodes + 1; }  // entries of one row's scratch (as the CPU's)
};

// The view of `tree` whose arrays are `arrays`: left, right, act one after the other (tree_arrays's layout).
inline RoutingTreeView tree_view(const RoutingTree& tree, const int32_t* arrays) {
  const int32_t n = tree.num_nodes();
  return {tree.num_leaves, tree.num_activations, tree.left_takes_s, n, arrays, arrays + n, arrays + 2 * n};
}

// left, right and act of `tree` in one array, the layout tree_view reads.
inline std::vector<int32_t> tree_arrays(const RoutingTree& tree) {
  std::vector<int32_t> a(tree.left);
  a.insert(a.end(), tree.right.begin(), tree.right.end());
  a.insert(a.end(), tree.act.begin(), tree.act.end());
  return a;
}

template <class T>
struct TreeProbsOp {
  RoutingTreeView tree;
  const T* s;
  T* p;
  T* reach;  // [rows, tree.scratch()]

  COMET_HD void operator()(int64_t r) const {
    tree_forward_row<T>(tree, s + r * tree.num_activations, p + r * tree.num_leaves, reach + r * tree.scratch());
  }
};

template <class T>
struct TreeProbsBackwardOp {
  RoutingTreeView tree;
  const T* s;
  const T* gp;
  T* gs;
  T* reach;  // [rows, tree.scratch()] each
  T* below;

  COMET_HD void operator()(int64_t r) const {
    const int64_t o = r * tree.scratch();
    tree_backward_row<T>(tree, s + r * tree.num_activations, gp + r * tree.num_leaves, gs + r * tree.num_activations,
                         reach + o, below + o);
  }
};

template <class T>
struct PriorSoftmaxOp {
  int64_t cols;
  const T* a;
  const T* p;
  T* w;

  COMET_HD void operator()(int64_t r) const { prior_softmax_row<T>(cols, a + r * cols, p + r * cols, w + r * cols); }
};

// Null ga or gp is skipped.
template <class T>
struct PriorSoftmaxBackwardOp {
  int64_t cols;
  const T* a;
  const T* p;
  const T* w;
  const T* g;
  T* ga;
  T* gp;

  COMET_HD void operator()(int64_t r) const {
    const int64_t o = r * cols;
    prior_softmax_backward_row<T>(cols, a + o, p + o, w + o, g + o, ga ? ga + o : nullptr, gp ? gp + o : nullptr);
  }
};

}  // namespace comet::cuda
