// Op cases: grouped_linear with uneven segments, including experts with no rows (first, middle and last).
#include "op_cases.h"

namespace comet::test {
namespace {

COMET_OP_CASES("grouped_linear", [](int64_t n, Generator& gen) {
  std::vector<OpCase> cases;
  // n rows split over 5 experts: [0, a), [a, a), [a, b), [b, n), [n, n) -> experts 1 and 4 empty (and more when n = 1).
  const int64_t a = n / 3, b = n - n / 4;
  const std::vector<int64_t> offsets{0, a, a, b, n, n};
  auto f = [offsets](const std::vector<ag::Var>& v) { return ag::grouped_linear(v[0], v[1], v[2], offsets); };
  cases.push_back({"rows n over 5 experts", {random_tensor({n, 4}, gen), random_tensor({5, 4, 3}, gen),
                                              random_tensor({5, 3}, gen)}, f});
  // Wide layers: in = n, out = 7, all rows in the middle expert of 3.
  const std::vector<int64_t> one{0, 0, 6, 6};
  cases.push_back({"in n, one busy expert", {random_tensor({6, n}, gen), random_tensor({3, n, 7}, gen),
                                             random_tensor({3, 7}, gen)},
                   [one](const std::vector<ag::Var>& v) { return ag::grouped_linear(v[0], v[1], v[2], one); }});
  return cases;
});

}  // namespace
}  // namespace comet::test
