// MoE layer: sparse (grouped) and dense (reference) execution.
#include "moe/moe_layer.h"

#include "autograd/device.h"
#include "kernels/dispatch.h"
#include "moe/gate.h"

namespace comet::moe {
namespace {

ag::Var dense_path(Experts& experts, const ag::Var& x, const ag::Var& g, const ExpertMode& mode) {
  const int64_t n = experts.count();
  const std::vector<ag::Var> columns = ag::split_cols(g, std::vector<int64_t>(n, 1));
  ag::Var y;
  for (int64_t e = 0; e < n; ++e) {
    ag::Var term = ag::mul(experts.forward_one(e, x, mode), columns[e]);  // column broadcast
    y = y.defined() ? ag::add(y, term) : term;
  }
  return y;
}

ag::Var sparse_path(Experts& experts, const ag::Var& x, const ag::Var& g, const ExpertMode& mode) {
  const int64_t B = x.shape()[0], n = experts.count();
  // The plan is made on the host (for a device's gate weights, from a copy); its index tensors go to the device
  // with the ops that read them.
  const Tensor g_host = ag::copy_to(g.value(), Device::CPU);
  const DispatchPlan plan = COMET_DISPATCH_FLOAT(g.dtype(), "moe_forward", [&] {
    return plan_dispatch(B, n, g_host.data<scalar_t>());
  });
  const Tensor sample = Tensor::from_vector<int64_t>({plan.pairs()}, plan.sample);
  const Tensor flat = Tensor::from_vector<int64_t>({plan.pairs()}, plan.flat);
  ag::Var rows = ag::gather_rows(x, sample);                                   // [pairs, in], expert-major
  ag::Var out = experts.forward_grouped(rows, plan.offsets, mode);             // [pairs, out]
  ag::Var weight = ag::gather_rows(ag::reshape(g, {B * n, 1}), flat);         // [pairs, 1]
  return ag::scatter_add_rows(ag::mul(out, weight), sample, B);
}

}  // namespace

ag::Var moe_forward(Experts& experts, const ag::Var& x, const ag::Var& g, MoePath path, const ExpertMode& mode) {
  COMET_CHECK(x.shape().size() == 2 && g.shape() == Shape({x.shape()[0], experts.count()}),
              "moe_forward: input {} and gate weights {} do not fit {} experts", shape_str(x.shape()),
              shape_str(g.shape()), experts.count());
  return path == MoePath::Dense ? dense_path(experts, x, g, mode) : sparse_path(experts, x, g, mode);
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
