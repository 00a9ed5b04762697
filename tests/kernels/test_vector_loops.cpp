// The kernels that run on the per-ISA vector loops (kernels/cpu/vector_loops.h), on every ISA path this CPU
// supports (a test case per ISA, skipped where the CPU lacks it), against the references of kernels/ref/ in float:
// ReLU and its backward, the four binary ops under the four broadcasts and their backward, scale, axpy, sum_to,
// expand, softmax and log-softmax with their backward, scatter_add_rows, copy_cols, the grouped linear bias
// gradient, the conv2d bias gradient, the 2 x 2 max-pool and its backward, and the Adam step (optim::Adam against the update worked out in
// double here). Shapes cross the vector widths (1, 7, 33 columns: tails) and the thread grain, and every result
// must be bit-identical at 1 and 2 threads. Tolerances (|got - ref| <= atol + rtol |ref|) and why:
//   exact: ReLU, add/sub/mul/div (forward, the data gradient of add/sub/mul), scale, expand, copy_cols: one
//     rounding of the same operation in float and in the reference's double (double rounding of +, -, x, / is
//     harmless); scatter_add_rows, the bias gradients and axpy with alpha = 0.5: integer-valued or exact terms;
//     max-pool: selects only (integer-valued inputs, so ties occur and must go to the first maximum);
//   rtol 2^-23: the data gradient of div (the reference multiplies by 1 / b in double, the kernel divides in
//     float), and the double sums (sum_to, the broadcast gradients): added in the vector's lane order instead of
//     the reference's, so the double results differ in their last bits and can round to neighbouring floats;
//     atol 1e-9 covers a result that cancels to near 0 (rows of up to ~10^4 terms of size 1: error < 1e-11);
//   rtol 2e-6, atol 5e-7: softmax and log-softmax with their backward (float exp against double exp, a few
//     roundings each; the atol covers a gradient g - exp(y) sum g that cancels terms of size 1 to near 0);
//   rtol 2e-6, atol 3e-7: Adam after 3 steps (about five float roundings per step against double; the atol, a few
//     float roundings of terms of size 1, covers a parameter that cancels to near 0).
// Adam is also bit-identical on every ISA: the same operations, each rounded alike (no FMA contraction). And the
// all_finite loop on every ISA, in float and double.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/var.h"
#include "core/rng.h"
#include "core/threading.h"
#include "kernels/conv.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/vector_loops.h"
#include "kernels/elementwise.h"
#include "kernels/grouped_gemm.h"
#include "kernels/index.h"
#include "kernels/reduce.h"
#include "optim/optimizer.h"
#include "test_util.h"

namespace comet {
namespace {

using Floats = std::vector<float>;

Floats random_floats(int64_t n, Generator& gen, double lo = -1.0, double hi = 1.0) {
  Floats v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * gen.next_uniform());
  return v;
}

Floats integer_floats(int64_t n, Generator& gen) {
  Floats v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(std::floor(7 * gen.next_uniform()) - 3);
  return v;
}

struct Tolerance {
  double rtol, atol;  // both 0: bit for bit
};
constexpr Tolerance kExact{0, 0}, kDoubleSum{1.0 / (1 << 23), 1e-9}, kSoftmax{2e-6, 5e-7}, kAdam{2e-6, 3e-7};

// One comparison: `fast` runs the cpu:: kernel (on the active ISA and thread count) and `ref` the reference; both
// return their outputs, concatenated.
struct Case {
  std::string name;
  std::function<Floats()> fast, ref;
  Tolerance tol;
};

struct Dims {
  int64_t rows, cols;
};
// Tails of every vector width, rows past the thread grain (kernels/cpu/parallel.h), wide rows (column blocks of
// sum_to), few long rows (sum_to's chunked row sums).
const std::vector<Dims> kDims = {{1, 1}, {5, 7}, {300, 33}, {77, 257}, {40, 1030}, {3, 9000}};

const char* broadcast_name(Broadcast bc) {
  switch (bc) {
    case Broadcast::Full: return "full";
    case Broadcast::Row: return "row";
    case Broadcast::Col: return "col";
    case Broadcast::Scalar: return "scalar";
  }
  return "?";
}

int64_t broadcast_size(Broadcast bc, Dims d) {
  switch (bc) {
    case Broadcast::Full: return d.rows * d.cols;
    case Broadcast::Row: return d.cols;
    case Broadcast::Col: return d.rows;
    case Broadcast::Scalar: return 1;
  }
  return 1;
}

void add_elementwise_cases(std::vector<Case>& cases, Dims d, Generator& gen) {
  const int64_t n = d.rows * d.cols;
  const std::string shape = fmt::format(" {}x{}", d.rows, d.cols);
  const Floats x = random_floats(n, gen), gy = random_floats(n, gen), y0 = random_floats(n, gen);
  cases.push_back({"relu" + shape, [=] { Floats y(n); cpu::unary(Unary::Relu, n, x.data(), y.data()); return y; },
                   [=] { Floats y(n); ref::unary(Unary::Relu, n, x.data(), y.data()); return y; }, kExact});
  cases.push_back({"relu backward" + shape,
                   [=] { Floats g(n); cpu::unary_backward(Unary::Relu, n, x.data(), x.data(), gy.data(), g.data()); return g; },
                   [=] { Floats g(n); ref::unary_backward(Unary::Relu, n, x.data(), x.data(), gy.data(), g.data()); return g; },
                   kExact});
  cases.push_back({"scale" + shape, [=] { Floats y(n); cpu::scale(n, 0.3f, x.data(), y.data()); return y; },
                   [=] { Floats y(n); ref::scale(n, 0.3f, x.data(), y.data()); return y; }, kExact});
  cases.push_back({"axpy, alpha 0.5" + shape, [=] { Floats y = y0; cpu::axpy(n, 0.5f, x.data(), y.data()); return y; },
                   [=] { Floats y = y0; ref::axpy(n, 0.5f, x.data(), y.data()); return y; }, kExact});
  for (Broadcast bc : {Broadcast::Full, Broadcast::Row, Broadcast::Col, Broadcast::Scalar}) {
    const int64_t nb = broadcast_size(bc, d);
    const Floats b = random_floats(nb, gen, 0.5, 2.0);  // away from 0: div
    const std::string where = std::string(" ") + broadcast_name(bc) + shape;
    for (Binary op : {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div}) {
      const std::string name = fmt::format("binary {}{}", static_cast<int>(op), where);
      cases.push_back({name, [=] { Floats c(n); cpu::binary(op, bc, d.rows, d.cols, x.data(), b.data(), c.data()); return c; },
                       [=] { Floats c(n); ref::binary(op, bc, d.rows, d.cols, x.data(), b.data(), c.data()); return c; },
                       kExact});
      // ga then gb; gb of a broadcast operand is a double sum, ga of div a float division against 1 / b in double.
      auto backward = [=](bool fast) {
        Floats g(n + nb);
        (fast ? cpu::binary_backward<float> : ref::binary_backward<float>)(op, bc, d.rows, d.cols, x.data(), b.data(),
                                                                          gy.data(), g.data(), g.data() + n);
        return g;
      };
      const bool exact = op != Binary::Div && bc == Broadcast::Full;
      cases.push_back({name + " backward", [=] { return backward(true); }, [=] { return backward(false); },
                       exact ? kExact : kDoubleSum});
    }
    cases.push_back({"sum_to" + where,
                     [=] { Floats s(nb); cpu::sum_to(bc, d.rows, d.cols, 0.5f, x.data(), s.data()); return s; },
                     [=] { Floats s(nb); ref::sum_to(bc, d.rows, d.cols, 0.5f, x.data(), s.data()); return s; },
                     bc == Broadcast::Full ? kExact : kDoubleSum});
    cases.push_back({"expand" + where,
                     [=] { Floats g(n); cpu::expand(bc, d.rows, d.cols, 0.3f, b.data(), g.data()); return g; },
                     [=] { Floats g(n); ref::expand(bc, d.rows, d.cols, 0.3f, b.data(), g.data()); return g; }, kExact});
  }
  for (bool log_space : {false, true}) {
    const std::string name = std::string(log_space ? "log_softmax" : "softmax") + shape;
    const Floats logits = random_floats(n, gen, -8.0, 8.0);
    auto run = [=](bool fast) {
      Floats y(n), g(n);
      (fast ? cpu::softmax<float> : ref::softmax<float>)(log_space, d.rows, d.cols, logits.data(), y.data());
      (fast ? cpu::softmax_backward<float> : ref::softmax_backward<float>)(log_space, d.rows, d.cols, y.data(),
                                                                            gy.data(), g.data());
      y.insert(y.end(), g.begin(), g.end());
      return y;
    };
    cases.push_back({name + " and backward", [=] { return run(true); }, [=] { return run(false); }, kSoftmax});
  }
}

// Integer-valued rows: the float sums are exact, so any difference is a wrong row or a lost term.
void add_row_cases(std::vector<Case>& cases, Dims d, Generator& gen) {
  const int64_t n = d.rows * d.cols, targets = d.rows / 3 + 1;
  const std::string shape = fmt::format(" {}x{}", d.rows, d.cols);
  const Floats src = integer_floats(n, gen), dst = integer_floats(n, gen);
  std::vector<int64_t> index(d.rows);
  for (int64_t& i : index) i = static_cast<int64_t>(gen.next_uniform() * targets) % targets;
  cases.push_back({"scatter_add_rows" + shape,
                   [=] { Floats o(targets * d.cols); cpu::scatter_add_rows(d.rows, d.cols, src.data(), index.data(), targets, o.data()); return o; },
                   [=] { Floats o(targets * d.cols); ref::scatter_add_rows(d.rows, d.cols, src.data(), index.data(), targets, o.data()); return o; },
                   kExact});
  cases.push_back({"copy_cols, accumulate" + shape,
                   [=] { Floats o = dst; cpu::copy_cols(d.rows, d.cols, src.data(), d.cols, o.data(), d.cols, true); return o; },
                   [=] { Floats o = dst; ref::copy_cols(d.rows, d.cols, src.data(), d.cols, o.data(), d.cols, true); return o; },
                   kExact});
  // Three experts, one of them without rows; the bias gradient only (the GEMMs: tests/kernels/test_gemm.cpp).
  const std::vector<int64_t> offsets = {0, d.rows / 2, d.rows / 2, d.rows};
  const int64_t in = 3;
  const Floats x = integer_floats(d.rows * in, gen), w = integer_floats(3 * in * d.cols, gen);
  auto bias_grad = [=](bool fast) {
    Floats gb(3 * d.cols);
    (fast ? cpu::grouped_linear_backward<float> : ref::grouped_linear_backward<float>)(
        3, offsets.data(), in, d.cols, x.data(), w.data(), src.data(), nullptr, nullptr, gb.data());
    return gb;
  };
  cases.push_back({"grouped_linear bias gradient" + shape, [=] { return bias_grad(true); },
                   [=] { return bias_grad(false); }, kExact});
}

// 2 x 2 max-pool forward and backward on integer-valued planes (ties: the first maximum in row-major order wins); gx
// starts as NaN, so an element the kernel leaves unwritten shows.
void add_maxpool_cases(std::vector<Case>& cases, int64_t planes, int64_t h, int64_t w, Generator& gen) {
  const int64_t n = planes * h * w, m = planes * (h / 2) * (w / 2);
  const Floats x = integer_floats(n, gen), gy = random_floats(m, gen);
  auto run = [=](bool fast) {
    Floats y(m), gx(n, std::numeric_limits<float>::quiet_NaN());  // every element of gx must be written
    (fast ? cpu::maxpool2x2<float> : ref::maxpool2x2<float>)(planes, h, w, x.data(), y.data());
    (fast ? cpu::maxpool2x2_backward<float> : ref::maxpool2x2_backward<float>)(planes, h, w, x.data(), gy.data(),
                                                                              gx.data());
    y.insert(y.end(), gx.begin(), gx.end());
    return y;
  };
  cases.push_back({fmt::format("maxpool2x2 and backward {}x{}x{}", planes, h, w), [=] { return run(true); },
                   [=] { return run(false); }, kExact});
}

// The conv2d bias gradient (each output plane summed on the vector loops) on integer-valued gradients, where every
// order of summation gives the same exact value; planes of 1 to 33 x 33 positions.
void add_conv_bias_cases(std::vector<Case>& cases, int64_t batch, int64_t side, Generator& gen) {
  ConvGeom g;
  g.channels = 1, g.height = g.width = side + 2, g.kh = g.kw = 3;  // positions: side x side
  const int64_t out_ch = 3;
  const Floats gy = integer_floats(batch * out_ch * g.positions(), gen);
  auto run = [=](bool fast) {
    Floats gb(out_ch);
    (fast ? cpu::conv2d_backward<float> : ref::conv2d_backward<float>)(g, batch, out_ch, nullptr, nullptr, gy.data(),
                                                                       nullptr, nullptr, gb.data());
    return gb;
  };
  cases.push_back({fmt::format("conv2d bias gradient {} x {}x{}", batch, side, side), [=] { return run(true); },
                   [=] { return run(false); }, kExact});
}

// Three steps of optim::Adam (or AdamW) over two parameters of n elements with fixed gradients: the parameters,
// then m and v of each.
Floats adam_steps(const Floats& p0, const Floats& g, bool decoupled) {
  const int64_t n = static_cast<int64_t>(p0.size());
  std::vector<ag::Var> params;
  for (int k = 0; k < 2; ++k) {
    params.push_back(ag::param(Tensor::from_vector({n}, p0)));
    params.back().grad() = Tensor::from_vector({n}, g);
  }
  optim::AdamOptions opt;
  opt.weight_decay = 0.01, opt.decoupled = decoupled;
  optim::Adam adam(params, optim::constant_lr(1e-2), opt);
  for (int s = 0; s < 3; ++s) adam.step();
  Floats out;
  for (size_t k = 0; k < params.size(); ++k)
    for (const Tensor& t : {params[k].value(), adam.state(k, 0), adam.state(k, 1)})
      for (int64_t i = 0; i < n; ++i) out.push_back(t.data<float>()[i]);
  return out;
}

// The same three steps in double, rounded to float at the end.
Floats adam_reference(const Floats& p0, const Floats& g, bool decoupled) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 1e-2, wd = 0.01;
  std::vector<double> p(p0.begin(), p0.end()), m(p0.size(), 0.0), v(p0.size(), 0.0);
  for (int t = 1; t <= 3; ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      const double gi = g[i] + (decoupled ? 0.0 : wd * p[i]);
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double update = lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
      p[i] = (decoupled ? 1 - lr * wd : 1.0) * p[i] - update;
    }
  Floats out;
  for (int k = 0; k < 2; ++k)
    for (const std::vector<double>* t : {&p, &m, &v})
      for (double x : *t) out.push_back(static_cast<float>(x));
  return out;
}

void add_adam_cases(std::vector<Case>& cases, int64_t n, Generator& gen) {
  const Floats p0 = random_floats(n, gen), g = random_floats(n, gen);
  for (bool decoupled : {false, true})
    cases.push_back({fmt::format("{} n {}", decoupled ? "adamw" : "adam", n),
                     [=] { return adam_steps(p0, g, decoupled); }, [=] { return adam_reference(p0, g, decoupled); },
                     kAdam});
}

std::vector<Case> all_cases() {
  Generator gen(21);
  std::vector<Case> cases;
  for (Dims d : kDims) {
    add_elementwise_cases(cases, d, gen);
    add_row_cases(cases, d, gen);
  }
  for (int64_t w : {2, 14, 34}) add_maxpool_cases(cases, 32, 34, w, gen);  // 32 x 17 x 34 rows: past the grain
  // Odd heights and widths (the last row or column belongs to no window: gradient 0) over several planes, planes
  // smaller than a window.
  for (int64_t h : {1, 3, 5, 33})
    for (int64_t w : {1, 4, 7, 35}) add_maxpool_cases(cases, 32, h, w, gen);
  for (int64_t n : {1, 37, 20000}) add_adam_cases(cases, n, gen);  // 20000 > one optimizer chunk (8192)
  for (int64_t side : {1, 3, 7, 33}) add_conv_bias_cases(cases, 40, side, gen);
  return cases;
}

void check_against_reference(const Case& c, const Floats& got, const Floats& want) {
  INFO(c.name);
  REQUIRE(got.size() == want.size());
  if (c.tol.rtol == 0 && c.tol.atol == 0) {
    size_t bad = 0;
    while (bad < got.size() && got[bad] == want[bad]) ++bad;
    INFO(fmt::format("first mismatch at {}: got {:.9g} want {:.9g}", bad, bad < got.size() ? got[bad] : 0.0f,
                     bad < want.size() ? want[bad] : 0.0f));
    CHECK(bad == got.size());
    return;
  }
  const Shape shape{static_cast<int64_t>(got.size())};
  COMET_CHECK_CLOSE(Tensor::from_vector(shape, std::vector<double>(got.begin(), got.end())),
                    Tensor::from_vector(shape, std::vector<double>(want.begin(), want.end())), c.tol.rtol, c.tol.atol);
}

// Every case on `isa`: bit-identical at 1 and 2 threads, and within its tolerance of the reference.
void check_isa(cpu::Isa isa) {
  const cpu::IsaScope isa_scope(isa);
  for (const Case& c : all_cases()) {
    Floats one, two;
    {
      const ThreadScope threads(1);
      one = c.fast();
    }
    {
      const ThreadScope threads(2);
      two = c.fast();
    }
    INFO(c.name);
    CHECK(one == two);
    check_against_reference(c, one, c.ref());
  }
}

#define VECTOR_LOOPS_ISA_TEST_CASE(ISA)                                                                           \
  TEST_CASE("vector loops [" #ISA "]: every kernel on them against the reference, bit-identical at 1 and 2 threads") { \
    if (!cpu::cpu_supports(cpu::Isa::ISA)) COMET_SKIP_TEST("this CPU does not support " #ISA);                    \
    check_isa(cpu::Isa::ISA);                                                                                    \
  }
VECTOR_LOOPS_ISA_TEST_CASE(scalar)
VECTOR_LOOPS_ISA_TEST_CASE(avx2)
VECTOR_LOOPS_ISA_TEST_CASE(avx512)

TEST_CASE("vector loops: the Adam step gives the same bits on every ISA this CPU supports") {
  Generator gen(22);
  const Floats p0 = random_floats(20000, gen), g = random_floats(20000, gen);
  Floats scalar;
  {
    const cpu::IsaScope isa_scope(cpu::Isa::scalar);
    scalar = adam_steps(p0, g, false);
  }
  for (cpu::Isa isa : cpu::supported_isas()) {
    const cpu::IsaScope isa_scope(isa);
    INFO(cpu::isa_name(isa));
    CHECK(adam_steps(p0, g, false) == scalar);
  }
}

// all_finite (the fused update's check of each gradient piece): an inf, -inf or NaN at any position of a run (the
// vector body and every tail), in float and double, on every ISA; the largest finite values count as finite.
template <class T>
void check_all_finite(cpu::Isa isa) {
  const cpu::VectorLoops<T>& loops = cpu::vector_loops<T>(isa);
  const T bad[] = {std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
                   std::numeric_limits<T>::quiet_NaN()};
  for (int64_t n : {1, 7, 16, 33, 100}) {
    std::vector<T> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[i] = (i % 2 ? T(-1) : T(1)) * std::numeric_limits<T>::max();
    INFO(cpu::isa_name(isa) << " n " << n);
    CHECK(loops.all_finite(n, x.data()));
    for (int64_t at = 0; at < n; ++at)
      for (T b : bad) {
        std::vector<T> y = x;
        y[at] = b;
        INFO("at " << at << " value " << b);
        CHECK_FALSE(loops.all_finite(n, y.data()));
      }
  }
  CHECK(loops.all_finite(0, nullptr));
}

TEST_CASE("vector loops: all_finite finds an inf or NaN anywhere, on every ISA this CPU supports") {
  for (cpu::Isa isa : cpu::supported_isas()) {
    check_all_finite<float>(isa);
    check_all_finite<double>(isa);
  }
}

}  // namespace
}  // namespace comet
