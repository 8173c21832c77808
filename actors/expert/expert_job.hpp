// Internal to the expert actor: one unit of pool work (a forward or
// backward batch, or a checkpoint) and a queued request. Run on a pool
// thread; every exception becomes the job's error, and a backward that
// leaves non-finite parameters marks the job diverged.
#pragma once

#include <chrono>
#include <vector>

#include <caf/typed_response_promise.hpp>
#include <torch/torch.h>

#include "actors/expert/batch_queue.hpp"
#include "actors/expert/expert_state.hpp"
#include "messages/errc.hpp"

namespace colony::expert {

constexpr uint8_t fwd_kind = 0;
constexpr uint8_t bwd_kind = 1;
constexpr uint8_t save_kind = 2;

/// One unit of work for the pool. The pool thread writes the results; the
/// actor reads them after the `computed` message, which orders the two.
struct batch_job {
  uint8_t kind = fwd_kind;
  std::vector<slice> slices;
  std::vector<std::vector<torch::Tensor>> inputs; ///< [input][slice]
  std::vector<std::vector<torch::Tensor>> grads;  ///< [grad][slice]
  caf::expected<std::vector<torch::Tensor>> result{std::vector<torch::Tensor>{}};
  caf::error save_error;
  expert_info info;
  double took_ms = 0;

  static torch::Tensor cat(const std::vector<torch::Tensor>& pieces) {
    return pieces.size() == 1 ? pieces[0].contiguous() : torch::cat(pieces, 0);
  }

  /// True when a backward's optimizer step left a NaN/Inf parameter.
  bool diverged = false;

  /// Never throws: a torch or std exception anywhere (e.g. concatenating
  /// the batch) becomes errc::compute_failed.
  void run(expert_state& st) noexcept {
    auto started = clock::now();
    try {
      if (kind == save_kind) {
        save_error = st.save_checkpoint();
      } else {
        std::vector<torch::Tensor> xs, gs;
        for (auto& pieces : inputs)
          xs.push_back(cat(pieces));
        for (auto& pieces : grads)
          gs.push_back(cat(pieces));
        result = kind == fwd_kind ? st.forward(xs) : st.backward(xs, gs);
        diverged = kind == bwd_kind && result && !st.parameters_finite();
      }
      info = st.info();
    } catch (const std::exception& e) {
      std::string what = e.what();
      result = make_error(errc::compute_failed, "expert " + st.uid() + ": exception in batch: "
                                                  + what.substr(0, what.find('\n')));
    } catch (...) {
      result = make_error(errc::compute_failed, "expert " + st.uid() + ": unknown exception in batch");
    }
    took_ms = std::chrono::duration<double, std::milli>(clock::now() - started).count();
  }
};

struct pending_request {
  uint8_t kind = fwd_kind;
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> grads;
  std::vector<std::vector<torch::Tensor>> parts;
  caf::typed_response_promise<forward_reply> fwd;
  caf::typed_response_promise<backward_reply> bwd;
  /// The requester: chunks of large outputs go to it before the reply.
  caf::strong_actor_ptr sender;

  void fail(const caf::error& err) {
    if (kind == fwd_kind)
      fwd.deliver(err);
    else
      bwd.deliver(err);
  }
};

} // namespace colony::expert
