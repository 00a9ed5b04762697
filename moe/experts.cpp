// MLP experts as grouped linear layers.
#include "moe/experts.h"

#include <cmath>

namespace comet::moe {
namespace {
ag::Var uniform(const Shape& shape, double bound, Generator& gen, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  gen.uniform(t, -bound, bound);
  return ag::param(t);
}
}  // namespace

MlpExperts::MlpExperts(int64_t count, int64_t in, int64_t hidden, int64_t out, Generator& gen, DType dtype) {
  COMET_CHECK(count >= 1 && in >= 1 && hidden >= 1 && out >= 1,
              "MlpExperts: sizes must be positive (count {}, in {}, hidden {}, out {})", count, in, hidden, out);
  const double b1 = 1.0 / std::sqrt(static_cast<double>(in)), b2 = 1.0 / std::sqrt(static_cast<double>(hidden));
  w1_ = uniform({count, in, hidden}, b1, gen, dtype);
  b1_ = uniform({count, hidden}, b1, gen, dtype);
  w2_ = uniform({count, hidden, out}, b2, gen, dtype);
  b2_ = uniform({count, out}, b2, gen, dtype);
}

MlpExperts::MlpExperts(ag::Var w1, ag::Var b1, ag::Var w2, ag::Var b2)
    : w1_(std::move(w1)), b1_(std::move(b1)), w2_(std::move(w2)), b2_(std::move(b2)) {
  const int64_t n = w1_.shape().size() == 3 ? w1_.shape()[0] : -1;
  COMET_CHECK(n >= 1 && b1_.shape() == Shape({n, w1_.shape()[2]}) && w2_.shape().size() == 3 && w2_.shape()[0] == n &&
                  w2_.shape()[1] == w1_.shape()[2] && b2_.shape() == Shape({n, w2_.shape()[2]}),
              "MlpExperts: parameters {} {} {} {} do not fit [n, in, hidden], [n, hidden], [n, hidden, out], [n, out]",
              shape_str(w1_.shape()), shape_str(b1_.shape()), shape_str(w2_.shape()), shape_str(b2_.shape()));
}

ag::Var MlpExperts::forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets) {
  return ag::grouped_linear(ag::relu(ag::grouped_linear(x, w1_, b1_, offsets)), w2_, b2_, offsets);
}

ag::Var MlpExperts::forward_one(int64_t e, const ag::Var& x) {
  // Plain matmuls on expert e's weights (independent of the grouped kernels the sparse path uses); select() puts the
  // gradient in expert e's block only, so the dense path costs O(n), not O(n^2).
  COMET_CHECK(e >= 0 && e < count(), "MlpExperts: expert {} out of range [0, {})", e, count());
  const ag::Var h = ag::relu(ag::linear(x, ag::select(w1_, e), ag::select(b1_, e)));
  return ag::linear(h, ag::select(w2_, e), ag::select(b2_, e));
}

}  // namespace comet::moe
