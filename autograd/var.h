// Reverse-mode autograd. A Var is a handle to a Node holding a value, its gradient and, for op outputs,
// the backward closure that the op recorded next to its forward. backward(loss) walks the nodes reachable
// from the loss in reverse topological order, accumulates gradients (+=) into nodes that require them,
// and frees the graph (closures, links, intermediate gradients) as it goes. Ops skip gradients that no
// input needs, and record nothing under NoGradGuard. Tests: tests/autograd/test_tape.cpp.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace comet::ag {

struct Node;
using NodePtr = std::shared_ptr<Node>;
// A backward closure: reads self.grad (the gradient of the loss w.r.t. self.value) and calls
// accumulate_grad on the inputs that need it.
using BackwardFn = std::function<void(Node& self)>;

struct Node {
  Tensor value;
  Tensor grad;  // undefined until something flows in
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<NodePtr> inputs;
  BackwardFn backward;
  // A leaf's hook, called by backward() once the leaf's gradient is complete (every op that reads the leaf has run its
  // backward); e.g. an optimizer updating the parameter right there (Optimizer::update_in_backward).
  std::function<void(Node& self)> on_grad_ready;
  // A leaf's gradient taken in pieces (with on_grad_ready; Optimizer::update_in_backward): an op that computes the
  // leaf's whole gradient may hand it to take(begin, end, g), elements [begin, end) at g, from any thread, the pieces
  // disjoint and covering every element, instead of accumulating it into grad, which then stays undefined; begin()
  // runs first, on the calling thread. backward() allows it (pieces_allowed) only while the one op that reads the
  // leaf, once, runs its backward and the leaf has no gradient yet; an op checks gives_pieces(input).
  struct GradPieces {
    std::function<void(Node& self)> begin;
    std::function<void(int64_t begin, int64_t end, const void* g)> take;
  };
  GradPieces grad_pieces;
  bool pieces_allowed = false;

  bool is_leaf() const { return inputs.empty(); }
  // Whether input i of this op needs a gradient.
  bool needs(size_t i) const { return inputs[i]->requires_grad; }
};

class Var {
 public:
  Var() = default;
  explicit Var(Tensor value, bool requires_grad = false);
  explicit Var(NodePtr node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }  // parameters are updated in place by optimizers
  const Tensor& grad() const { return node_->grad; }
  Tensor& grad() { return node_->grad; }
  bool requires_grad() const { return node_->requires_grad; }
  const Shape& shape() const { return node_->value.shape(); }
  DType dtype() const { return node_->value.dtype(); }
  void zero_grad() { node_->grad = Tensor(); }
  const NodePtr& node() const { return node_; }

 private:
  NodePtr node_;
};

// A trainable leaf and a constant leaf.
inline Var param(Tensor t) { return Var(std::move(t), true); }
inline Var constant(Tensor t) { return Var(std::move(t), false); }

// Records an op output. If gradients are enabled and some input requires one, the node keeps the inputs and
// the closure; otherwise it is a constant.
Var record(const char* op, Tensor out, std::vector<Var> inputs, BackwardFn backward);

// node.grad += g. g must have node.value's shape and dtype. The first gradient is adopted without a copy when the
// caller hands over the only reference to its storage (a fresh temporary); otherwise it is copied.
void accumulate_grad(Node& node, Tensor g);

// node.grad[first_row : first_row + g.dim(0)] += g, for ops that read a block of rows of their input (the gradient
// outside the block stays zero). g has node.value's shape except in dim 0.
void accumulate_grad_rows(Node& node, int64_t first_row, const Tensor& g);

// Whether an op's backward may hand the gradient of `input` to input.grad_pieces (see Node::grad_pieces).
inline bool gives_pieces(const Node& input) { return input.pieces_allowed && input.grad_pieces.take != nullptr; }

// Runs the backward pass from `root`. With no seed the root must have one element and is seeded with 1. A leaf's
// on_grad_ready hook runs right after the backward of the last op (in the walk's order) that reads it.
void backward(const Var& root, const Tensor& seed = Tensor());

bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace comet::ag
