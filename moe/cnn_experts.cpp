// CNN experts: per-expert conv blocks on each expert's rows, then grouped dense layers.
#include "moe/cnn_experts.h"

#include <cmath>

namespace comet::moe {
namespace {

// Row blocks of a 2-D x as column blocks of its one-row view (rows are contiguous), so that the existing
// split_cols / concat_cols ops carry the gradient.
std::vector<ag::Var> split_rows(const ag::Var& x, const std::vector<int64_t>& rows) {
  const int64_t width = x.shape()[1];
  std::vector<int64_t> sizes;
  for (int64_t r : rows) sizes.push_back(r * width);
  std::vector<ag::Var> parts = ag::split_cols(ag::reshape(x, {1, x.shape()[0] * width}), sizes);
  for (size_t i = 0; i < parts.size(); ++i) parts[i] = ag::reshape(parts[i], {rows[i], width});
  return parts;
}

// parts: at least one, all of the same width.
ag::Var concat_rows(const std::vector<ag::Var>& parts) {
  std::vector<ag::Var> flat;
  int64_t rows = 0;
  for (const ag::Var& p : parts) {
    flat.push_back(ag::reshape(p, {1, p.shape()[0] * p.shape()[1]}));
    rows += p.shape()[0];
  }
  return ag::reshape(ag::concat_cols(flat), {rows, parts.front().shape()[1]});
}

MlpExperts make_dense(int64_t count, const CnnExpertsConfig& cfg, Generator& gen, DType dtype) {
  std::vector<int64_t> sizes{CnnExperts::feature_dim(cfg)};
  sizes.insert(sizes.end(), cfg.dense.begin(), cfg.dense.end());
  return MlpExperts(count, sizes, gen, {/*relu_last=*/true, /*dropout=*/0.0}, dtype);
}

}  // namespace

int64_t CnnExperts::feature_dim(const CnnExpertsConfig& cfg) {
  COMET_CHECK(cfg.channels >= 1 && cfg.kernel >= 1 && !cfg.filters.empty() && !cfg.dense.empty(),
              "CnnExperts: need channels >= 1, kernel >= 1, conv filters and dense sizes");
  int64_t h = cfg.height, w = cfg.width;
  for (size_t l = 0; l < cfg.filters.size(); ++l) {
    h -= cfg.kernel - 1;
    w -= cfg.kernel - 1;
    COMET_CHECK(h >= 2 && w >= 2 && h % 2 == 0 && w % 2 == 0,
                "CnnExperts: conv block {} ({}x{} kernel) leaves {}x{} from a {}x{} image; the 2x2 pool needs an even "
                "size of at least 2", l + 1, cfg.kernel, cfg.kernel, h, w, cfg.height, cfg.width);
    h /= 2;
    w /= 2;
  }
  return cfg.filters.back() * h * w;
}

CnnExperts::Convs CnnExperts::make_convs(int64_t count, const CnnExpertsConfig& cfg, Generator& gen, DType dtype) {
  COMET_CHECK(count >= 1, "CnnExperts: need at least one expert, got {}", count);
  feature_dim(cfg);  // checks the sizes
  Convs convs;
  int64_t in = cfg.channels;
  for (int64_t out : cfg.filters) {
    COMET_CHECK(out >= 1, "CnnExperts: filter counts must be positive, got {}", shape_str(cfg.filters));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in * cfg.kernel * cfg.kernel));
    convs.weights.push_back(uniform_param({count, out, in, cfg.kernel, cfg.kernel}, bound, gen, dtype));
    convs.biases.push_back(uniform_param({count, out}, bound, gen, dtype));
    in = out;
  }
  return convs;
}

CnnExperts::CnnExperts(int64_t count, const CnnExpertsConfig& cfg, Generator& gen, DType dtype)
    : cfg_(cfg), convs_(make_convs(count, cfg, gen, dtype)), dense_(make_dense(count, cfg, gen, dtype)) {}

CnnExperts::CnnExperts(const CnnExpertsConfig& cfg, std::vector<ag::Var> conv_weights,
                       std::vector<ag::Var> conv_biases, std::vector<ag::Var> dense_weights,
                       std::vector<ag::Var> dense_biases)
    : cfg_(cfg),
      convs_{std::move(conv_weights), std::move(conv_biases)},
      dense_(std::move(dense_weights), std::move(dense_biases), {/*relu_last=*/true, /*dropout=*/0.0}) {
  const int64_t n = dense_.count(), features = feature_dim(cfg);
  COMET_CHECK(convs_.weights.size() == cfg.filters.size() && convs_.biases.size() == cfg.filters.size(),
              "CnnExperts: {} conv weights and {} conv biases for {} conv blocks", convs_.weights.size(),
              convs_.biases.size(), cfg.filters.size());
  int64_t in = cfg.channels;
  for (size_t l = 0; l < cfg.filters.size(); ++l) {
    const Shape w{n, cfg.filters[l], in, cfg.kernel, cfg.kernel}, b{n, cfg.filters[l]};
    COMET_CHECK(convs_.weights[l].shape() == w && convs_.biases[l].shape() == b,
                "CnnExperts: conv block {} weight {} and bias {} are not {} and {}", l + 1,
                shape_str(convs_.weights[l].shape()), shape_str(convs_.biases[l].shape()), shape_str(w), shape_str(b));
    in = cfg.filters[l];
  }
  const auto dense = dense_.named_params();
  bool fits = dense.size() == 2 * cfg.dense.size() && dense[0].second.shape()[1] == features;
  for (size_t l = 0; fits && l < cfg.dense.size(); ++l) fits = dense[2 * l].second.shape()[2] == cfg.dense[l];
  COMET_CHECK(fits, "CnnExperts: the dense layers do not map {} features to {}", features, shape_str(cfg.dense));
}

ag::Var CnnExperts::features(int64_t e, const ag::Var& x) const {
  COMET_CHECK(x.shape().size() == 2 && x.shape()[1] == cfg_.channels * cfg_.height * cfg_.width,
              "CnnExperts: input {} is not [rows, {} x {} x {}]", shape_str(x.shape()), cfg_.channels, cfg_.height,
              cfg_.width);
  ag::Var h = ag::reshape(x, {x.shape()[0], cfg_.channels, cfg_.height, cfg_.width});
  // conv -> ReLU -> max-pool, computed as conv -> max-pool -> ReLU: the same numbers, forward and backward (ReLU is
  // monotone, so it commutes with the max; where a window's maximum is <= 0 both give a zero gradient, and else
  // both send it to the window's first maximum), with the ReLU and its backward on a quarter of the elements.
  for (size_t l = 0; l < convs_.weights.size(); ++l)
    h = ag::relu(ag::maxpool2x2(ag::conv2d(h, ag::select(convs_.weights[l], e), ag::select(convs_.biases[l], e), 0)));
  return ag::flatten(h);
}

ag::Var CnnExperts::forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets, const ExpertMode& mode) {
  COMET_CHECK(static_cast<int64_t>(offsets.size()) == count() + 1 && offsets.back() == x.shape()[0],
              "CnnExperts: offsets must have {} entries ending at {} rows", count() + 1, x.shape()[0]);
  std::vector<int64_t> rows;
  for (int64_t e = 0; e < count(); ++e) rows.push_back(offsets[e + 1] - offsets[e]);
  const std::vector<ag::Var> blocks = split_rows(x, rows);
  std::vector<ag::Var> feats;  // experts without rows are skipped: their conv weights get no gradient (zero)
  for (int64_t e = 0; e < count(); ++e)
    if (rows[e] > 0) feats.push_back(features(e, blocks[e]));
  if (feats.empty()) feats.push_back(ag::constant(Tensor::zeros({0, feature_dim(cfg_)}, x.dtype())));
  return dense_.forward_grouped(concat_rows(feats), offsets, mode);
}

ag::Var CnnExperts::forward_one(int64_t e, const ag::Var& x, const ExpertMode& mode) {
  COMET_CHECK(e >= 0 && e < count(), "CnnExperts: expert {} out of range [0, {})", e, count());
  return dense_.forward_one(e, features(e, x), mode);
}

std::vector<std::pair<std::string, ag::Var>> CnnExperts::named_params() const {
  std::vector<std::pair<std::string, ag::Var>> out;
  for (size_t l = 0; l < convs_.weights.size(); ++l) {
    out.emplace_back(fmt::format("conv{}.weight", l + 1), convs_.weights[l]);
    out.emplace_back(fmt::format("conv{}.bias", l + 1), convs_.biases[l]);
  }
  for (auto& [name, v] : dense_.named_params()) out.emplace_back("dense." + name, v);
  return out;
}

}  // namespace comet::moe
