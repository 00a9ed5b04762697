// MoE layer: sparse (grouped) and dense (reference) execution.
#include "moe/moe_layer.h"

#include "autograd/device.h"
#include "kernels/dispatch.h"
#include "moe/gate.h"

namespace comet::moe {
namespace {

// Every expert on every sample, once; each gate weights the outputs by its columns.
std::vector<ag::Var> dense_path(Experts& experts, const ag::Var& x, const std::vector<ag::Var>& gates,
                                const ExpertMode& mode) {
  const int64_t n = experts.count();
  std::vector<std::vector<ag::Var>> columns;
  for (const ag::Var& g : gates) columns.push_back(ag::split_cols(g, std::vector<int64_t>(n, 1)));
  std::vector<ag::Var> y(gates.size());
  for (int64_t e = 0; e < n; ++e) {
    const ag::Var out = experts.forward_one(e, x, mode);
    for (size_t t = 0; t < gates.size(); ++t) {
      const ag::Var term = ag::mul(out, columns[t][e]);  // column broadcast
      y[t] = y[t].defined() ? ag::add(y[t], term) : term;
    }
  }
  return y;
}

// The pairs to dispatch, on the host: one gate's weights, or for several gates a matrix that is non-zero where some
// gate's weight is (and NaN where one is, for plan_dispatch to refuse).
Tensor routed_pairs(const std::vector<ag::Var>& gates) {
  Tensor any = ag::copy_to(gates[0].value(), Device::CPU);
  if (gates.size() == 1) return any;
  any = any.clone();
  for (size_t t = 1; t < gates.size(); ++t) {
    const Tensor g = ag::copy_to(gates[t].value(), Device::CPU);
    COMET_DISPATCH_FLOAT(any.dtype(), "moe_forward", [&] {
      scalar_t* a = any.data<scalar_t>();
      const scalar_t* w = g.data<scalar_t>();
      for (int64_t i = 0; i < any.numel(); ++i)
        if (a[i] == scalar_t(0) || w[i] != w[i]) a[i] = w[i];
    });
  }
  return any;
}

std::vector<ag::Var> sparse_path(Experts& experts, const ag::Var& x, const std::vector<ag::Var>& gates,
                                 const ExpertMode& mode) {
  const int64_t B = x.shape()[0], n = experts.count();
  // The plan is made on the host (for a device's gate weights, from a copy); its index tensors go to the device
  // with the ops that read them.
  const Tensor pairs = routed_pairs(gates);
  const DispatchPlan plan = COMET_DISPATCH_FLOAT(pairs.dtype(), "moe_forward", [&] {
    return plan_dispatch(B, n, pairs.data<scalar_t>());
  });
  const Tensor sample = Tensor::from_vector<int64_t>({plan.pairs()}, plan.sample);
  const ag::Var rows = ag::gather_rows(x, sample);                        // [pairs, in], expert-major
  const ag::Var out = experts.forward_grouped(rows, plan.offsets, mode);  // [pairs, out]
  std::vector<ag::Var> y;
  for (const ag::Var& g : gates) y.push_back(ag::combine_rows(out, g, plan));
  return y;
}

}  // namespace

std::vector<ag::Var> moe_forward(Experts& experts, const ag::Var& x, const std::vector<ag::Var>& gates, MoePath path,
                                 const ExpertMode& mode) {
  COMET_CHECK(!gates.empty(), "moe_forward: no gate weights");
  for (const ag::Var& g : gates)
    COMET_CHECK(x.shape().size() == 2 && g.shape() == Shape({x.shape()[0], experts.count()}) &&
                    g.dtype() == gates[0].dtype(),
                "moe_forward: input {} and gate weights {} {} do not fit {} experts", shape_str(x.shape()),
                shape_str(g.shape()), dtype_name(g.dtype()), experts.count());
  return path == MoePath::Dense ? dense_path(experts, x, gates, mode) : sparse_path(experts, x, gates, mode);
}

ag::Var moe_forward(Experts& experts, const ag::Var& x, const ag::Var& g, MoePath path, const ExpertMode& mode) {
  return moe_forward(experts, x, std::vector<ag::Var>{g}, path, mode).front();
}

RoutingStats routing_stats(const Tensor& g, int64_t k) {
  const SampleRouting r = sample_routing(g);
  const int64_t B = r.samples(), pairs = static_cast<int64_t>(r.expert.size());
  RoutingStats s;
  s.usage.assign(g.dim(1), 0.0);
  for (int64_t e : r.expert) s.usage[e] += 1;
  int64_t within = 0;
  for (int64_t b = 0; b < B; ++b) within += r.count(b) <= k;
  for (double& u : s.usage) u = pairs ? u / pairs : 0.0;
  s.experts_per_sample = B ? static_cast<double>(pairs) / B : 0.0;
  s.within_k = B ? static_cast<double>(within) / B : 0.0;
  return s;
}

std::vector<uint8_t> experts_with_rows(const std::vector<Tensor>& gate_weights) {
  COMET_CHECK(!gate_weights.empty() && gate_weights[0].ndim() == 2, "experts_with_rows: need gate weights [B, n]");
  const int64_t n = gate_weights[0].dim(1);
  std::vector<uint8_t> used(static_cast<size_t>(n), 0);
  for (const Tensor& weights : gate_weights) {
    COMET_CHECK(weights.ndim() == 2 && weights.dim(1) == n,
                "experts_with_rows: gate weights {} among gate weights [B, {}]", shape_str(weights.shape()), n);
    const Tensor g = ag::copy_to(weights, Device::CPU);
    COMET_DISPATCH_FLOAT(g.dtype(), "experts_with_rows", [&] {
      const scalar_t* w = g.data<scalar_t>();
      for (int64_t i = 0; i < g.numel(); ++i) used[static_cast<size_t>(i % n)] |= w[i] != scalar_t(0);
    });
  }
  return used;
}

}  // namespace comet::moe
