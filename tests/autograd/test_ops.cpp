// Walks the op list: every op must have cases; every case passes the gradient check (F64, tolerance from its
// GradcheckOptions, default rtol 1e-4) and gives the same forward values and input gradients with the fast
// and the reference kernels (F32, |fast - ref| <= 1e-5 (|ref| + rms(ref)) + 1e-7: relative to the element or
// to the tensor's scale, whichever is larger), at sizes 1, 7, 33 and 257. On a CUDA device (or its host emulation,
// COMET_CUDA_EMULATE=1), every op gives the fast CPU kernels' results within the same tolerance.
#include <doctest/doctest.h>

#include "autograd/device.h"
#include "autograd/op_list.h"
#include "kernels/backend.h"
#include "op_cases.h"

namespace comet::test {
namespace {

constexpr double kKernelRtol = 1e-5;

std::vector<Tensor> as_f32(const std::vector<Tensor>& in) {
  std::vector<Tensor> out;
  for (const Tensor& t : in) out.push_back(t.dtype() == DType::F64 ? t.to(DType::F32) : t);
  return out;
}

// Forward value and the gradients of sum(w * f) for each float input, under one kernel set, with the inputs on
// `device`; the results come back to the CPU.
std::vector<Tensor> run_with(KernelSet set, const OpCase& c, const std::vector<Tensor>& inputs,
                             Device device = Device::CPU) {
  KernelSetScope scope(set);
  std::vector<ag::Var> vars;
  for (const Tensor& t : inputs) vars.emplace_back(ag::copy_to(t, device), t.dtype() == DType::F32);
  ag::Var y = c.fn(vars);
  std::vector<Tensor> out{ag::copy_to(y.value(), Device::CPU).clone()};
  if (y.requires_grad()) {
    Tensor w = Tensor::empty(y.shape(), DType::F32);
    Generator(55).uniform(w, 0.5, 1.5);
    ag::backward(y, ag::copy_to(w, y.value().device()));
    for (const ag::Var& v : vars) {
      if (v.requires_grad())
        out.push_back(v.grad().defined() ? ag::copy_to(v.grad(), Device::CPU) : zeros_like(v.value()));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every op in the op list has test cases") {
  for (const char* name : ag::kOpNames) {
    INFO("op: " << std::string(name));
    CHECK(op_cases().count(name) == 1);
  }
  CHECK(op_cases().size() == std::size(ag::kOpNames));  // no cases for ops missing from the list
}

TEST_CASE("gradient check of every op at sizes 1, 7, 33, 257") {
  for (const auto& [name, maker] : op_cases()) {
    for (int64_t n : kOddSizes) {
      Generator gen(1000 + n);
      for (const OpCase& c : maker(n, gen)) {
        const auto r = ag::gradcheck(c.fn, c.inputs, c.grad);
        INFO(name << " / " << c.label << " (n = " << n << "): worst " << r.worst_error << ": " << r.message);
        CHECK(r.ok);
      }
    }
  }
}

TEST_CASE("fast kernels match reference kernels, forward and backward, for every op") {
  for (const auto& [name, maker] : op_cases()) {
    for (int64_t n : kOddSizes) {
      Generator gen(2000 + n);
      for (const OpCase& c : maker(n, gen)) {
        if (!c.compare_kernels) continue;
        const auto inputs = as_f32(c.inputs);
        const auto fast = run_with(KernelSet::Fast, c, inputs);
        const auto ref = run_with(KernelSet::Reference, c, inputs);
        REQUIRE(fast.size() == ref.size());
        for (size_t i = 0; i < fast.size(); ++i) {
          INFO(name << " / " << c.label << " (n = " << n << ") " << (i == 0 ? std::string("forward") : "gradient " + std::to_string(i)));
          COMET_CHECK_CLOSE(fast[i], ref[i], kKernelRtol, 1e-7 + kKernelRtol * rms(ref[i]));
        }
      }
    }
  }
}

TEST_CASE("every op on the device equals the fast CPU kernels, forward and backward") {
  COMET_SKIP_WITHOUT_CUDA();
  for (const auto& [name, maker] : op_cases()) {
    for (int64_t n : kOddSizes) {
      Generator gen(3000 + n);
      for (const OpCase& c : maker(n, gen)) {
        INFO(name << " / " << c.label << " (n = " << n << ")");
        const auto inputs = as_f32(c.inputs);
        const auto device = run_with(KernelSet::Fast, c, inputs, Device::CUDA);
        const auto cpu = run_with(KernelSet::Fast, c, inputs);
        REQUIRE(device.size() == cpu.size());
        for (size_t i = 0; i < device.size(); ++i) {
          INFO((i == 0 ? std::string("forward") : "gradient " + std::to_string(i)));
          COMET_CHECK_CLOSE(device[i], cpu[i], kKernelRtol, 1e-7 + kKernelRtol * rms(cpu[i]));
        }
      }
    }
  }
}

}  // namespace comet::test
