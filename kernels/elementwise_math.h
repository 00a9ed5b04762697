// Per-element math of the unary and binary ops, shared by the reference, CPU and CUDA kernels.
// Each backward is written in terms of whichever of x (input) and y (output) is cheaper and stabler.
#pragma once
#include <cmath>

#include "core/hd.h"

namespace comet {

enum class Unary { Relu, Sigmoid, Tanh, Exp, Log, Softplus };
enum class Binary { Add, Sub, Mul, Div };

template <class T>
COMET_HD T unary_forward(Unary op, T x) {
  switch (op) {
    case Unary::Relu: return x > T(0) ? x : T(0);
    case Unary::Sigmoid: return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
    case Unary::Tanh: return std::tanh(x);
    case Unary::Exp: return std::exp(x);
    case Unary::Log: return std::log(x);
    case Unary::Softplus: return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
  }
  return T(0);
}

// d y / d x given x and y = f(x).
template <class T>
COMET_HD T unary_derivative(Unary op, T x, T y) {
  switch (op) {
    case Unary::Relu: return x > T(0) ? T(1) : T(0);
    case Unary::Sigmoid: return y * (T(1) - y);
    case Unary::Tanh: return T(1) - y * y;
    case Unary::Exp: return y;
    case Unary::Log: return T(1) / x;
    case Unary::Softplus: return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
  }
  return T(0);
}

template <class T>
COMET_HD T binary_forward(Binary op, T a, T b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
  }
  return T(0);
}

// Partial derivatives of c = a op b.
template <class T>
COMET_HD T binary_da(Binary op, T /*a*/, T b) {
  switch (op) {
    case Binary::Add: case Binary::Sub: return T(1);
    case Binary::Mul: return b;
    case Binary::Div: return T(1) / b;
  }
  return T(0);
}

template <class T>
COMET_HD T binary_db(Binary op, T a, T b) {
  switch (op) {
    case Binary::Add: return T(1);
    case Binary::Sub: return T(-1);
    case Binary::Mul: return a;
    case Binary::Div: return -a / (b * b);
  }
  return T(0);
}

// One SGD step on one element (optim/optimizer.h): d = g + weight_decay p; with momentum (v not null)
// v = momentum v + d and d = v, or d + momentum v (Nesterov); p -= lr d. The CPU loop and the CUDA kernel share it.
template <class T>
struct SgdStep {
  T lr, momentum, weight_decay;
  bool nesterov;
};

template <class T>
COMET_HD void sgd_element(const SgdStep<T>& s, T& p, T g, T* v) {
  T d = g + s.weight_decay * p;
  if (v) {
    *v = s.momentum * *v + d;
    d = s.nesterov ? d + s.momentum * *v : *v;
  }
  p -= s.lr * d;
}

}  // namespace comet
