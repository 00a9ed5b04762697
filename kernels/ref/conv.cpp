// Reference conv2d and max-pool: one sample at a time through ref::gemm (double accumulation), the weight
// gradient summed over the batch in double, no threads.
#include <vector>

#include "kernels/conv.h"

namespace comet::ref {

template <class T>
void conv2d(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* bias, T* y) {
  std::vector<T> col(g.patch() * g.positions());
  const int64_t ysize = out_ch * g.positions();
  for (int64_t n = 0; n < batch; ++n)
    conv2d_sample<T>(&ref::gemm<T>, g, out_ch, x + n * g.in_size(), w, bias, y + n * ysize, col.data());
}

template <class T>
void conv2d_backward(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* gy, T* gx,
                     T* gw, T* gb) {
  const int64_t ysize = out_ch * g.positions(), wsize = out_ch * g.patch();
  std::vector<T> col(g.patch() * g.positions()), gw_n(gw ? wsize : 0);
  std::vector<double> gw_sum(gw ? wsize : 0, 0.0);
  for (int64_t n = 0; n < batch; ++n) {
    conv2d_sample_backward<T>(&ref::gemm<T>, g, out_ch, x + n * g.in_size(), w, gy + n * ysize,
                              gx ? gx + n * g.in_size() : nullptr, gw ? gw_n.data() : nullptr, T(0), col.data());
    for (int64_t e = 0; e < static_cast<int64_t>(gw_sum.size()); ++e) gw_sum[e] += gw_n[e];
  }
  for (int64_t e = 0; e < static_cast<int64_t>(gw_sum.size()); ++e) gw[e] = static_cast<T>(gw_sum[e]);
  if (gb)
    for (int64_t o = 0; o < out_ch; ++o) gb[o] = static_cast<T>(conv_bias_grad(batch, out_ch, g.positions(), gy, o));
}

template <class T>
void maxpool2x2(int64_t planes, int64_t h, int64_t w, const T* x, T* y) {
  const int64_t oh = h / 2, ow = w / 2;
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const T* top = x + (q * h + 2 * oy) * w + 2 * ox;
        y[(q * oh + oy) * ow + ox] = top[window_offset(window_argmax(top, w), w)];
      }
}

template <class T>
void maxpool2x2_backward(int64_t planes, int64_t h, int64_t w, const T* x, const T* gy, T* gx) {
  const int64_t oh = h / 2, ow = w / 2;
  for (int64_t e = 0; e < planes * h * w; ++e) gx[e] = T(0);
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t base = (q * h + 2 * oy) * w + 2 * ox;
        gx[base + window_offset(window_argmax(x + base, w), w)] = gy[(q * oh + oy) * ow + ox];
      }
}

COMET_INSTANTIATE_CONV(float)
COMET_INSTANTIATE_CONV(double)

}  // namespace comet::ref
