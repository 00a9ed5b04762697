// Fast conv2d and max-pool. conv2d runs the shared per-sample steps of kernels/conv.h with cpu::gemm, the
// samples split over threads (each thread with its own column buffer; cpu::gemm's own threads only come in
// when the batch loop runs serially). The weight gradient is summed per fixed chunk of samples (the chunks
// depend on the batch size only) and the chunks added in order, so the result does not depend on the thread
// count; the bias gradient sums each plane on the vector loops, in the active ISA's lane order. Float convolutions of
// single-channel images without padding run the direct kernels of kernels/cpu/conv_direct.h instead of im2col + GEMM
// (forward, and the weight gradient when no input gradient is asked for), over the same sample ranges and chunks.
// Max-pool splits output rows over threads and runs each on the active ISA's vector loops
// (kernels/cpu/vector_loops.h).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/isa_pick.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_loops.h"

namespace comet::cpu {

const DirectConvKernel& direct_conv_kernel(Isa isa) { return COMET_PICK_ISA(isa, direct_conv_kernel); }

namespace {
constexpr int64_t kMaxWeightChunks = 16;  // partial weight gradients (bounds the extra memory)

// The direct kernels of the active ISA when they take this float convolution, else null.
template <class T>
const DirectConvKernel* direct_kernel(const ConvGeom& g) {
  if constexpr (std::is_same_v<T, float>) {
    if (direct_conv_applies(g)) return &direct_conv_kernel(active_isa());
  }
  return nullptr;
}
}  // namespace

template <class T>
void conv2d(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* bias, T* y) {
  const int64_t ysize = out_ch * g.positions();
  const DirectConvKernel* direct = direct_kernel<T>(g);
  parallel_for(batch, out_ch * g.patch() * g.positions(), [&](int64_t n0, int64_t n1) {
    if constexpr (std::is_same_v<T, float>) {
      if (direct && direct->forward)
        return direct->forward(g, n1 - n0, out_ch, x + n0 * g.in_size(), w, bias, y + n0 * ysize);
    }
    std::vector<T> col(g.patch() * g.positions());
    for (int64_t n = n0; n < n1; ++n)
      conv2d_sample<T>(&cpu::gemm<T>, g, out_ch, x + n * g.in_size(), w, bias, y + n * ysize, col.data());
  });
}

template <class T>
void conv2d_backward(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* gy, T* gx,
                     T* gw, T* gb) {
  const int64_t p = g.positions(), ysize = out_ch * p, wsize = out_ch * g.patch();
  const int64_t chunks = std::max<int64_t>(1, std::min(batch, kMaxWeightChunks));  // zeros when batch == 0
  std::vector<T> partial(gw ? chunks * wsize : 0);
  const DirectConvKernel* direct = gx ? nullptr : direct_kernel<T>(g);
  parallel_for(chunks, (batch / chunks) * 2 * wsize * p, [&](int64_t c0, int64_t c1) {
    std::vector<T> col(direct ? 0 : g.patch() * p);
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t first = batch * c / chunks, last = batch * (c + 1) / chunks;
      if constexpr (std::is_same_v<T, float>) {
        if (direct) {
          if (gw) direct->weight_grad(g, last - first, out_ch, x + first * g.in_size(), gy + first * ysize,
                                      partial.data() + c * wsize);
          continue;
        }
      }
      for (int64_t n = first; n < last; ++n)
        conv2d_sample_backward<T>(&cpu::gemm<T>, g, out_ch, x + n * g.in_size(), w, gy + n * ysize,
                                  gx ? gx + n * g.in_size() : nullptr, gw ? partial.data() + c * wsize : nullptr,
                                  n == first ? T(0) : T(1), col.data());
    }
  });
  if (gw)
    parallel_for(wsize, chunks, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) {
        double s = 0;
        for (int64_t c = 0; c < chunks; ++c) s += partial[c * wsize + e];
        gw[e] = static_cast<T>(s);
      }
    });
  if (gb) {
    // Each plane's sum on the vector loops (double lanes: the chain of one double add per element that the
    // reference's conv_bias_grad waits on took 6% of a MultiFashionMNIST epoch), the planes added in batch order.
    const VectorLoops<T>& loops = active_vector_loops<T>();
    parallel_for(out_ch, batch * p, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        double s = 0;
        for (int64_t n = 0; n < batch; ++n) s += loops.sum(p, gy + (n * out_ch + o) * p);
        gb[o] = static_cast<T>(s);
      }
    });
  }
}

// Output row r is row r % oh of plane r / oh and reads that plane's input rows 2 (r % oh) and 2 (r % oh) + 1; an odd
// height's last row and an odd width's last column belong to no window.
template <class T>
const T* window_rows(const T* x, int64_t r, int64_t oh, int64_t h, int64_t w) {
  return x + ((r / oh) * h + 2 * (r % oh)) * w;
}

template <class T>
void maxpool2x2(int64_t planes, int64_t h, int64_t w, const T* x, T* y) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  const int64_t oh = h / 2, ow = w / 2;
  parallel_for(planes * oh, w, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* top = window_rows(x, r, oh, h, w);
      loops.maxpool2x2_row(ow, top, top + w, y + r * ow);
    }
  });
}

template <class T>
void maxpool2x2_backward(int64_t planes, int64_t h, int64_t w, const T* x, const T* gy, T* gx) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  const int64_t oh = h / 2, ow = w / 2;
  parallel_for(planes * oh, w, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t at = window_rows(x, r, oh, h, w) - x;
      loops.maxpool2x2_row_backward(ow, x + at, x + at + w, gy + r * ow, gx + at, gx + at + w);
      if (w % 2) gx[at + w - 1] = gx[at + 2 * w - 1] = T(0);
    }
  });
  if (h % 2)
    for (int64_t q = 0; q < planes; ++q) std::fill_n(gx + (q * h + h - 1) * w, w, T(0));
}

COMET_INSTANTIATE_CONV(float)
COMET_INSTANTIATE_CONV(double)

}  // namespace comet::cpu
