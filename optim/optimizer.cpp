// Optimizer steps and gradient clipping.
#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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
constexpr int64_t kChunksPerClaim = 4;  // chunks a thread claims at a time: 128 KiB of each float buffer

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

void Optimizer::allocate_state(size_t i) {
  if (state_.size() < params_.size()) state_.resize(params_.size());
  for (int s = 0; s < state_slots(); ++s) state(i, s);  // allocated here, never inside a parallel region
}

std::vector<int64_t> Optimizer::block_step_numbers(size_t i, int64_t step) {
  if (blocks_.size() < params_.size()) blocks_.resize(params_.size());
  Blocks& blocks = blocks_[i];
  const std::vector<uint8_t> active = std::move(blocks.active);
  blocks.active.clear();
  if (!blocks.steps.defined()) return {step};
  int64_t* steps = blocks.steps.data<int64_t>();
  std::vector<int64_t> numbers(static_cast<size_t>(blocks.steps.numel()), 0);
  for (size_t b = 0; b < numbers.size(); ++b)
    if (active.empty() || active[b]) numbers[b] = ++steps[b];
  return numbers;
}

void Optimizer::plan(size_t i, int64_t step, std::vector<Chunk>& chunks) {
  if (!params_[i].grad().defined()) {
    if (i < blocks_.size()) blocks_[i].active.clear();  // the mark holds for this step only
    return;
  }
  allocate_state(i);
  const std::vector<int64_t> numbers = block_step_numbers(i, step);
  // A device parameter's range is one kernel launch: the device does the cutting.
  const int64_t chunk = params_[i].value().device() == Device::CPU ? kChunk : params_[i].value().numel();
  const int64_t size = params_[i].value().numel() / static_cast<int64_t>(numbers.size());
  for (size_t b = 0; b < numbers.size(); ++b) {
    if (numbers[b] == 0) continue;
    const int64_t begin = static_cast<int64_t>(b) * size, end = begin + size;
    for (int64_t c = begin; c < end; c += chunk) chunks.push_back({i, numbers[b], c, std::min(end, c + chunk)});
  }
}

void Optimizer::run(const std::vector<Chunk>& chunks, double lr) {
  const auto update_chunk = [&](const Chunk& k) {
    const Tensor& grad = params_[k.index].grad();
    const void* at = static_cast<const char*>(grad.raw()) + k.begin * static_cast<int64_t>(dtype_size(grad.dtype()));
    update(k.index, params_[k.index].value(), at, lr, k.step, k.begin, k.end);
  };
  std::vector<Chunk> on_cpu;
  for (const Chunk& k : chunks) {  // device chunks launch from this thread, in order
    if (params_[k.index].value().device() == Device::CPU) on_cpu.push_back(k);
    else update_chunk(k);
  }
  // A few chunks per claim rather than parallel_for's share of a block per thread: the last claim is then short,
  // and the threads finish within a few chunks of each other (the update is the step's largest parallel region).
  const int64_t n = static_cast<int64_t>(on_cpu.size()), claims = (n + kChunksPerClaim - 1) / kChunksPerClaim;
  const auto run_claim = [&](int64_t c) {
    for (int64_t i = c * kChunksPerClaim; i < std::min(n, (c + 1) * kChunksPerClaim); ++i) update_chunk(on_cpu[i]);
  };
  parallel_chunks(claims, run_claim);  // serial itself for one claim or one thread
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
  for (size_t i : in_backward_) {
    params_[i].node()->on_grad_ready = nullptr;
    params_[i].node()->grad_pieces = {};
  }
}

void Optimizer::update_in_backward(size_t index) {
  COMET_CHECK(index < params_.size(), "Optimizer::update_in_backward: parameter {} out of range ({} parameters)",
              index, params_.size());
  ag::Node& node = *params_[index].node();
  COMET_CHECK(!node.on_grad_ready, "Optimizer::update_in_backward: parameter {} already has a gradient hook", index);
  node.on_grad_ready = [this, index](ag::Node&) { update_early(index); };
  node.grad_pieces.begin = [this, index](ag::Node&) { begin_pieces(index); };
  node.grad_pieces.take = [this, index](int64_t begin, int64_t end, const void* g) {
    take_piece(index, begin, end, g);
  };
  in_backward_.push_back(index);
  if (pieces_.size() < params_.size()) pieces_.resize(params_.size());
  pieces_[index] = std::make_unique<Pieces>();
}

void Optimizer::check_first_backward(size_t index) {
  updated_early_.resize(params_.size(), 0);
  COMET_CHECK(!updated_early_[index],
              "Optimizer: parameter {} is updated in backward, and a second backward pass ran before step() "
              "(gradient accumulation needs the update in step())", index);
}

void Optimizer::update_early(size_t index) {
  Pieces& pieces = *pieces_[index];
  if (pieces.taken) {  // applied piece by piece already (begin_pieces marked it)
    pieces.taken = false;
    params_[index].grad() = std::move(pieces.bad_grad);
    pieces.bad_grad = Tensor();
    return;
  }
  check_first_backward(index);
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

void Optimizer::begin_pieces(size_t index) {
  check_first_backward(index);
  updated_early_[index] = 1;
  allocate_state(index);
  Pieces& pieces = *pieces_[index];
  pieces.taken = true;
  pieces.lr = lr_(step_ + 1);
  pieces.block_step = block_step_numbers(index, step_ + 1);
  pieces.block_size = params_[index].value().numel() / static_cast<int64_t>(pieces.block_step.size());
  pieces.bad_grad = Tensor();
}

void Optimizer::take_piece(size_t index, int64_t begin, int64_t end, const void* grad) {
  Pieces& pieces = *pieces_[index];
  Tensor& param = params_[index].value();
  const size_t item = dtype_size(param.dtype());
  const bool finite = COMET_DISPATCH_FLOAT(param.dtype(), "Optimizer::take_piece", [&] {
    return cpu::active_vector_loops<scalar_t>().all_finite(end - begin, static_cast<const scalar_t*>(grad));
  });
  if (!finite) {  // kept for the caller's check, not applied
    const std::lock_guard<std::mutex> lock(pieces.bad_mutex);
    if (!pieces.bad_grad.defined()) pieces.bad_grad = Tensor::zeros(param.shape(), param.dtype());
    std::memcpy(static_cast<char*>(pieces.bad_grad.raw()) + begin * item, grad, (end - begin) * item);
    return;
  }
  // A piece may span blocks: each part is its block's update.
  for (int64_t b = begin; b < end;) {
    const int64_t block = b / pieces.block_size, e = std::min(end, (block + 1) * pieces.block_size);
    const int64_t step = pieces.block_step[static_cast<size_t>(block)];
    if (step != 0) update(index, param, static_cast<const char*>(grad) + (b - begin) * item, pieces.lr, step, b, e);
    b = e;
  }
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

void Sgd::update(size_t index, Tensor& param, const void* grad, double lr, int64_t /*step*/, int64_t begin,
                 int64_t end) {
  Tensor* vel = opt_.momentum != 0.0 ? &state(index, 0) : nullptr;
  COMET_DISPATCH_FLOAT(param.dtype(), "Sgd::step", [&] {
    const SgdStep<scalar_t> s{scalar_t(lr), scalar_t(opt_.momentum), scalar_t(opt_.weight_decay), opt_.nesterov};
    COMET_ON_DEVICE(param.device(), &sgd_loop<scalar_t>, sgd<scalar_t>)(
        end - begin, s, param.ptr<scalar_t>() + begin, static_cast<const scalar_t*>(grad),
        vel ? vel->ptr<scalar_t>() + begin : nullptr);
  });
}

Adam::Adam(std::vector<ag::Var> params, Schedule lr, AdamOptions opt) : Optimizer(std::move(params), std::move(lr)), opt_(opt) {}

void Adam::update(size_t index, Tensor& param, const void* grad, double lr, int64_t step, int64_t begin,
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
    adam(end - begin, s, param.ptr<scalar_t>() + begin, static_cast<const scalar_t*>(grad),
         m_state.ptr<scalar_t>() + begin, v_state.ptr<scalar_t>() + begin);
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
