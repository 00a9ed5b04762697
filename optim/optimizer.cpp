// Optimizer steps and gradient clipping.
#include "optim/optimizer.h"

#include <cmath>

#include "autograd/device.h"
#include "core/mutation.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_loops.h"

namespace comet::optim {

Schedule constant_lr(double lr) {
  return [lr](int64_t) { return lr; };
}

Schedule warmup_cosine(double lr, int64_t warmup, int64_t total, double final_lr) {
  COMET_CHECK(warmup >= 0 && total > warmup, "warmup_cosine: need 0 <= warmup < total, got {} and {}", warmup, total);
  return [=](int64_t step) {
    if (step <= warmup) return lr * static_cast<double>(step) / static_cast<double>(warmup);
    const double t = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(total - warmup));
    return final_lr + 0.5 * (lr - final_lr) * (1.0 + std::cos(3.141592653589793 * t));
  };
}

namespace {
constexpr int64_t kChunk = 8192;  // elements per work item: 32 KiB of a float tensor, a few L1 loads per buffer

// SGD on n elements on the CPU (cuda::sgd on a device).
template <class T>
void sgd_loop(int64_t n, const SgdStep<T>& s, T* p, const T* g, T* v) {
  for (int64_t i = 0; i < n; ++i) sgd_element(s, p[i], g[i], v ? v + i : nullptr);
}

// Sum of g^2 over a gradient, in double (on a device: the squares in g's dtype, summed in double there).
double squared_norm(const Tensor& g) {
  return COMET_DISPATCH_FLOAT(g.dtype(), "clip_grad_norm", [&] {
    if (g.device() == Device::CPU) {
      const scalar_t* d = g.data<scalar_t>();
      return cpu::deterministic_sum(g.numel(), [&](int64_t i) { return double(d[i]) * d[i]; });
    }
    Tensor squares = ag::empty_as(g), total = ag::empty_on(g.device(), {}, g.dtype());
    COMET_KERNEL_ON(g.device(), binary<scalar_t>)(Binary::Mul, Broadcast::Full, 1, g.numel(), g.ptr<scalar_t>(),
                                                  g.ptr<scalar_t>(), squares.ptr<scalar_t>());
    COMET_KERNEL_ON(g.device(), sum_to<scalar_t>)(Broadcast::Scalar, 1, g.numel(), scalar_t(1),
                                                  squares.ptr<scalar_t>(), total.ptr<scalar_t>());
    return ag::host_item(total);
  });
}
}  // namespace

void Optimizer::plan(size_t i, int64_t step, std::vector<Chunk>& chunks) {
  if (state_.size() < params_.size()) state_.resize(params_.size());
  if (blocks_.size() < params_.size()) blocks_.resize(params_.size());
  Blocks& blocks = blocks_[i];
  const std::vector<uint8_t> active = std::move(blocks.active);
  blocks.active.clear();
  if (!params_[i].grad().defined()) return;
  for (int s = 0; s < state_slots(); ++s) state(i, s);  // allocated here, never inside the parallel region
  // A device parameter's range is one kernel launch: the device does the cutting.
  const int64_t chunk = params_[i].value().device() == Device::CPU ? kChunk : params_[i].value().numel();
  const auto add_chunks = [&](int64_t t, int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b += chunk) chunks.push_back({i, t, b, std::min(end, b + chunk)});
  };
  const int64_t n = params_[i].value().numel();
  if (!blocks.steps.defined()) {
    add_chunks(step, 0, n);
    return;
  }
  int64_t* steps = blocks.steps.data<int64_t>();
  const int64_t count = blocks.steps.numel(), size = n / count;
  for (int64_t b = 0; b < count; ++b)
    if (active.empty() || active[b]) add_chunks(++steps[b], b * size, (b + 1) * size);
}

void Optimizer::run(const std::vector<Chunk>& chunks, double lr) {
  const auto update_chunk = [&](const Chunk& k) {
    update(k.index, params_[k.index].value(), params_[k.index].grad(), lr, k.step, k.begin, k.end);
  };
  std::vector<Chunk> on_cpu;
  for (const Chunk& k : chunks) {  // device chunks launch from this thread, in order
    if (params_[k.index].value().device() == Device::CPU) on_cpu.push_back(k);
    else update_chunk(k);
  }
  cpu::parallel_for(static_cast<int64_t>(on_cpu.size()), 8 * kChunk, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) update_chunk(on_cpu[c]);
  });
}

void Optimizer::step() {
  ++step_;
  updated_early_.resize(params_.size(), 0);
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (updated_early_[i]) updated_early_[i] = 0;
    else plan(i, step_, chunks);
  }
  run(chunks, lr_(step_));
}

Optimizer::~Optimizer() {
  for (size_t i : in_backward_) params_[i].node()->on_grad_ready = nullptr;
}

void Optimizer::update_in_backward(size_t index) {
  COMET_CHECK(index < params_.size(), "Optimizer::update_in_backward: parameter {} out of range ({} parameters)",
              index, params_.size());
  COMET_CHECK(!params_[index].node()->on_grad_ready,
              "Optimizer::update_in_backward: parameter {} already has a gradient hook", index);
  params_[index].node()->on_grad_ready = [this, index](ag::Node&) { update_early(index); };
  in_backward_.push_back(index);
}

void Optimizer::update_early(size_t index) {
  updated_early_.resize(params_.size(), 0);
  COMET_CHECK(!updated_early_[index],
              "Optimizer: parameter {} is updated in backward, and a second backward pass ran before step() "
              "(gradient accumulation needs the update in step())", index);
  Tensor& grad = params_[index].grad();
  if (!grad.defined()) return;
  updated_early_[index] = 1;  // step() leaves it: applied here, or not finite and left for the caller's check
  if (!ag::all_finite_anywhere(grad)) {
    if (index < blocks_.size()) blocks_[index].active.clear();  // the mark was for this step
    return;
  }
  std::vector<Chunk> chunks;
  plan(index, step_ + 1, chunks);
  run(chunks, lr_(step_ + 1));
  grad = Tensor();
}

void Optimizer::split_blocks(size_t index, int64_t count) {
  COMET_CHECK(index < params_.size(), "Optimizer::split_blocks: parameter {} out of range ({} parameters)", index,
              params_.size());
  const Shape& shape = params_[index].shape();
  COMET_CHECK(!shape.empty() && count >= 1 && shape[0] == count,
              "Optimizer::split_blocks: parameter {} of shape {} does not split into {} blocks along its first "
              "dimension", index, shape_str(shape), count);
  COMET_CHECK(step_ == 0, "Optimizer::split_blocks: parameter {} split after {} steps (only before the first)", index,
              step_);
  if (blocks_.size() < params_.size()) blocks_.resize(params_.size());
  blocks_[index].steps = Tensor::zeros({count}, DType::I64);
}

void Optimizer::set_active_blocks(size_t index, std::vector<uint8_t> active) {
  const Tensor& steps = block_steps(index);
  COMET_CHECK(steps.defined() && static_cast<int64_t>(active.size()) == steps.numel(),
              "Optimizer::set_active_blocks: parameter {} is split into {} blocks, {} marks given", index,
              steps.defined() ? steps.numel() : 0, active.size());
  blocks_[index].active = std::move(active);
}

Tensor& Optimizer::block_steps(size_t index) {
  COMET_CHECK(index < params_.size(), "Optimizer::block_steps: parameter {} out of range ({} parameters)", index,
              params_.size());
  if (blocks_.size() < params_.size()) blocks_.resize(params_.size());
  return blocks_[index].steps;
}

void Optimizer::zero_grad() {
  for (ag::Var& p : params_) p.zero_grad();
}

void Optimizer::set_steps(int64_t steps) {
  COMET_CHECK(steps >= 0, "Optimizer::set_steps: the step count must be >= 0, got {}", steps);
  step_ = steps;
}

Tensor& Optimizer::state(size_t index, int slot) {
  COMET_CHECK(index < params_.size() && slot >= 0 && slot < state_slots(),
              "Optimizer::state: parameter {} slot {} out of range ({} parameters, {} slots)", index, slot,
              params_.size(), state_slots());
  if (state_.size() < params_.size()) state_.resize(params_.size());
  Tensor& s = state_[index][slot];
  if (!s.defined()) s = ag::full_on(params_[index].value().device(), params_[index].shape(), 0.0,
                                    params_[index].value().dtype());
  return s;
}

Sgd::Sgd(std::vector<ag::Var> params, Schedule lr, SgdOptions opt) : Optimizer(std::move(params), std::move(lr)), opt_(opt) {}

void Sgd::update(size_t index, Tensor& param, const Tensor& grad, double lr, int64_t /*step*/, int64_t begin,
                 int64_t end) {
  Tensor* vel = opt_.momentum != 0.0 ? &state(index, 0) : nullptr;
  COMET_DISPATCH_FLOAT(param.dtype(), "Sgd::step", [&] {
    const SgdStep<scalar_t> s{scalar_t(lr), scalar_t(opt_.momentum), scalar_t(opt_.weight_decay), opt_.nesterov};
    COMET_ON_DEVICE(param.device(), &sgd_loop<scalar_t>, sgd<scalar_t>)(
        end - begin, s, param.ptr<scalar_t>() + begin, grad.ptr<scalar_t>() + begin,
        vel ? vel->ptr<scalar_t>() + begin : nullptr);
  });
}

Adam::Adam(std::vector<ag::Var> params, Schedule lr, AdamOptions opt) : Optimizer(std::move(params), std::move(lr)), opt_(opt) {}

void Adam::update(size_t index, Tensor& param, const Tensor& grad, double lr, int64_t step, int64_t begin,
                  int64_t end) {
  Tensor& m_state = state(index, 0);
  Tensor& v_state = state(index, 1);
  const double t = static_cast<double>(step);
  const double bc1 = COMET_MUTANT(adam_no_bias_correction) ? 1.0 : 1.0 - std::pow(opt_.beta1, t);
  const double bc2 = 1.0 - std::pow(opt_.beta2, t);
  COMET_DISPATCH_FLOAT(param.dtype(), "Adam::step", [&] {
    cpu::AdamStep<scalar_t> s;
    s.beta1 = scalar_t(opt_.beta1), s.beta2 = scalar_t(opt_.beta2), s.eps = scalar_t(opt_.eps);
    s.step = scalar_t(lr / bc1), s.inv_bc2 = scalar_t(1.0 / bc2);
    s.l2 = opt_.decoupled ? scalar_t(0) : scalar_t(opt_.weight_decay);
    s.decay = opt_.decoupled ? scalar_t(1.0 - lr * opt_.weight_decay) : scalar_t(1);
    // On the CPU the active ISA's loop (kernels/cpu/vector_loops.h): the step runs inside the optimizer's parallel
    // region. On a device, the kernel with the same per-element math (kernels/cuda/elementwise.h).
    const auto adam = COMET_ON_DEVICE(param.device(), cpu::active_vector_loops<scalar_t>().adam, adam<scalar_t>);
    adam(end - begin, s, param.ptr<scalar_t>() + begin, grad.ptr<scalar_t>() + begin, m_state.ptr<scalar_t>() + begin,
         v_state.ptr<scalar_t>() + begin);
  });
}

double clip_grad_norm(const std::vector<ag::Var>& params, double max_norm) {
  COMET_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got {}", max_norm);
  double sq = 0;
  for (const ag::Var& p : params)
    if (p.grad().defined()) sq += squared_norm(p.grad());
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const double s = max_norm / (norm + 1e-6);
    for (const ag::Var& p : params) {
      if (!p.grad().defined()) continue;
      Tensor g = p.grad();
      COMET_DISPATCH_FLOAT(g.dtype(), "clip_grad_norm", [&] {
        COMET_KERNEL_ON(g.device(), scale<scalar_t>)(g.numel(), scalar_t(s), g.ptr<scalar_t>(), g.ptr<scalar_t>());
      });
    }
  }
  return norm;
}

}  // namespace comet::optim
