// The per-element and per-row math of the gate kernels, shared by the reference, CPU and CUDA kernels:
// the smooth-step S_gamma, routing trees (COMET's heap trees, DSelect-k's binary-code trie) in one array form,
// and the joint softmax with a prior.
//
// Smooth-step (Hazimeh et al. 2020; spec comet.md section 1): exactly 0 for t <= -gamma/2, exactly 1 for
// t >= gamma/2, the cubic -2t^3/gamma^3 + 3t/(2 gamma) + 1/2 in between; C^1, derivative 0 outside the open band.
//
// Internal nodes are numbered so that a parent comes before its children. Node v reads activation s[act[v]]
// (an entry of the per-tree activation vector) and sends f = s to one child and 1 - s to the other:
// `left_takes_s` (COMET: going left multiplies by S) or the right child takes s (DSelect-k: bit 1 => S).
// A child is an internal node (>= 0), a leaf (kLeaf - leaf index, i.e. <= -1) or absent (kNone: the mass is dropped,
// as for DSelect-k's unreachable codes when n is not a power of two). A tree with no internal node is one leaf.
// Tests: tests/autograd/cases_gate.cpp (via test_ops.cpp), tests/moe/test_gates.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/mutation.h"
#include "core/hd.h"

namespace comet {

// Both are written as plain selects over a cubic computed in u = t / gamma (-2u^3 + 3u/2 + 1/2 and (3/2 - 6u^2) / gamma),
// with no branch, so that the element loops vectorise: in a converged gate most t fall on either side of the band
// at random, and branches there were mispredicted about half the time.
template <class T>
COMET_HD T smooth_step(T t, T gamma) {
  const T u = t / gamma;
  const T cubic = COMET_MUTANT(smooth_step_cubic) ? T(1.9) : T(2);
  T y = u * (T(1.5) - cubic * u * u) + T(0.5);
  y = t <= -gamma / 2 ? T(0) : y;
  y = t >= gamma / 2 ? T(1) : y;
  return y;
}

template <class T>
COMET_HD T smooth_step_derivative(T t, T gamma) {
  const T u = t / gamma;
  T slope = (T(1.5) - T(6) * u * u) / gamma;
  if (COMET_MUTANT(smooth_step_slope)) slope *= T(1.05);
  slope = t <= -gamma / 2 ? T(0) : slope;
  slope = t >= gamma / 2 ? T(0) : slope;
  return slope;
}

struct RoutingTree {
  static constexpr int32_t kNone = INT32_MIN;
  static COMET_HD int32_t leaf_ref(int32_t leaf) { return -1 - leaf; }
  static COMET_HD bool is_leaf(int32_t child) { return child < 0 && child != kNone; }
  static COMET_HD int32_t leaf_of(int32_t child) { return -1 - child; }

  int32_t num_leaves = 1;       // experts (slots) the tree routes to
  int32_t num_activations = 0;  // length of the per-tree activation vector
  bool left_takes_s = true;
  std::vector<int32_t> left, right, act;  // one entry per internal node

  int32_t num_nodes() const { return static_cast<int32_t>(act.size()); }
};

// COMET (spec 3.2): heap ids, node q >= n - 1 is a leaf, leaf experts numbered in depth-first left-to-right order,
// node q reads activation q, left takes S.
RoutingTree comet_tree(int32_t num_experts);
// DSelect-k (spec 2.1): trie over the m = ceil(log2 n) bit MSB-first codes of 0..n-1; a node at depth l reads
// activation l; bit 1 (right) takes S; codes >= n are absent.
RoutingTree dselect_trie(int32_t num_experts);


// Leaf reach probabilities of one tree for one activation vector s: p[leaf] = product of the factors on its path.
// Subtrees whose reach probability is exactly 0 are not visited. `reach` is scratch of num_nodes entries.
// Tree: RoutingTree, or a view of its arrays with the same members (the CUDA kernels' RoutingTreeView).
template <class Acc, class T, class Tree>
COMET_HD void tree_forward_row(const Tree& t, const T* s, T* p, Acc* reach) {
  for (int32_t i = 0; i < t.num_leaves; ++i) p[i] = T(0);
  if (t.num_nodes() == 0) {
    p[0] = T(1);
    return;
  }
  for (int32_t v = 0; v < t.num_nodes(); ++v) reach[v] = Acc(0);
  reach[0] = Acc(1);
  for (int32_t v = 0; v < t.num_nodes(); ++v) {  // parents before children
    if (reach[v] == Acc(0)) continue;
    const Acc sv = s[t.act[v]];
    const Acc fl = t.left_takes_s ? sv : Acc(1) - sv;
    const int32_t child[2] = {t.left[v], t.right[v]};
    const Acc r[2] = {reach[v] * fl, reach[v] * (Acc(1) - fl)};
    for (int c = 0; c < 2; ++c) {
      if (child[c] == RoutingTree::kNone) continue;
      if (RoutingTree::is_leaf(child[c])) p[RoutingTree::leaf_of(child[c])] = static_cast<T>(r[c]);
      else reach[child[c]] = r[c];
    }
  }
}

// Gradient of sum(gp * p) w.r.t. s (overwrites gs). Exact for every s, including s at 0 or 1: with R(v) the reach of
// node v and T(v) = sum over leaves L below v of gp[L] * P(L | v), dL/ds[act v] += +-R(v) (T(left) - T(right)).
// Scratch: reach and below, num_nodes entries each.
template <class Acc, class T, class Tree>
COMET_HD void tree_backward_row(const Tree& t, const T* s, const T* gp, T* gs, Acc* reach, Acc* below) {
  for (int32_t a = 0; a < t.num_activations; ++a) gs[a] = T(0);
  const int32_t n = t.num_nodes();
  if (n == 0) return;
  reach[0] = Acc(1);
  for (int32_t v = 0; v < n; ++v) {
    const Acc sv = s[t.act[v]];
    const Acc fl = t.left_takes_s ? sv : Acc(1) - sv;
    if (t.left[v] >= 0) reach[t.left[v]] = reach[v] * fl;
    if (t.right[v] >= 0) reach[t.right[v]] = reach[v] * (Acc(1) - fl);
  }
  auto child_value = [&](int32_t c) -> Acc {
    if (c == RoutingTree::kNone) return Acc(0);
    return RoutingTree::is_leaf(c) ? Acc(gp[RoutingTree::leaf_of(c)]) : below[c];
  };
  for (int32_t v = n - 1; v >= 0; --v) {  // children before parents
    const Acc sv = s[t.act[v]];
    const Acc fl = t.left_takes_s ? sv : Acc(1) - sv;
    const Acc tl = child_value(t.left[v]), tr = child_value(t.right[v]);
    below[v] = fl * tl + (Acc(1) - fl) * tr;
    const Acc d = reach[v] * (tl - tr);
    gs[t.act[v]] = static_cast<T>(Acc(gs[t.act[v]]) + (t.left_takes_s ? d : -d));
  }
}

// The first slot at or after i whose prior is positive, or c. The prior-softmax rows below visit those slots (in a
// converged gate a few of the k n) through this scan, which holds no call to exp: a loop over every slot with exp
// behind a branch kept the row's running values on the stack and took 2.4 ns a slot (AMD EPYC Zen 5).
template <class T>
COMET_HD int64_t next_positive(int64_t c, const T* p, int64_t i) {
  while (i < c && !(p[i] > T(0))) ++i;
  return i;
}

// The shift m = max a_i over the slots with p_i > 0 (0 when there is none; `any` says whether there is one).
template <class Acc, class T>
COMET_HD Acc prior_shift(int64_t c, const T* a, const T* p, bool& any) {
  Acc m = Acc(0);
  any = false;
  for (int64_t i = next_positive(c, p, 0); i < c; i = next_positive(c, p, i + 1))
    if (!any || Acc(a[i]) > m) {
      m = a[i];
      any = true;
    }
  return m;
}

// Joint softmax with a prior (COMET's leaf weights, spec 3.3 step 5), one row of c entries:
//   w_i = p_i exp(a_i) / sum_j p_j exp(a_j)   (= softmax(a + log p), with w_i = 0 exactly where p_i = 0).
// A row whose p is all 0 gives w = 0. The sum runs over the slots with p_i > 0 in order (the others add nothing).
template <class Acc, class T>
COMET_HD void prior_softmax_row(int64_t c, const T* a, const T* p, T* w) {
  bool any = false;
  const Acc m = prior_shift<Acc>(c, a, p, any);
  Acc z = Acc(0);
  for (int64_t i = next_positive(c, p, 0); i < c; i = next_positive(c, p, i + 1))
    z += Acc(p[i]) * std::exp(Acc(a[i]) - m);
  for (int64_t i = 0; i < c; ++i) w[i] = T(0);
  for (int64_t i = next_positive(c, p, 0); i < c; i = next_positive(c, p, i + 1))
    w[i] = static_cast<T>(Acc(p[i]) * std::exp(Acc(a[i]) - m) / z);
}

// Backward of prior_softmax for one row: with u = sum_j w_j g_j,
//   dL/da_i = w_i (g_i - u),   dL/dp_i = exp(a_i - m) / Z' (g_i - u)   (= (w_i / p_i)(g_i - u), finite at p_i = 0),
// where m and Z' = sum_j p_j exp(a_j - m) are the forward's shift and normaliser. Null ga or gp is skipped. dL/dp
// needs exp(a_i - m) at every slot: when T holds Acc's values exactly, the exponentials are first written into gp
// by a loop that does nothing else, and Z' and dL/dp read them from there.
template <class Acc, class T>
COMET_HD void prior_softmax_backward_row(int64_t c, const T* a, const T* p, const T* w, const T* g, T* ga, T* gp) {
  bool any = false;
  const Acc m = prior_shift<Acc>(c, a, p, any);
  Acc u = Acc(0);
  for (int64_t i = 0; i < c; ++i) u += Acc(w[i]) * Acc(g[i]);
  if (ga)
    for (int64_t i = 0; i < c; ++i) ga[i] = static_cast<T>(Acc(w[i]) * (Acc(g[i]) - u));
  if (!gp) return;
  if (!any) {
    for (int64_t i = 0; i < c; ++i) gp[i] = T(0);
    return;
  }
  constexpr bool staged = std::is_same<Acc, T>::value;
  if (staged)
    for (int64_t i = 0; i < c; ++i) gp[i] = static_cast<T>(std::exp(Acc(a[i]) - m));
  const auto e = [&](int64_t i) -> Acc { return staged ? Acc(gp[i]) : std::exp(Acc(a[i]) - m); };
  Acc z = Acc(0);
  for (int64_t i = next_positive(c, p, 0); i < c; i = next_positive(c, p, i + 1)) z += Acc(p[i]) * e(i);
  for (int64_t i = 0; i < c; ++i) gp[i] = static_cast<T>(e(i) / z * (Acc(g[i]) - u));
}

}  // namespace comet
