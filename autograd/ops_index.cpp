// Index and shape ops: gather_rows / scatter_add_rows (each the other's backward), embedding, concat_cols /
// split_cols (column blocks of a 2-D tensor), reshape / flatten (views; backward reshapes the gradient).
// Every index is checked against its bound before a kernel runs. Tests: tests/autograd/cases_index_nn.cpp,
// tests/kernels/test_index_conv.cpp.
#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/index.h"

namespace comet::ag {
namespace {

// The index as a 1-D int64 tensor of `length` entries (any length when length < 0) on `device`, every entry
// checked (on the host) to lie in [0, bound); `what` names the entries ("index", "id") and `bound_of` what the
// bound is.
Tensor checked_index(const char* op, const char* what, const Tensor& index, int64_t length, int64_t bound,
                     const std::string& bound_of, Device device) {
  COMET_CHECK(index.defined() && index.ndim() == 1, "{}: the {} tensor must be 1-D, got shape {}", op, what,
              index.defined() ? shape_str(index.shape()) : std::string("(undefined)"));
  COMET_CHECK(index.dtype() == DType::I32 || index.dtype() == DType::I64,
              "{}: the {} tensor must be i32 or i64, got {}", op, what, dtype_name(index.dtype()));
  COMET_CHECK(length < 0 || index.numel() == length, "{}: {} has {} entries, expected {}", op, what,
              index.numel(), length);
  Tensor idx = copy_to(index, Device::CPU).to(DType::I64);
  const int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    COMET_CHECK(p[i] >= 0 && p[i] < bound, "{}: {} {} at position {} is out of range [0, {}) ({})", op, what, p[i],
                i, bound, bound_of);
  return copy_to(idx, device);
}

void check_matrix(const char* op, const Tensor& t, const char* what) {
  COMET_CHECK(t.ndim() == 2, "{}: {} must be 2-D, got shape {}", op, what, shape_str(t.shape()));
}

// out[i] = x[idx[i]] and out[idx[i]] += src[i] on checked int64 indices.
Tensor gather_tensor(const Tensor& x, const Tensor& idx) {
  Tensor out = empty_on(x.device(), {idx.numel(), x.cols()}, x.dtype());
  COMET_DISPATCH_FLOAT(x.dtype(), "gather_rows", [&] {
    COMET_KERNEL_ON(x.device(), gather_rows<scalar_t>)(idx.numel(), x.cols(), x.ptr<scalar_t>(), idx.ptr<int64_t>(),
                                                       out.ptr<scalar_t>());
  });
  return out;
}

Tensor scatter_tensor(const Tensor& src, const Tensor& idx, int64_t num_rows) {
  Tensor out = empty_on(src.device(), {num_rows, src.cols()}, src.dtype());
  COMET_DISPATCH_FLOAT(src.dtype(), "scatter_add_rows", [&] {
    COMET_KERNEL_ON(src.device(), scatter_add_rows<scalar_t>)(idx.numel(), src.cols(), src.ptr<scalar_t>(),
                                                              idx.ptr<int64_t>(), num_rows, out.ptr<scalar_t>());
  });
  return out;
}

// Gather recorded under `op` ("gather_rows" or "embedding"); backward scatter-adds into x's rows.
Var gather_op(const char* op, const Var& x, const Tensor& idx) {
  const int64_t rows = x.value().dim(0);
  return record(op, gather_tensor(x.value(), idx), {x}, [idx, rows](Node& self) {
    accumulate_grad(*self.inputs[0], scatter_tensor(self.grad, idx, rows));
  });
}

// dst[:, col0 : col0 + src.cols()] = src (or += when accumulate); both 2-D with the same rows.
void copy_block(const Tensor& src, Tensor& dst, int64_t col0, bool accumulate) {
  COMET_DISPATCH_FLOAT(src.dtype(), "copy_cols", [&] {
    COMET_KERNEL_ON(dst.device(), copy_cols<scalar_t>)(src.rows(), src.cols(), src.ptr<scalar_t>(), src.cols(),
                                                       dst.ptr<scalar_t>() + col0, dst.cols(), accumulate);
  });
}

// dst = src[:, col0 : col0 + width].
Tensor take_block(const Tensor& src, int64_t col0, int64_t width) {
  Tensor dst = empty_on(src.device(), {src.rows(), width}, src.dtype());
  COMET_DISPATCH_FLOAT(src.dtype(), "copy_cols", [&] {
    COMET_KERNEL_ON(src.device(), copy_cols<scalar_t>)(src.rows(), width, src.ptr<scalar_t>() + col0, src.cols(),
                                                       dst.ptr<scalar_t>(), width, false);
  });
  return dst;
}

Var view_op(const char* op, const Var& x, const Shape& shape) {
  return record(op, x.value().reshape(shape), {x}, [](Node& self) {
    accumulate_grad(*self.inputs[0], self.grad.reshape(self.inputs[0]->value.shape()));
  });
}

}  // namespace

Var gather_rows(const Var& x, const Tensor& index) {
  check_matrix("gather_rows", x.value(), "x");
  const Tensor idx = checked_index("gather_rows", "index", index, -1, x.value().dim(0),
                                   fmt::format("rows of x {}", shape_str(x.shape())), x.value().device());
  return gather_op("gather_rows", x, idx);
}

Var scatter_add_rows(const Var& src, const Tensor& index, int64_t num_rows) {
  check_matrix("scatter_add_rows", src.value(), "src");
  COMET_CHECK(num_rows >= 0, "scatter_add_rows: num_rows must be >= 0, got {}", num_rows);
  const Tensor idx = checked_index("scatter_add_rows", "index", index, src.value().dim(0), num_rows,
                                   fmt::format("num_rows {}", num_rows), src.value().device());
  return record("scatter_add_rows", scatter_tensor(src.value(), idx, num_rows), {src}, [idx](Node& self) {
    accumulate_grad(*self.inputs[0], gather_tensor(self.grad, idx));
  });
}

Var embedding(const Var& table, const Tensor& ids) {
  check_matrix("embedding", table.value(), "table");
  const Tensor idx = checked_index("embedding", "id", ids, -1, table.value().dim(0),
                                   fmt::format("vocabulary of table {}", shape_str(table.shape())),
                                   table.value().device());
  return gather_op("embedding", table, idx);
}

Var concat_cols(const std::vector<Var>& parts) {
  COMET_CHECK(!parts.empty(), "concat_cols: no parts");
  const Tensor& first = parts[0].value();
  int64_t cols = 0;
  for (const Var& p : parts) {
    check_matrix("concat_cols", p.value(), "every part");
    COMET_CHECK(p.value().dim(0) == first.dim(0) && p.dtype() == first.dtype(),
                "concat_cols: parts differ in rows or dtype: {} {} vs {} {}", shape_str(first.shape()),
                dtype_name(first.dtype()), shape_str(p.shape()), dtype_name(p.dtype()));
    cols += p.value().dim(1);
  }
  std::vector<const Tensor*> values;
  for (const Var& p : parts) values.push_back(&p.value());
  Tensor out = empty_on(common_device("concat_cols", values), {first.dim(0), cols}, first.dtype());
  for (int64_t i = 0, col0 = 0; i < static_cast<int64_t>(parts.size()); col0 += parts[i++].value().dim(1))
    copy_block(parts[i].value(), out, col0, false);
  return record("concat_cols", out, parts, [](Node& self) {
    int64_t col0 = 0;
    for (size_t i = 0; i < self.inputs.size(); ++i) {
      const int64_t width = self.inputs[i]->value.dim(1);
      if (self.needs(i)) accumulate_grad(*self.inputs[i], take_block(self.grad, col0, width));
      col0 += width;
    }
  });
}

std::vector<Var> split_cols(const Var& x, const std::vector<int64_t>& sizes) {
  check_matrix("split_cols", x.value(), "x");
  int64_t total = 0;
  for (int64_t s : sizes) {
    COMET_CHECK(s >= 0, "split_cols: negative size in {}", shape_str(sizes));
    total += s;
  }
  COMET_CHECK(total == x.value().dim(1), "split_cols: sizes {} add up to {}, but x {} has {} columns",
              shape_str(sizes), total, shape_str(x.shape()), x.value().dim(1));
  std::vector<Var> outs;
  int64_t col0 = 0;
  for (int64_t width : sizes) {
    // Each output adds its block straight into x's gradient (allocated as zeros by the first one to arrive).
    outs.push_back(record("split_cols", take_block(x.value(), col0, width), {x}, [col0](Node& self) {
      Node& in = *self.inputs[0];
      if (!in.grad.defined()) in.grad = full_on(in.value.device(), in.value.shape(), 0.0, in.value.dtype());
      copy_block(self.grad, in.grad, col0, true);
    }));
    col0 += width;
  }
  return outs;
}

Var reshape(const Var& x, const Shape& shape) { return view_op("reshape", x, shape); }

Var select(const Var& x, int64_t index) {
  const Tensor& X = x.value();
  COMET_CHECK(X.ndim() >= 1 && index >= 0 && index < X.dim(0), "select: index {} out of range for shape {}", index,
              shape_str(X.shape()));
  const Shape inner(X.shape().begin() + 1, X.shape().end());
  Shape block = X.shape();
  block[0] = 1;
  // A view, like reshape: no copy of the block (the dense MoE path selects every expert's weights every step).
  return record("select", X.slice_rows(index, index + 1).reshape(inner), {x}, [index, block](Node& self) {
    accumulate_grad_rows(*self.inputs[0], index, self.grad.reshape(block));
  });
}

Var flatten(const Var& x) {
  const Shape& s = x.shape();
  COMET_CHECK(!s.empty(), "flatten: need at least 1 dimension, got a 0-d tensor");
  int64_t rest = 1;
  for (size_t i = 1; i < s.size(); ++i) rest *= s[i];
  return view_op("flatten", x, {s[0], rest});
}

}  // namespace comet::ag
