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

ag::Var MlpExperts::forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets) {
  return ag::grouped_linear(ag::relu(ag::grouped_linear(x, w1_, b1_, offsets)), w2_, b2_, offsets);
}

ag::Var MlpExperts::forward_one(int64_t e, const ag::Var& x) {
  COMET_CHECK(e >= 0 && e < count(), "MlpExperts: expert {} out of range [0, {})", e, count());
  std::vector<int64_t> offsets(count() + 1, 0);  // every row in expert e's segment
  for (int64_t i = e + 1; i <= count(); ++i) offsets[i] = x.shape()[0];
  return forward_grouped(x, offsets);
}

}  // namespace comet::moe
