// lm_train: one model of experiment 3 (the DMoE Transformer language
// model), trained for a time budget on the State of the Union corpus;
// validation perplexity every --eval-every seconds to <out>/<model>.csv,
// the run's figures to <out>/<model>.summary. Models: "small" and
// "large" (local baselines: blocks in this process, no network) and
// "dmoe" (lm_dmoe.hpp: experts on colony-node processes over loopback).
// Usage: lm_train --model small|large|dmoe --corpus DIR --out DIR [knobs]
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench/experiments/lm/lm_dmoe.hpp"
#include "bench/experiments/lm/lm_model.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::lm;

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// A local baseline: one stream, Adam, validation excluded from wall_s;
/// validation every eval_every_s seconds of training and at steps 2^k >= 8.
run_summary run_local(const run_options& o, const corpus& c, recorder& rec) {
  torch::set_num_threads(2);
  auto s = shape_for(o.model, static_cast<int64_t>(c.vocab.size()), o.context, o.layers);
  std::vector<lm_block> blocks;
  for (int64_t l = 0; l < s.layers; ++l)
    blocks.push_back(local_block(s, o.seed * 100 + static_cast<uint64_t>(l)));
  lm_net net{s, std::move(blocks), o.seed};
  torch::optim::Adam opt{net->parameters(), torch::optim::AdamOptions(o.lr)};
  auto val = fixed_windows(c.valid, o.context, o.eval_windows);
  std::mt19937_64 rng{o.seed * 7919};
  rec.point(0, 0, 0, mean_cross_entropy(net, val, 256));
  double train_s = 0, next_eval = o.eval_every_s;
  uint64_t steps = 0;
  while (train_s < o.seconds) {
    auto t = clock_type::now();
    auto b = sample_batch(c.train, o.context, o.batch, rng);
    opt.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(b.inputs), b.targets).backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    opt.step();
    ++steps;
    train_s += since(t);
    // Also at steps 8, 16, 32, ...: the early curve, where DMoE's window
    // counts fall, for the comparison at equal windows.
    bool power_of_two = steps >= 8 && (steps & (steps - 1)) == 0;
    if (train_s >= next_eval || train_s >= o.seconds || power_of_two) {
      rec.point(steps, steps * static_cast<uint64_t>(o.batch), train_s,
                mean_cross_entropy(net, val, 256));
      if (train_s >= next_eval)
        next_eval += o.eval_every_s;
    }
  }
  run_summary r;
  auto params = count_parameters(*net);
  r["params_local"] = std::to_string(params);
  r["params_experts"] = "0";
  r["params_total"] = std::to_string(params);
  r["params_active"] = std::to_string(params);
  r["flops_per_window"] = fmt(s.layers * block_flops(s) + head_flops(s), 0);
  r["steps"] = std::to_string(steps);
  r["windows"] = std::to_string(steps * static_cast<uint64_t>(o.batch));
  r["failed_steps"] = "0";
  r["train_s"] = fmt(train_s, 1);
  r["s_per_step"] = fmt(steps ? train_s / static_cast<double>(steps) : 0, 4);
  return r;
}

} // namespace

int main(int argc, char** argv) {
  run_options o;
  CLI::App app{"lm_train: one model of experiment 3 (DMoE Transformer language model)"};
  app.add_option("--model", o.model, "small | large | dmoe")
    ->required()
    ->check(CLI::IsMember({"small", "large", "dmoe"}));
  app.add_option("--corpus", o.corpus_dir, "directory of .txt files")->required();
  app.add_option("--out", o.out_dir, "where <model>.csv and <model>.summary go")->required();
  app.add_option("--vocab", o.vocab, "vocabulary size, <unk> and <eos> included");
  app.add_option("--context", o.context, "tokens per window");
  app.add_option("--layers", o.layers, "blocks (DMoE layers for dmoe)");
  app.add_option("--seconds", o.seconds, "training time budget");
  app.add_option("--batch", o.batch, "windows per step (per trainer for dmoe)");
  app.add_option("--lr", o.lr, "Adam learning rate of the local parameters");
  app.add_option("--eval-every", o.eval_every_s, "seconds of training between validations");
  app.add_option("--eval-windows", o.eval_windows, "fixed validation windows");
  app.add_option("--seed", o.seed);
  app.add_option("--trainers", o.trainers, "dmoe: concurrent trainer threads");
  app.add_option("--rows", o.rows, "dmoe: grid rows per layer");
  app.add_option("--cols", o.cols, "dmoe: grid columns per layer");
  app.add_option("--k", o.k_best, "dmoe: experts per sample");
  app.add_option("--k-min", o.k_min, "dmoe: answers per sample before the grace period");
  app.add_option("--after-k-min", o.after_k_min_s, "dmoe: grace period after k_min, seconds");
  app.add_option("--delay-ms", o.delay_ms, "dmoe: mean exponential delay per expert request");
  app.add_option("--fail", o.fail, "dmoe: fraction of expert requests that fail");
  app.add_option("--expert-lr", o.expert_lr, "dmoe: the experts' Adam learning rate");
  app.add_option("--accumulate", o.accumulate,
                 "dmoe: trainer steps whose mean gradient makes one step of the trainer-side "
                 "parameters");
  app.add_option("--expert-accumulate", o.expert_accumulate,
                 "dmoe: rows per expert optimizer step (optimizer.accumulate_rows)");
  app.add_option("--work", o.work_dir, "dmoe: directory for the nodes' configs and logs");
  CLI11_PARSE(app, argc, argv);
  if (o.work_dir.empty())
    o.work_dir = o.out_dir + "/work";
  corpus_options co;
  co.vocab_size = o.vocab;
  auto c = load_corpus(o.corpus_dir, co);
  if (!c) {
    std::cerr << "lm_train: " << describe(c.error()) << "\n";
    return 1;
  }
  std::printf("lm: corpus train_files=%zu valid_files=%zu train_tokens=%zu valid_tokens=%zu "
              "vocab=%zu train_unk=%.2f%% valid_unk=%.2f%%\n",
              c->train_files.size(), c->valid_files.size(), c->train.size(), c->valid.size(),
              c->vocab.size(), 100.0 * c->train_unk / c->train.size(),
              100.0 * c->valid_unk / c->valid.size());
  std::fflush(stdout);
  recorder rec{o.out_dir, o.model};
  if (!rec.ok()) {
    std::cerr << "lm_train: cannot write " << o.out_dir << "/" << o.model << ".csv\n";
    return 1;
  }
  auto r = o.model == "dmoe" ? run_dmoe(o, *c, rec) : run_local(o, *c, rec);
  r["model"] = o.model;
  r["initial_ppl"] = fmt(rec.first_ppl(), 2);
  r["final_ppl"] = fmt(rec.last_ppl(), 2);
  r["best_ppl"] = fmt(rec.best_ppl(), 2);
  r["batch"] = std::to_string(o.batch);
  r["vocab"] = std::to_string(c->vocab.size());
  r["train_tokens"] = std::to_string(c->train.size());
  r["valid_tokens"] = std::to_string(c->valid.size());
  r["valid_unk_pct"] = fmt(100.0 * c->valid_unk / c->valid.size(), 2);
  r["train_files"] = std::to_string(c->train_files.size());
  r["valid_files"] = std::to_string(c->valid_files.size());
  std::string vf;
  for (auto& f : c->valid_files)
    vf += (vf.empty() ? "" : " ") + f.substr(0, 4);
  r["valid_years"] = vf;
  if (!write_summary(o.out_dir + "/" + o.model + ".summary", r)) {
    std::cerr << "lm_train: cannot write the summary\n";
    return 1;
  }
  std::printf("lm: model=%s final_ppl=%s steps=%s windows=%s\n", o.model.c_str(),
              r["final_ppl"].c_str(), r["steps"].c_str(), r["windows"].c_str());
  std::fflush(stdout);
  return 0;
}
