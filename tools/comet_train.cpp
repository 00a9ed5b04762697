// comet_train: the main job. Trains a ReLU MLP on the bundled synthetic multi-task data set (MMoE generator,
// moe/synthetic_data.h; both tasks as a 2-output regression) with Adam and MSE, printing per-epoch train and
// validation loss. Deterministic: the same --seed and --threads give the same numbers.
// Usage: comet_train [--epochs N] [--batch B] [--lr LR] [--hidden H] [--samples N] [--seed S] [--threads T]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "core/threading.h"
#include "moe/mlp.h"
#include "moe/synthetic_data.h"
#include "optim/optimizer.h"

using namespace comet;

namespace {

struct Options {
  int epochs = 10;
  int64_t batch = 256;
  double lr = 1e-3;
  int64_t hidden = 128;
  int64_t samples = 16384;
  double relatedness = 0.5;
  uint64_t seed = 1;
  int threads = 0;  // 0: keep the engine default (all cores)
};

double evaluate(const moe::Mlp& net, const moe::MultiTaskData& data) {
  ag::NoGradGuard no_grad;
  ag::Var loss = ag::mse(net(ag::constant(data.x)), ag::constant(data.targets));
  return loss.value().item();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"COMET-MoE main job: train an MLP on synthetic multi-task data"};
  app.add_option("--epochs", o.epochs, "training epochs")->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber);
  app.add_option("--hidden", o.hidden, "hidden width")->check(CLI::PositiveNumber);
  app.add_option("--samples", o.samples, "training samples (validation: a quarter of it)")->check(CLI::Range(64, 10000000));
  app.add_option("--relatedness", o.relatedness, "task relatedness rho")->check(CLI::Range(-1.0, 1.0));
  app.add_option("--seed", o.seed, "random seed (data, initialisation, shuffling)");
  app.add_option("--threads", o.threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    if (o.threads > 0) set_num_threads(o.threads);
    moe::SyntheticConfig cfg;
    cfg.samples = o.samples + o.samples / 4;
    cfg.relatedness = o.relatedness;
    cfg.seed = o.seed;
    const moe::MultiTaskData all = moe::make_synthetic_multitask(cfg);
    const moe::MultiTaskData train = moe::slice(all, 0, o.samples), val = moe::slice(all, o.samples, cfg.samples);
    Generator gen(o.seed + 1);
    moe::Mlp net({cfg.dim, o.hidden, o.hidden, 2}, gen);
    optim::Adam opt(net.params(), optim::constant_lr(o.lr));
    std::printf("comet_train: MLP %lld-%lld-%lld-2, %lld train / %lld val samples, batch %lld, Adam lr %g, %d threads\n",
                (long long)cfg.dim, (long long)o.hidden, (long long)o.hidden, (long long)o.samples,
                (long long)(cfg.samples - o.samples), (long long)o.batch, o.lr, num_threads());
    std::printf("epoch 0: val mse %.5f\n", evaluate(net, val));
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto order = gen.permutation(o.samples);
      double total = 0;
      int64_t batches = 0;
      for (int64_t b = 0; b + o.batch <= o.samples; b += o.batch, ++batches) {
        Tensor idx = Tensor::from_vector<int64_t>({o.batch}, {order.begin() + b, order.begin() + b + o.batch});
        ag::Var x, y;
        {
          ag::NoGradGuard no_grad;
          x = ag::gather_rows(ag::constant(train.x), idx);
          y = ag::gather_rows(ag::constant(train.targets), idx);
        }
        ag::Var loss = ag::mse(net(x), y);
        opt.zero_grad();
        ag::backward(loss);
        opt.step();
        total += loss.value().item();
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("epoch %d: train mse %.5f, val mse %.5f (%.2f s)\n", epoch, total / batches, evaluate(net, val), secs);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "comet_train: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
