// Builders of the two routing-tree layouts (see kernels/gate_math.h).
#include <functional>

#include "core/error.h"
#include "core/mutation.h"
#include "kernels/gate_math.h"

namespace comet {

RoutingTree comet_tree(int32_t n) {
  COMET_CHECK(n >= 1, "comet_tree: need at least one expert, got {}", n);
  RoutingTree t;
  t.num_leaves = n;
  t.num_activations = n - 1;
  t.left_takes_s = !COMET_MUTANT(tree_sides_swapped);
  t.left.assign(n - 1, 0);
  t.right.assign(n - 1, 0);
  t.act.resize(n - 1);
  int32_t next_leaf = 0;
  // Depth-first, left child first: leaves get their expert index in left-to-right order.
  std::function<int32_t(int32_t)> visit = [&](int32_t id) -> int32_t {
    if (id >= n - 1) return RoutingTree::leaf_ref(next_leaf++);
    t.act[id] = id;
    t.left[id] = visit(2 * id + 1);
    t.right[id] = visit(2 * id + 2);
    return id;
  };
  visit(0);
  return t;
}

RoutingTree dselect_trie(int32_t n) {
  COMET_CHECK(n >= 1, "dselect_trie: need at least one expert, got {}", n);
  int32_t m = 0;
  while ((int64_t(1) << m) < n) ++m;
  RoutingTree t;
  t.num_leaves = n;
  t.num_activations = m;
  t.left_takes_s = false;  // bit 1 (right) takes S
  // Pre-order numbering keeps parents before children.
  std::function<int32_t(int64_t, int32_t)> build = [&](int64_t prefix, int32_t depth) -> int32_t {
    if ((prefix << (m - depth)) >= n) return RoutingTree::kNone;  // every code below is unreachable
    if (depth == m) return RoutingTree::leaf_ref(static_cast<int32_t>(prefix));
    const int32_t id = t.num_nodes();
    t.act.push_back(depth);
    t.left.push_back(0);
    t.right.push_back(0);
    const int32_t l = build(2 * prefix, depth + 1);
    const int32_t r = build(2 * prefix + 1, depth + 1);
    t.left[id] = l;
    t.right[id] = r;
    return id;
  };
  build(0, 0);
  return t;
}

}  // namespace comet
