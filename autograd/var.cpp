// The tape: recording, gradient accumulation and the backward walk.
#include "autograd/var.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/device.h"
#include "kernels/elementwise.h"

namespace comet::ag {
namespace {
thread_local bool g_grad_enabled = true;
}

Var::Var(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  COMET_CHECK(value.defined(), "Var: undefined tensor");
  COMET_CHECK(!requires_grad || value.dtype() == DType::F32 || value.dtype() == DType::F64,
              "Var: only floating tensors can require a gradient (got {} of shape {})", dtype_name(value.dtype()),
              shape_str(value.shape()));
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Var record(const char* op, Tensor out, std::vector<Var> inputs, BackwardFn backward) {
  auto node = std::make_shared<Node>();
  node->value = std::move(out);
  node->op = op;
  if (!g_grad_enabled) return Var(node);
  bool any = false;
  for (const Var& v : inputs) any = any || v.requires_grad();
  if (!any) return Var(node);
  node->requires_grad = true;
  node->inputs.reserve(inputs.size());
  for (const Var& v : inputs) node->inputs.push_back(v.node());
  node->backward = std::move(backward);
  return Var(node);
}

void accumulate_grad(Node& node, Tensor g) {
  COMET_CHECK(g.shape() == node.value.shape() && g.dtype() == node.value.dtype() &&
                  g.device() == node.value.device(),
              "backward of {}: gradient {} {} on {} does not match value {} {} on {}", node.op, shape_str(g.shape()),
              dtype_name(g.dtype()), device_name(g.device()), shape_str(node.value.shape()),
              dtype_name(node.value.dtype()), device_name(node.value.device()));
  if (!node.grad.defined()) {
    // Adopt a temporary; a tensor shared with anything else (a view of another gradient) is copied, because later
    // accumulations write into node.grad in place.
    node.grad = g.storage().use_count() == 1 ? std::move(g) : clone_on_device(g);
    return;
  }
  COMET_DISPATCH_FLOAT(g.dtype(), "accumulate_grad", [&] {
    COMET_ON_DEVICE(g.device(), &cpu::axpy<scalar_t>, axpy<scalar_t>)(g.numel(), scalar_t(1), g.ptr<scalar_t>(),
                                                                       node.grad.ptr<scalar_t>());
  });
}

void accumulate_grad_rows(Node& node, int64_t first_row, const Tensor& g) {
  const Tensor& v = node.value;
  Shape expect = v.shape();
  COMET_CHECK(v.ndim() >= 1 && g.ndim() == v.ndim() && g.dtype() == v.dtype(),
              "backward of {}: row-block gradient {} does not fit value {}", node.op, shape_str(g.shape()),
              shape_str(v.shape()));
  expect[0] = g.dim(0);
  COMET_CHECK(g.shape() == expect && first_row >= 0 && first_row + g.dim(0) <= v.dim(0),
              "backward of {}: row-block gradient {} at row {} does not fit value {}", node.op, shape_str(g.shape()),
              first_row, shape_str(v.shape()));
  COMET_CHECK(g.device() == v.device(), "backward of {}: row-block gradient on {} for a value on {}", node.op,
              device_name(g.device()), device_name(v.device()));
  if (!node.grad.defined()) node.grad = full_on(v.device(), v.shape(), 0.0, v.dtype());
  Tensor block = node.grad.slice_rows(first_row, first_row + g.dim(0));
  COMET_DISPATCH_FLOAT(g.dtype(), "accumulate_grad_rows", [&] {
    COMET_ON_DEVICE(g.device(), &cpu::axpy<scalar_t>, axpy<scalar_t>)(g.numel(), scalar_t(1), g.ptr<scalar_t>(),
                                                                       block.ptr<scalar_t>());
  });
}

namespace {

// Allows pieces (Node::grad_pieces) for the inputs of one op whose only reader it is, while its backward runs.
class PiecesScope {
 public:
  PiecesScope(Node& op, std::unordered_map<Node*, int>& reads) : op_(op) {
    for (const NodePtr& input : op_.inputs)
      input->pieces_allowed = !reads.empty() && input->grad_pieces.take && reads[input.get()] == 1 &&
                              !input->grad.defined();
  }
  ~PiecesScope() {
    for (const NodePtr& input : op_.inputs) input->pieces_allowed = false;
  }
  PiecesScope(const PiecesScope&) = delete;
  PiecesScope& operator=(const PiecesScope&) = delete;

 private:
  Node& op_;
};

}  // namespace

void backward(const Var& root, const Tensor& seed) {
  COMET_CHECK(root.defined() && root.requires_grad(),
              "backward: the root does not require a gradient (no parameter reaches it)");
  Node& r = *root.node();
  if (seed.defined()) {
    accumulate_grad(r, seed);
  } else {
    COMET_CHECK(r.value.numel() == 1, "backward: root of shape {} is not a scalar; pass a seed gradient",
                shape_str(r.value.shape()));
    accumulate_grad(r, full_on(r.value.device(), r.value.shape(), 1.0, r.value.dtype()));
  }
  // Iterative post-order DFS gives a topological order (inputs before outputs). The order holds owning pointers:
  // clearing a node's inputs below must not free a node that is still to be visited.
  std::vector<NodePtr> order;
  std::unordered_set<Node*> seen{&r};
  std::vector<std::pair<NodePtr, size_t>> stack{{root.node(), 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const NodePtr& child = node->inputs[next++];
      if (child->requires_grad && !child->is_leaf() && seen.insert(child.get()).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  // Leaves with a hook: the walk position of the last op that reads each, where its gradient is complete.
  std::unordered_map<Node*, size_t> last_reader;
  for (size_t i = 0; i < order.size(); ++i)
    for (const NodePtr& input : order[order.size() - 1 - i]->inputs)
      if (input->is_leaf() && input->on_grad_ready) last_reader[input.get()] = i;
  // Leaves that take their gradient in pieces: how many times ops read each (pieces only from a sole reader).
  std::unordered_map<Node*, int> reads;
  for (const NodePtr& node : order)
    for (const NodePtr& input : node->inputs)
      if (input->is_leaf() && input->grad_pieces.take) ++reads[input.get()];
  for (size_t i = 0; i < order.size(); ++i) {
    Node* node = order[order.size() - 1 - i].get();
    if (node->grad.defined() && node->backward) {
      const PiecesScope pieces(*node, reads);
      node->backward(*node);
    }
    if (!last_reader.empty())
      for (const NodePtr& input : node->inputs) {
        const auto at = last_reader.find(input.get());
        if (at == last_reader.end() || at->second != i) continue;
        last_reader.erase(at);  // once, even when the op reads the leaf twice
        input->on_grad_ready(*input);
      }
    node->backward = nullptr;  // frees saved tensors
    node->inputs.clear();
    if (node != &r) node->grad = Tensor();  // intermediate gradients are not kept
  }
}

}  // namespace comet::ag
