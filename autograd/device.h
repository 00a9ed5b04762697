// Devices in the autograd: an op runs its kernels on the device of its inputs (they must share one; otherwise the
// error names the op and both devices) and allocates its outputs there. COMET_ON_DEVICE(device, cpu_fn, fn) picks
// cuda::fn for Device::CUDA (kernels/cuda/, whose launchers have the CPU kernels' signatures), else cpu_fn;
// COMET_KERNEL_ON(device, fn) has COMET_KERNEL(fn) (kernels/backend.h: the fast CPU kernels or the references) for
// the CPU. Every op of autograd/op_list.h runs on either device. Host-side decisions (index checks, the MoE's
// dispatch plan and Top-k selection) read copies of device values. In a build without the CUDA backend no tensor
// can live on CUDA (empty_on refuses it).
// Tests: tests/autograd/test_ops.cpp (every op case on the device), tests/optim/test_on_device.cpp.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/backend.h"
#include "kernels/elementwise.h"
#include "kernels/gate.h"
#include "kernels/gemm.h"
#include "kernels/index.h"
#include "kernels/loss.h"
#include "kernels/reduce.h"

#ifdef COMET_WITH_CUDA
#include "kernels/cuda/dispatch.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gate.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/scatter_rows.h"
#include "kernels/cuda/layout.h"
#define COMET_ON_DEVICE(DEVICE, CPU_FN, FN) ((DEVICE) == ::comet::Device::CUDA ? &::comet::cuda::FN : (CPU_FN))
#else
#define COMET_ON_DEVICE(DEVICE, CPU_FN, FN) (CPU_FN)
#endif
#define COMET_KERNEL_ON(DEVICE, FN) COMET_ON_DEVICE(DEVICE, COMET_KERNEL(FN), FN)

namespace comet::ag {

// An uninitialised tensor on `device`, and one with t's shape, dtype and device.
Tensor empty_on(Device device, const Shape& shape, DType dtype);
inline Tensor empty_as(const Tensor& t) { return empty_on(t.device(), t.shape(), t.dtype()); }
// A copy of t on its own device.
Tensor clone_on_device(const Tensor& t);
// A tensor of `shape` on `device` with every element `value`.
Tensor full_on(Device device, const Shape& shape, double value, DType dtype);
// The device that all of `tensors` live on, or an error naming the op and each tensor's shape and device.
Device common_device(const char* op, const std::vector<const Tensor*>& tensors);
// A copy of t on `device` (t itself when it already lives there).
Tensor copy_to(const Tensor& t, Device device);
// Element i of t as a double, read back to the host from any device (a device synchronisation on a GPU).
double host_item(const Tensor& t, int64_t i = 0);
// The position of the first tensor in `tensors` with an infinite or NaN element, or -1 when every one is finite
// (undefined tensors count as finite). The tensors may live on any device; for those on the device, one number per
// tensor is computed there and they come back together, one copy per float dtype, so that checking every gradient of
// a step costs one wait for the device, not one per gradient.
int64_t first_non_finite(const std::vector<Tensor>& tensors);
// all_finite (core/tensor.h) of a tensor on any device: first_non_finite({t}) < 0.
bool all_finite_anywhere(const Tensor& t);
// Throws an Error starting with `who` unless tensors can be made on `device` now: for CUDA, a build with the CUDA
// backend and a usable device (or its host emulation, COMET_CUDA_EMULATE=1), with the reason when not. A program calls
// it before any long work (reading data) that a missing device would waste.
void require_device(Device device, const std::string& who);
// Waits until `device` has finished the work queued on it (a no-op on the CPU): for timing device work from the host.
void synchronize(Device device);
// dst takes src's values (same shape and dtype; src on any device) on dst's device: in place on the CPU; a device
// tensor is replaced by a new copy (a handle to the old buffer keeps the old values).
void assign(Tensor& dst, const Tensor& src);

}  // namespace comet::ag
