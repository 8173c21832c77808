// The language models of experiment 3: token embedding + learned
// positions -> L blocks on [B, T, d] -> LayerNorm -> linear to the
// vocabulary, read at the last position (the model predicts the token
// that follows the window; see summary.md for why only that one).
// A block is the expert spec "transformer" (actors/expert/specs/
// transformer.cpp) built through the spec registry, so the local
// baselines and the DMoE experts are the same architecture; a DMoE block
// is a gate::dmoe_layer over a grid of such experts on colony-node
// processes. Also: the training windows, the fixed validation windows,
// and the FLOP / parameter estimates reported in summary.md.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace colony::lm {

/// Sizes of a model.
struct lm_shape {
  int64_t vocab = 8000;
  int64_t context = 16; ///< T: tokens per window
  int64_t d_model = 64;
  int64_t ff_dim = 144;
  int64_t heads = 4;
  int64_t layers = 4;
};

/// The block sizes of a named model: "large" d 128, ff 288, 8 heads;
/// "small" and "dmoe" (its experts) d 64, ff 144, 4 heads (head width 16).
lm_shape shape_for(const std::string& model, int64_t vocab, int64_t context, int64_t layers);

/// A block: [B, T, d] -> [B, T, d] (a module, registered as a submodule).
struct lm_block {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> run;
};

/// The local block of `s`: spec "transformer" (d_model, heads, ff_dim)
/// seeded with `seed`. Throws std::runtime_error when the spec refuses it.
lm_block local_block(const lm_shape& s, uint64_t seed);

class lm_netImpl : public torch::nn::Module {
public:
  /// Embeddings and head initialized from `seed` (std 0.02), then `blocks`.
  lm_netImpl(const lm_shape& s, std::vector<lm_block> blocks, uint64_t seed);

  /// Tokens [B, T] (int64) -> logits [B, vocab] for the token after each.
  torch::Tensor forward(const torch::Tensor& tokens);

  const lm_shape& shape() const { return shape_; }

private:
  lm_shape shape_;
  torch::nn::Embedding embed_{nullptr};
  torch::Tensor pos_;
  std::vector<lm_block> blocks_;
  torch::nn::LayerNorm ln_{nullptr};
  torch::nn::Linear head_{nullptr};
};

TORCH_MODULE(lm_net);

/// A batch: inputs [B, T] and targets [B] (int64).
struct lm_batch {
  torch::Tensor inputs, targets;
};

/// `batch` windows of `stream` at uniform random positions drawn by `rng`.
lm_batch sample_batch(const std::vector<int32_t>& stream, int64_t context, int64_t batch,
                      std::mt19937_64& rng);

/// `count` windows at evenly spaced positions of `stream` (fixed).
lm_batch fixed_windows(const std::vector<int32_t>& stream, int64_t context, int64_t count);

/// Mean cross-entropy (nats) of `net` on `windows`, `chunk` windows per
/// forward, without gradients.
double mean_cross_entropy(lm_net& net, const lm_batch& windows, int64_t chunk);

/// Parameters of one "transformer" block of `s`.
int64_t block_params(const lm_shape& s);

/// Forward multiply-adds x 2 per window of one block of `s`.
double block_flops(const lm_shape& s);

/// The same of the embedding-free rest: the output head at one position.
double head_flops(const lm_shape& s);

/// Copies the values of `from`'s parameters into `to`'s (same structure).
void copy_parameters(torch::nn::Module& from, torch::nn::Module& to);

/// Adds `from`'s parameter gradients to `to`'s (same structure; an
/// undefined gradient of `to` starts at zero, one of `from` adds nothing).
void add_gradients(torch::nn::Module& from, torch::nn::Module& to);

/// Total number of elements of `m`'s parameters.
int64_t count_parameters(torch::nn::Module& m);

} // namespace colony::lm
