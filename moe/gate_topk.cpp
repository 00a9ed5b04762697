// Softmax, Top-k and Hash gates (spec 5.1 - 5.3).
#include <algorithm>
#include <cmath>

#include "autograd/device.h"
#include "core/mutation.h"
#include "kernels/cpu/parallel.h"
#include "moe/gates.h"

namespace comet::moe {
namespace {

double glorot_bound(int64_t fan_in, int64_t fan_out) { return std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)); }

// Each row's k largest logits, ties to the lower index, as one pass that keeps the best k so far in order (an
// insertion into k slots): k is small, and a partial sort over an index array per row took 1% of the sparse step at
// n = 16. Experts ascending within a sample.
// Rows are independent, so blocks of them run in parallel (the host's selection was 0.8% of the sparse step at
// n = 16 with the other thread idle); a row costs a few operations per logit.
template <class T>
std::vector<int64_t> top_k_rows(const T* h, int64_t rows, int64_t n, int64_t k) {
  std::vector<int64_t> out(rows * k);
  const bool ties_high = COMET_MUTANT(topk_ties_high);
  cpu::parallel_for(rows, 4 * n, [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> best(k);
    for (int64_t b = r0; b < r1; ++b) {
      const T* row = h + b * n;
      int64_t kept = 0;
      for (int64_t x = 0; x < n; ++x) {
        // x beats a kept y (< x) only with a larger logit: ties stay with the lower index
        const auto beats = [&](int64_t y) { return row[x] > row[y] || (ties_high && row[x] == row[y]); };
        if (kept == k && !beats(best[k - 1])) continue;
        int64_t slot = kept < k ? kept++ : k - 1;
        for (; slot > 0 && beats(best[slot - 1]); --slot) best[slot] = best[slot - 1];
        best[slot] = x;
      }
      std::sort(best.begin(), best.end());
      for (int64_t j = 0; j < k; ++j) out[b * k + j] = b * n + best[j];
    }
  });
  return out;
}

// The gate's slot weights through the permutation, renormalised when one is applied.
GateOutput finish(const ag::Var& g, const ag::Var* perm, ag::Var reg = {}) {
  return {perm ? normalize_rows(apply_permutation(g, perm)) : g, reg};
}

}  // namespace

std::vector<int64_t> top_k_indices(const Tensor& logits, int64_t k) {
  const Tensor h = ag::copy_to(logits, Device::CPU);  // selected on the host
  COMET_CHECK(h.ndim() == 2 && k >= 1 && k <= h.dim(1),
              "top_k_indices: need h [B, n] and 1 <= k <= n, got {} and k = {}", shape_str(h.shape()), k);
  return COMET_DISPATCH_FLOAT(h.dtype(), "top_k_indices", [&] {
    return top_k_rows(h.data<scalar_t>(), h.dim(0), h.dim(1), k);
  });
}

SoftmaxGate::SoftmaxGate(const GateConfig& cfg, int64_t d, Generator& gen)
    : Gate(cfg), logits_(d, cfg.experts, gen, glorot_bound(d, cfg.experts), 0.0) {}

GateOutput SoftmaxGate::forward(const GateInput& in, const ag::Var* perm, bool) {
  return finish(ag::softmax(logits_(in.x)), perm);
}

TopKGate::TopKGate(const GateConfig& cfg, int64_t d, Generator& gen)
    : Gate(cfg), logits_(d, cfg.experts, gen, glorot_bound(d, cfg.experts), 0.0), noise_gen_(gen.split()) {
  if (cfg.noisy_topk) noise_.emplace(d, cfg.experts, gen, 0.0, 0.0);  // Shazeer et al. start the noise at zero
}

std::vector<ag::Var*> TopKGate::parameter_slots() {
  std::vector<ag::Var*> p{&logits_.weight, &logits_.bias};
  if (noise_) {
    p.push_back(&noise_->weight);
    p.push_back(&noise_->bias);
  }
  return p;
}

GateOutput TopKGate::forward(const GateInput& in, const ag::Var* perm, bool training) {
  const int64_t B = in.x.shape()[0], n = cfg_.experts, k = cfg_.k;
  ag::Var h = logits_(in.x);
  if (noise_ && training) {
    Tensor z = Tensor::empty(h.shape(), h.dtype());
    noise_gen_.normal(z, 0.0, 1.0);  // drawn on the host: the same draws on every device
    h = ag::add(h, ag::mul(ag::constant(ag::copy_to(z, h.value().device())), ag::softplus((*noise_)(in.x))));
  }
  const Tensor index = Tensor::from_vector<int64_t>({B * k}, top_k_indices(h.value(), k));
  ag::Var selected = ag::reshape(ag::gather_rows(ag::reshape(h, {B * n, 1}), index), {B, k});
  ag::Var weights = ag::reshape(ag::softmax(selected), {B * k, 1});
  ag::Var g = ag::reshape(ag::scatter_add_rows(weights, index, B * n), {B, n});
  ag::Var reg;
  if (cfg_.load_balance > 0 && training) {  // importance loss: CV^2 of the per-expert sums of g
    ag::Var importance = ag::sum(g, ag::Over::Rows);
    ag::Var mean = ag::mean(importance);
    ag::Var centered = ag::sub(importance, mean);
    ag::Var cv2 = ag::div(ag::mean(ag::mul(centered, centered)), ag::mul(mean, mean));
    reg = ag::scale(cv2, cfg_.load_balance);
  }
  return finish(g, perm, reg);
}

HashGate::HashGate(const GateConfig& cfg, Generator& gen) : Gate(cfg) {
  COMET_CHECK(cfg.k == 1, "hash gate: routes each key to one expert (k = 1), got k = {}", cfg.k);
  COMET_CHECK(cfg.hash_keys && *cfg.hash_keys >= 1, "hash gate: the number of keys (hash_keys) must be set and >= 1");
  table_ = Tensor::empty({*cfg.hash_keys}, DType::I64);
  gen.randint(table_, 0, cfg.experts);
}

void HashGate::check_buffer(const std::string& where, const std::string& name, const Tensor& value) const {
  COMET_CHECK(name == "hash_table", "{}: the hash gate has no buffer '{}'", where, name);
  COMET_CHECK(value.dtype() == DType::I64 && value.shape() == table_.shape(), "{}: hash_table is {} {}, expected i64 {}",
              where, dtype_name(value.dtype()), shape_str(value.shape()), shape_str(table_.shape()));
  const int64_t* t = value.data<int64_t>();
  for (int64_t i = 0; i < value.numel(); ++i)
    COMET_CHECK(t[i] >= 0 && t[i] < cfg_.experts, "{}: hash_table sends key {} to expert {}, outside [0, {})", where,
                i, t[i], cfg_.experts);
}

GateOutput HashGate::forward(const GateInput& in, const ag::Var* perm, bool) {
  COMET_CHECK(in.keys.defined() && in.keys.ndim() == 1 && in.keys.dim(0) == in.x.shape()[0],
              "hash gate: needs one key per sample ([{}]), got {}", in.x.shape()[0],
              in.keys.defined() ? shape_str(in.keys.shape()) : std::string("none"));
  const int64_t B = in.keys.dim(0), n = cfg_.experts;
  Tensor g = Tensor::zeros({B, n}, in.x.dtype());
  for (int64_t b = 0; b < B; ++b) {
    const int64_t key = static_cast<int64_t>(in.keys.item(b));
    COMET_CHECK(key >= 0 && key < table_.numel(), "hash gate: key {} of sample {} not in [0, {})", key, b,
                table_.numel());
    const int64_t expert = table_.data<int64_t>()[key];
    COMET_DISPATCH_FLOAT(g.dtype(), "hash gate", [&] { g.data<scalar_t>()[b * n + expert] = scalar_t(1); });
  }
  return finish(ag::constant(ag::copy_to(g, in.x.value().device())), perm);
}

}  // namespace comet::moe
