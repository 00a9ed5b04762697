// Dispatch plan: histogram, exclusive prefix sum, stable placement.
#include "kernels/dispatch.h"

#include "core/error.h"
#include "core/mutation.h"

namespace comet {

template <class T>
DispatchPlan plan_dispatch(int64_t batch, int64_t experts, const T* g) {
  COMET_CHECK(batch >= 0 && experts >= 1, "plan_dispatch: bad sizes batch {} experts {}", batch, experts);
  DispatchPlan plan;
  plan.batch = batch;
  plan.experts = experts;
  plan.offsets.assign(experts + 1, 0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t e = 0; e < experts; ++e) {
      const T v = g[b * experts + e];
      COMET_CHECK(v == v, "plan_dispatch: gate weight of sample {} expert {} is NaN", b, e);
      if (v != T(0)) ++plan.offsets[e + 1];
    }
  for (int64_t e = 0; e < experts; ++e) plan.offsets[e + 1] += plan.offsets[e];
  const int64_t pairs = plan.offsets[experts];
  plan.sample.resize(pairs);
  plan.flat.resize(pairs);
  std::vector<int64_t> next(plan.offsets.begin(), plan.offsets.end() - 1);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t e = 0; e < experts; ++e)
      if (g[b * experts + e] != T(0)) {
        int64_t slot = next[e]++;
        if (COMET_MUTANT(dispatch_unstable)) slot = plan.offsets[e] + plan.offsets[e + 1] - 1 - slot;
        plan.sample[slot] = b;
        plan.flat[slot] = b * experts + e;
      }
  if (COMET_MUTANT(dispatch_last_row_lost) && plan.offsets[experts] > plan.offsets[experts - 1]) {
    --plan.offsets[experts];
    plan.sample.pop_back();
    plan.flat.pop_back();
  }
  return plan;
}

template DispatchPlan plan_dispatch<float>(int64_t, int64_t, const float*);
template DispatchPlan plan_dispatch<double>(int64_t, int64_t, const double*);

}  // namespace comet
