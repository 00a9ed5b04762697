// Mutation testing (issue 7; scripts/run_mutation.sh): a build configured with -DCOMET_MUTATION=ON carries a list of
// deliberate defects, each switched on at run time by COMET_MUTANT=<name>, so that one build can check that the
// tests notice every one of them. Each defect is a small, plausible slip at one spot of the code (a dropped term,
// a tie broken the other way, a missing correction), written there as `if (COMET_MUTANT(name)) ...`. In every other
// build COMET_MUTANT(name) is the constant false and the compiler removes the branch.
//
// The list below is the one registry of mutants: COMET_MUTANT(name) does not compile for a name missing here, and
// scripts/run_mutation.sh reads the names from it (one X(...) per line).
#pragma once

#define COMET_MUTANTS(X)                                                                                       \
  X(gemm_last_k_dropped, "CPU GEMM: the last term of the k sum is left out")                                  \
  X(gemm_beta_ignored, "CPU GEMM: beta = 1 (accumulate into C) treated as beta = 0")                          \
  X(ref_gemm_alpha_ignored, "reference GEMM: alpha treated as 1")                                            \
  X(grouped_gemm_last_row_dropped, "CPU grouped GEMM: the last row of each group is not computed")              \
  X(smooth_step_cubic, "smooth-step: the cubic's coefficient -2 written as -1.9")                             \
  X(smooth_step_slope, "smooth-step derivative: 5% too large")                                              \
  X(tree_sides_swapped, "routing trees: S sent to the other child")                                         \
  X(topk_ties_high, "Top-k: ties go to the higher expert index")                                           \
  X(dispatch_unstable, "dispatch plan: each expert's rows in reverse order")                                \
  X(dispatch_last_row_lost, "dispatch plan: the last expert loses its last row")                              \
  X(softmax_no_max_shift, "CPU softmax: no subtraction of the row maximum")                                 \
  X(bce_grad_unscaled, "BCE with logits backward: the mean's 1/n scale missing")                           \
  X(masked_mse_no_mask_grad, "masked squared error backward: the mask ignored")                          \
  X(cross_entropy_label_grad, "cross-entropy backward: the label's -1 missing")                            \
  X(adam_no_bias_correction, "Adam: the first moment's bias correction missing")                           \
  X(auc_ties_full, "ROC AUC: a tied positive-negative pair counts 1 instead of 1/2")                       \
  X(maxpool_last_max, "max-pool backward: the gradient goes to the window's last maximum")                 \
  X(permutation_window_long, "learned permutation: I_p soft steps instead of I_p - 1")                     \
  X(checkpoint_no_buffers, "checkpoint: gate buffers (the Hash table) not written")                        \
  X(checkpoint_gate_settings_unrecorded, "checkpoint: the gates' gamma and entropy weight not recorded")   \
  X(divergence_unchecked, "training: a non-finite gradient is not caught before the optimizer step")            \
  X(philox_round_lost, "Philox4x32: 9 rounds instead of 10")                                                 \
  X(bernoulli_words_swapped, "CPU Bernoulli loop: words 0 and 1 (2 and 3) of each Philox block swapped")     \
  X(npy_shape_reversed, ".npy reader: the shape tuple read in reverse")                                        \
  X(table_quote_kept, "delimited-text reader: a quoted field keeps its closing quote")                        \
  X(idx_gzip_member_dropped, "IDX reader: a gzip member after the first is ignored")                           \
  X(multimnist_partner_offset, "MultiMNIST: the partner image at (8, 7) instead of (8, 8)")                    \
  X(negatives_may_be_rated, "recommender data: a sampled negative may be an item the user rated")              \
  X(sinkhorn_iteration_lost, "Sinkhorn: the last column normalisation left out")

namespace comet::mutation {

enum class Mutant {
#define COMET_MUTANT_ENUM(name, description) name,
  COMET_MUTANTS(COMET_MUTANT_ENUM)
#undef COMET_MUTANT_ENUM
};

// True when COMET_MUTANT names `m` (read once). An unknown name in COMET_MUTANT stops the program with the list.
bool active(Mutant m);

}  // namespace comet::mutation

#if defined(COMET_MUTATION_TESTING) && !defined(__CUDA_ARCH__)
#define COMET_MUTANT(name) (::comet::mutation::active(::comet::mutation::Mutant::name))
#else
#define COMET_MUTANT(name) ((void)::comet::mutation::Mutant::name, false)
#endif
