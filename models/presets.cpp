// Paper model presets.
#include "models/presets.h"

namespace comet::models {

MmoeConfig paper_model(const data::Dataset& train, data::Family family, const data::PaperSettings& s) {
  MmoeConfig c;
  c.dense_dim = train.dense_dim();
  c.tower_hidden = s.tower_hidden;
  c.task_outputs.clear();
  for (const data::TaskSpec& t : train.tasks)
    c.task_outputs.push_back(t.kind == data::TaskKind::Multiclass ? t.classes : 1);
  c.gate.experts = s.experts;
  c.gate.k = s.k;
  c.gate.gamma = s.gamma;
  c.gate.entropy = s.entropy;
  if (train.key_column) c.gate.hash_keys = train.vocab[*train.key_column];
  if (family == data::Family::Auto)
    family = !train.image.empty() ? data::Family::Vision
             : !train.vocab.empty() ? data::Family::Recommender : data::Family::Dense;
  switch (family) {
    case data::Family::Recommender:
      COMET_CHECK(!train.vocab.empty() && s.embedding_dim > 0,
                  "paper_model: a recommender needs id columns and an embedding width");
      c.id_vocab = train.vocab;
      c.embedding_dim = s.embedding_dim;
      c.expert_sizes = s.expert_sizes;
      c.expert_options = {/*relu_last=*/true, s.expert_dropout};
      break;
    case data::Family::Vision:
      COMET_CHECK(train.image.size() == 3, "paper_model: a vision model needs images (the data have no image shape)");
      c.expert_kind = ExpertKind::Cnn;
      c.cnn.channels = train.image[0];
      c.cnn.height = train.image[1];
      c.cnn.width = train.image[2];
      break;
    case data::Family::Dense:
    case data::Family::Auto:
      c.expert_sizes = s.expert_sizes;
      c.expert_options = {/*relu_last=*/false, s.expert_dropout};
      break;
  }
  return c;
}

}  // namespace comet::models
