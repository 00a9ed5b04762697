// MoE dispatch index math (plain host code, shared by every backend): from a dense gate matrix g [B, n], the
// (sample, expert) pairs with g != 0, grouped by expert through a histogram and an exclusive prefix sum,
// stable in sample order within each expert. Test: tests/kernels/test_dispatch.cpp.
#pragma once
#include <cstdint>
#include <vector>

namespace comet {

struct DispatchPlan {
  int64_t batch = 0, experts = 0;
  std::vector<int64_t> offsets;  // [experts + 1]: expert e owns pairs [offsets[e], offsets[e + 1])
  std::vector<int64_t> sample;   // [pairs]: the sample of each pair, expert-major
  std::vector<int64_t> flat;     // [pairs]: sample * experts + expert, the pair's index into g

  int64_t pairs() const { return static_cast<int64_t>(sample.size()); }
  int64_t count(int64_t e) const { return offsets[e + 1] - offsets[e]; }
};

template <class T>
DispatchPlan plan_dispatch(int64_t batch, int64_t experts, const T* g);

}  // namespace comet
