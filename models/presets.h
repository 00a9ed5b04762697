// The paper's model of a data set (spec comet.md 6.2): the input from the data (id vocabularies, dense width, image
// shape, per-task output widths) and the architecture from the family and its settings — recommender (id
// embeddings, Dense + ReLU + Dropout experts), vision (CNN experts on the flattened image), dense (MLP experts).
// The gate is left at its defaults apart from n, k, gamma, entropy and the Hash keys. Test: tests/models/test_presets.cpp.
#pragma once
#include "data/registry.h"
#include "models/mmoe.h"

namespace comet::models {

MmoeConfig paper_model(const data::Dataset& train, data::Family family, const data::PaperSettings& settings);

}  // namespace comet::models
