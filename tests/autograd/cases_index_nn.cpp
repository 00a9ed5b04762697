// Op cases: gather_rows, scatter_add_rows, embedding (indices with repeats and unused rows, i32 and i64),
// concat_cols, split_cols, reshape, flatten, dropout (a fixed seed inside the case, so every call draws the
// same mask), conv2d (odd sizes, padding 0/1/2, with and without bias) and maxpool2x2 (inputs without ties).
#include "op_cases.h"

namespace comet::test {
namespace {

using ag::Var;

// m indices in [0, hi) (so rows hi.. are never used) with the last one repeating the first.
Tensor random_index(int64_t m, int64_t hi, DType dtype, Generator& gen) {
  Tensor t = Tensor::empty({m}, DType::I64);
  gen.randint(t, 0, hi);
  t.data<int64_t>()[m - 1] = t.data<int64_t>()[0];
  return t.to(dtype);
}

// Distinct values k / numel in a random order: max-pool windows have no ties, even after an F32 cast or a
// finite-difference step.
Tensor distinct_values(const Shape& shape, Generator& gen) {
  const int64_t n = shape_numel(shape);
  const auto perm = gen.permutation(n);
  Tensor t = Tensor::empty(shape, DType::F64);
  for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = double(perm[i]) / double(n) - 0.5;
  return t;
}

COMET_OP_CASES("gather_rows", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::gather_rows(v[0], v[1].value()); };
  return std::vector<OpCase>{
      {"x [n+1,4], index i64 [2n+1] into rows [0,n)", {random_tensor({n + 1, 4}, gen), random_index(2 * n + 1, n, DType::I64, gen)}, f},
      {"x [5,n], index i32 [7]", {random_tensor({5, n}, gen), random_index(7, 4, DType::I32, gen)}, f},
  };
});

COMET_OP_CASES("scatter_add_rows", [](int64_t n, Generator& gen) {
  auto f = [](int64_t rows) {
    return [rows](const std::vector<Var>& v) { return ag::scatter_add_rows(v[0], v[1].value(), rows); };
  };
  return std::vector<OpCase>{
      {"src [2n+1,3], index i64 into [0,n+1) of n+2 rows", {random_tensor({2 * n + 1, 3}, gen), random_index(2 * n + 1, n + 1, DType::I64, gen)}, f(n + 2)},
      {"src [6,n], index i32 into [0,3) of 4 rows", {random_tensor({6, n}, gen), random_index(6, 3, DType::I32, gen)}, f(4)},
  };
});

COMET_OP_CASES("embedding", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::embedding(v[0], v[1].value()); };
  return std::vector<OpCase>{
      {"table [n+1,5], ids i64 [2n+1]", {random_tensor({n + 1, 5}, gen), random_index(2 * n + 1, n, DType::I64, gen)}, f},
      {"table [9,n], ids i32 [4]", {random_tensor({9, n}, gen), random_index(4, 8, DType::I32, gen)}, f},
  };
});

COMET_OP_CASES("concat_cols", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::concat_cols(v); };
  return std::vector<OpCase>{
      {"[n,2] [n,3] [n,1]", {random_tensor({n, 2}, gen), random_tensor({n, 3}, gen), random_tensor({n, 1}, gen)}, f},
      {"[4,n] [4,1]", {random_tensor({4, n}, gen), random_tensor({4, 1}, gen)}, f},
  };
});

COMET_OP_CASES("split_cols", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{
      {"x [n,6] into 2,3,1, reordered, one part used twice", {random_tensor({n, 6}, gen)},
       [](const std::vector<Var>& v) {
         auto p = ag::split_cols(v[0], {2, 3, 1});
         return ag::concat_cols({p[2], ag::scale(p[0], 2.0), p[1], p[2]});
       }},
      {"x [3,n+2] into n,0,2, the 2 unused", {random_tensor({3, n + 2}, gen)},
       [n](const std::vector<Var>& v) { return ag::split_cols(v[0], {n, 0, 2})[0]; }},
  };
});

COMET_OP_CASES("reshape", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{
      {"[n,6] -> [2,n,3]", {random_tensor({n, 6}, gen)}, [n](const std::vector<Var>& v) { return ag::reshape(v[0], {2, n, 3}); }},
      {"[3,n] -> [-1]", {random_tensor({3, n}, gen)}, [](const std::vector<Var>& v) { return ag::reshape(v[0], {-1}); }},
  };
});

COMET_OP_CASES("flatten", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::flatten(v[0]); };
  return std::vector<OpCase>{
      {"[n,2,3]", {random_tensor({n, 2, 3}, gen)}, f},
      {"[2,n,1,3]", {random_tensor({2, n, 1, 3}, gen)}, f},
  };
});

COMET_OP_CASES("dropout", [](int64_t n, Generator& gen) {
  auto f = [](double p, bool training) {
    return [p, training](const std::vector<Var>& v) {
      Generator mask_gen(42);
      return ag::dropout(v[0], p, mask_gen, training);
    };
  };
  return std::vector<OpCase>{
      {"x [n,5], p 0.3", {random_tensor({n, 5}, gen)}, f(0.3, true)},
      {"x [n,2], p 0.9", {random_tensor({n, 2}, gen)}, f(0.9, true)},
      {"x [n,3], p 0 (identity)", {random_tensor({n, 3}, gen)}, f(0.0, true)},
      {"x [n,3], eval (identity)", {random_tensor({n, 3}, gen)}, f(0.5, false)},
  };
});

COMET_OP_CASES("conv2d", [](int64_t n, Generator& gen) {
  auto f = [](int64_t pad) {
    return [pad](const std::vector<Var>& v) {
      return ag::conv2d(v[0], v[1], v.size() > 2 ? std::optional<Var>(v[2]) : std::nullopt, pad);
    };
  };
  return std::vector<OpCase>{
      {"x [2,2,n,5], w [3,2,3,2], bias, pad 1",
       {random_tensor({2, 2, n, 5}, gen), random_tensor({3, 2, 3, 2}, gen), random_tensor({3}, gen)}, f(1)},
      {"x [1,3,4,n], w [2,3,2,3], no bias, pad 2", {random_tensor({1, 3, 4, n}, gen), random_tensor({2, 3, 2, 3}, gen)}, f(2)},
      {"x [n,1,3,3], w [4,1,3,3], bias, pad 0",
       {random_tensor({n, 1, 3, 3}, gen), random_tensor({4, 1, 3, 3}, gen), random_tensor({4}, gen)}, f(0)},
  };
});

COMET_OP_CASES("maxpool2x2", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::maxpool2x2(v[0]); };
  return std::vector<OpCase>{
      {"x [2,3,2n,4]", {distinct_values({2, 3, 2 * n, 4}, gen)}, f},
      {"x [1,2,6,2n]", {distinct_values({1, 2, 6, 2 * n}, gen)}, f},
  };
});

COMET_OP_CASES("select", [](int64_t n, Generator& gen) {
  std::vector<OpCase> cases;
  for (int64_t index : {int64_t(0), n / 2, n - 1})  // first, middle and last block of a stacked tensor
    cases.push_back({fmt::format("[n,3,2] index {}", index), {random_tensor({n, 3, 2}, gen)},
                     [index](const std::vector<ag::Var>& v) { return ag::select(v[0], index); }});
  return cases;
});

}  // namespace
}  // namespace comet::test
