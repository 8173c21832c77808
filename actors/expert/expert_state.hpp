// The torch side of one expert, independent of actors: module, optimizer,
// schema checks, forward, backward with gradient accumulation and optimizer
// steps, counters and checkpoints. Not thread-safe: its owner (the expert
// actor) serializes access. Every failure is an error value; torch exceptions
// are caught here.
//
// A checkpoint records the spec it was made with (module type and params,
// optimizer type and hyper-parameters, format version) as "key=value" lines
// in its archive entry "spec". A different module type, module param or
// optimizer type is a mismatch (errc::bad_config naming each key); changed
// optimizer hyper-parameters (lr, schedule, ...) and module.seed resume and
// are logged. A checkpoint without a recorded spec is a mismatch too.
//
// Invariant: the parameters' .grad hold the sum of the gradients of the
// pending_batches_ backward batches (pending_rows_ rows) received since the
// last optimizer step; both are 0 right after a step or a checkpoint load.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <torch/types.h>

#include "actors/expert/expert_spec.hpp"
#include "actors/expert/optimizer.hpp"
#include "messages/expert_messages.hpp"
#include "runtime/node_config.hpp"

namespace colony::expert {

class expert_state {
public:
  /// Builds module and optimizer from `group` (the spec a supervisor can
  /// rebuild from) and restores the checkpoint of `uid` if configured. With
  /// a checkpoint dir, first creates it and checks that it is writable
  /// (errc::io_failed naming the dir and the OS reason). A checkpoint that
  /// does not match the spec fails (checkpoint.on_mismatch "fail") or is
  /// moved aside to `<file>.mismatch-<unix time>` ("fresh": fresh params).
  static caf::expected<std::unique_ptr<expert_state>>
  make(std::string uid, const expert_group_config& group);

  const std::string& uid() const { return uid_; }
  uint32_t max_batch_size() const { return group_.max_batch_size; }
  const std::vector<tensor_schema>& input_schema() const { return built_.inputs; }
  const std::vector<tensor_schema>& output_schema() const { return built_.outputs; }
  expert_module& module() { return *built_.module; }

  /// Schema and counters.
  expert_info info() const;

  /// Checks count, dtype and non-batch dims of `xs` against `schema` and
  /// that all share one batch size; `what` names them in the error.
  caf::error validate(const std::vector<torch::Tensor>& xs,
                      const std::vector<tensor_schema>& schema,
                      const std::string& what) const;

  /// Outputs of the module on a batch (no autograd).
  caf::expected<std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& xs);

  /// Re-runs the forward with autograd, back-propagates `grads` (adding to
  /// the pending parameter gradients) and returns the input gradients. Once
  /// optimizer.accumulate_rows rows arrived since the last step (at once
  /// when it is 0), applies one step on the pending gradients scaled by
  /// 1 / pending batches (their mean) and counts one update. An empty batch
  /// neither steps nor counts nor touches the pending gradients.
  caf::expected<std::vector<torch::Tensor>>
  backward(const std::vector<torch::Tensor>& xs, const std::vector<torch::Tensor>& grads);

  /// Writes module + optimizer + counters + spec record atomically (temp
  /// file + rename); pending accumulated gradients are not part of it.
  /// Refuses (errc::diverged) NaN/Inf parameters, keeping the last good file.
  caf::error save_checkpoint();

  /// Restores what save_checkpoint wrote and drops pending gradients (they
  /// were never saved: a crash loses at most accumulate_rows rows of
  /// gradient); errc::not_found if there is none, errc::bad_config when its
  /// spec does not match (nothing is loaded then), errc::io_failed naming
  /// the file for anything else.
  caf::error load_checkpoint();

  /// True when the latest backward made an optimizer step and the update
  /// count is a multiple of checkpoint.every_updates.
  bool checkpoint_due() const;

  /// Path of this expert's checkpoint file ("" without a checkpoint dir).
  std::string checkpoint_path() const;

  uint64_t updates() const { return info_.updates; }

  /// False when any parameter holds NaN or Inf (the expert diverged).
  bool parameters_finite() const;

private:
  expert_state(std::string uid, expert_group_config group, built_module built,
               std::unique_ptr<expert_optimizer> opt);

  /// Input gradients of an empty batch; parameter gradients stay untouched.
  std::vector<torch::Tensor> empty_backward(const std::vector<torch::Tensor>& leaves,
                                            const std::vector<torch::Tensor>& grads);

  /// Adds a backward batch of `rows` rows; steps once enough are pending.
  void accumulate(uint64_t rows);

  /// load_checkpoint, but on a spec mismatch with `fresh` the file is moved
  /// aside and the state stays as built.
  caf::error load_checkpoint(bool fresh);

  /// The "key=value" lines of this expert's spec (see the top of the file).
  std::string spec_text() const;

  /// Reads module, optimizer and counters of a matching checkpoint; throws
  /// when the archive does not fit.
  void restore(torch::serialize::InputArchive& root);

  std::string uid_;
  expert_group_config group_;
  built_module built_;
  std::map<std::string, double> module_params_; ///< as the spec resolved them
  std::unique_ptr<expert_optimizer> opt_;
  expert_info info_;
  uint64_t pending_rows_ = 0;
  uint64_t pending_batches_ = 0;
  bool stepped_ = false; ///< the latest backward made an optimizer step
};

} // namespace colony::expert
