// The swarm experiment's driver: builds the swarm, assigns the grid's
// cells to declarers and starts them, runs the gates through the baseline
// and churn phases and replaces peers (one at a time, spread evenly), one
// CSV row per interval. Used by main.cpp only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/dht/declarer.hpp"
#include "actors/dht/swarm.hpp"
#include "bench/experiments/swarm/report.hpp"
#include "bench/experiments/swarm/search_gate.hpp"
#include "bench/experiments/swarm/settings.hpp"
#include "bench/experiments/swarm/world.hpp"
#include "messages/errc.hpp"

namespace colony::swarm_exp {

using steady = std::chrono::steady_clock;

inline double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

inline steady::duration secs(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>{s});
}

/// The experiment's driver: owns the swarm, the declarers and the churn.
class driver {
public:
  driver(caf::actor_system& sys, const settings& s)
    : sys_(sys), cfg_(s), w_(s), rng_(s.seed), ctx_(std::make_shared<gate_context>()) {
    dht::swarm_options opts;
    opts.seed = s.seed;
    opts.wave = 500;
    opts.peer.rpc_timeout = secs(s.rpc_timeout_s);
    swarm_ = std::make_unique<dht::swarm>(sys, opts);
  }

  ~driver() {
    for (auto& d : declarers_)
      caf::anon_send_exit(d, caf::exit_reason::kill);
    swarm_.reset();
  }

  /// Builds the swarm (no delay yet); false on a bootstrap error.
  bool build() {
    rss0_kib_ = status_kib("VmRSS");
    auto start = steady::now();
    if (auto err = swarm_->grow(cfg_.peers)) {
      std::cerr << "swarm: bootstrap failed: " << describe(err) << "\n";
      return false;
    }
    build_s_ = seconds_since(start);
    built_kib_ = status_kib("VmRSS");
    std::printf("built peers=%zu took_s=%.1f rss_mib=%.0f kib_per_peer=%.1f\n", cfg_.peers,
                build_s_, built_kib_ / 1024.0, kib_per_peer());
    std::fflush(stdout);
    return true;
  }

  /// Assigns cells to declarers, checks the truth against the gate's own
  /// exhaustive search, starts the declarers and waits for their first
  /// rounds; false when the check fails.
  bool declare() {
    swarm_->directory().faults().set(
      fault_config{fault_config::delay_kind::fixed, cfg_.delay_ms, 0, cfg_.seed});
    std::vector<size_t> order(cfg_.peers);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    auto cells = deal_cells();
    for (size_t j = 0; j < cfg_.declarers; ++j) {
      slot_peer_.push_back(order[j]);
      slot_cells_.emplace_back(cells.begin() + j * cfg_.experts_per_declarer,
                               cells.begin() + (j + 1) * cfg_.experts_per_declarer);
      auto ep = next_host();
      for (auto c : slot_cells_.back())
        w_.serve(c, static_cast<int32_t>(j), ep);
      slot_ep_.push_back(ep);
    }
    for (size_t i = cfg_.declarers; i < cfg_.peers; ++i)
      w_.add_search_peer(order[i], swarm_->peer(order[i]));
    if (!self_check())
      return false;
    auto start = steady::now();
    for (size_t j = 0; j < cfg_.declarers; ++j) {
      std::this_thread::sleep_until(start + secs(cfg_.declare_spread_s * j / cfg_.declarers));
      declarers_.push_back(spawn_declarer_of(j));
      if ((j + 1) % 100 == 0 || j + 1 == cfg_.declarers) {
        std::printf("declarers started %zu/%zu cpu_s=%.1f\n", j + 1, cfg_.declarers,
                    cpu_seconds());
        std::fflush(stdout);
      }
    }
    return wait_first_rounds(start);
  }

  /// Runs the gates through the baseline and churn phases, one CSV row per
  /// interval; the rows.
  std::vector<row> measure(std::vector<row>& phases) {
    ctx_->w = &w_;
    ctx_->cfg = cfg_;
    ctx_->t0 = steady::now();
    for (size_t g = 0; g < cfg_.gates; ++g)
      spawn_search_gate(sys_, ctx_, cfg_.seed * 7919 + g);
    auto t0 = ctx_->t0;
    auto end = t0 + secs(cfg_.baseline_s + cfg_.churn_s);
    auto churn_start = t0 + secs(cfg_.baseline_s);
    auto per_s = cfg_.churn_per_min * static_cast<double>(cfg_.peers) / 60.0;
    auto churn_gap = per_s > 0 ? secs(1.0 / per_s) : secs(1e9);
    auto next_churn = churn_start;
    auto next_row = t0 + secs(cfg_.interval_s);
    std::vector<row> rows;
    std::vector<search_record> phase_recs[2];
    auto cpu0 = cpu_seconds();
    auto wall0 = steady::now();
    last_cpu_ = cpu0;
    last_wall_ = wall0;
    while (steady::now() < end) {
      auto now = steady::now();
      if (now >= next_row) {
        rows.push_back(emit(next_row, churn_start, phase_recs));
        next_row += secs(cfg_.interval_s);
      }
      while (now >= churn_start && now >= next_churn && next_churn < end) {
        replace_one();
        next_churn += churn_gap;
      }
      std::this_thread::sleep_until(std::min({next_row, next_churn, end}));
    }
    ctx_->stop = true;
    auto deadline = steady::now() + secs(cfg_.search_timeout_s + 15);
    while (ctx_->active > 0 && steady::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    for (int p = 0; p < 2; ++p) {
      row r;
      r.phase = p == 0 ? "baseline" : "churn";
      r.t_s = p == 0 ? cfg_.baseline_s : cfg_.baseline_s + cfg_.churn_s;
      aggregate(phase_recs[p], r);
      r.alive = swarm_->alive_indices().size();
      r.replaced = replaced_;
      r.rss_mib = status_kib("VmRSS") / 1024.0;
      r.cpu_cores = (cpu_seconds() - cpu0) / seconds_since(wall0);
      // The swarm columns: as at the phase's last interval.
      double load = 0;
      size_t n = 0;
      for (const auto& x : rows)
        if (x.phase == r.phase) {
          load += x.load;
          ++n;
          r.alive = x.alive;
          r.replaced = x.replaced;
          r.rss_mib = x.rss_mib;
        }
      r.load = n > 0 ? load / n : 0;
      phases.push_back(r);
    }
    return rows;
  }

  double build_s() const { return build_s_; }
  double kib_per_peer() const {
    return static_cast<double>(built_kib_ - rss0_kib_) / static_cast<double>(cfg_.peers);
  }
  size_t replaced() const { return replaced_; }
  uint64_t joins_failed() const { return swarm_->joins().failed; }
  uint64_t joins_ok() const { return swarm_->joins().ok; }
  int gates_left() const { return ctx_->active; }

private:
  /// All cells in the order they are dealt, experts_per_declarer at a time.
  std::vector<size_t> deal_cells() {
    auto per = cfg_.experts_per_declarer;
    std::vector<size_t> cells(grid_cells(cfg_));
    std::iota(cells.begin(), cells.end(), 0);
    if (cfg_.layout == "scatter") {
      std::shuffle(cells.begin(), cells.end(), rng_);
      return cells;
    }
    // Row-major cells: block b = cells [b * per, (b + 1) * per), all in one row.
    std::vector<size_t> blocks(cells.size() / per);
    std::iota(blocks.begin(), blocks.end(), 0);
    std::shuffle(blocks.begin(), blocks.end(), rng_);
    std::vector<size_t> out;
    for (auto b : blocks)
      for (size_t i = 0; i < per; ++i)
        out.push_back(b * per + i);
    return out;
  }

  endpoint next_host() { return endpoint{"host" + std::to_string(hosts_++), 7000}; }

  caf::actor spawn_declarer_of(size_t j) {
    dht::declarer_config dc;
    gate::grid_spec grid{cfg_.prefix, cfg_.grid};
    for (auto c : slot_cells_[j])
      dc.uids.push_back(gate::uid_of(grid, w_.coords_of(c)));
    dc.expert_ep = slot_ep_[j];
    dc.expiration_s = cfg_.expiration_s;
    dc.update_period_s = cfg_.update_period_s;
    // One key per slot: a replacement serves the slot's cells as the same
    // owner (another key could not overwrite them before they expire).
    if (slot_key_.size() <= j)
      slot_key_.resize(j + 1);
    if (!slot_key_[j])
      slot_key_[j] = std::make_shared<const identity::node_key>(identity::node_key::generate());
    dc.owner = slot_key_[j];
    return caf::actor_cast<caf::actor>(
      dht::spawn_declarer(sys_, swarm_->peer(slot_peer_[j]), std::move(dc)));
  }

  bool self_check() {
    gate::grid_spec grid{cfg_.prefix, cfg_.grid};
    auto served = w_.served();
    std::normal_distribution<float> normal;
    for (int i = 0; i < 20; ++i) {
      std::vector<float> scores(std::accumulate(cfg_.grid.begin(), cfg_.grid.end(), size_t{0}));
      for (auto& x : scores)
        x = normal(rng_);
      auto ref = gate::exhaustive_top_k(grid, {scores}, served, cfg_.k_best).at(0);
      auto mine = w_.true_top_k(scores);
      bool same = ref.size() == mine.size();
      for (size_t k = 0; same && k < ref.size(); ++k)
        same = ref[k].uid == mine[k].uid && ref[k].ep == mine[k].ep;
      if (!same) {
        std::cerr << "swarm: self-check failed: the truth's top-k differs from "
                     "gate::exhaustive_top_k\n";
        return false;
      }
    }
    return true;
  }

  bool wait_first_rounds(steady::time_point start) {
    caf::scoped_actor self{sys_};
    auto deadline = start + secs(cfg_.declare_wait_s);
    size_t done = 0;
    while (steady::now() < deadline) {
      // All asked at once, so one slow answer costs one timeout in all.
      done = 0;
      std::vector<std::function<void()>> collect;
      for (auto& d : declarers_) {
        auto h = self->request(caf::actor_cast<dht::declarer_actor>(d), std::chrono::seconds{5},
                               stats_atom::value);
        collect.emplace_back([h, &done]() mutable {
          h.receive([&](uint64_t rounds) { done += rounds > 0 ? 1 : 0; }, [](caf::error&) {});
        });
      }
      for (auto& f : collect)
        f();
      std::printf("declared %zu/%zu after %.1f s\n", done, declarers_.size(),
                  seconds_since(start));
      std::fflush(stdout);
      if (done == declarers_.size())
        return true;
      std::this_thread::sleep_for(std::chrono::seconds{2});
    }
    std::cerr << "swarm: only " << done << " of " << declarers_.size()
              << " declarers finished a round within " << cfg_.declare_wait_s << " s\n";
    return false;
  }

  /// Replaces one random live peer that no gate is using: a declarer with
  /// probability declarers/peers, else an idle search peer.
  void replace_one() {
    std::uniform_real_distribution<double> u;
    if (u(rng_) < static_cast<double>(cfg_.declarers) / static_cast<double>(cfg_.peers)) {
      auto j = rng_() % cfg_.declarers;
      caf::anon_send_exit(declarers_[j], caf::exit_reason::kill);
      slot_peer_[j] = swarm_->replace(slot_peer_[j]);
      slot_ep_[j] = next_host();
      w_.set_slot(static_cast<int32_t>(j), true, slot_ep_[j]);
      declarers_[j] = spawn_declarer_of(j);
    } else if (auto idle = w_.take_random_idle(rng_)) {
      auto fresh = swarm_->replace(*idle);
      w_.add_search_peer(fresh, swarm_->peer(fresh));
    } else {
      return;
    }
    ++replaced_;
  }

  row emit(steady::time_point at, steady::time_point churn_start,
           std::vector<search_record> (&phase_recs)[2]) {
    row r;
    r.t_s = std::chrono::duration<double>(at - ctx_->t0).count();
    r.phase = at <= churn_start ? "baseline" : "churn";
    auto recs = w_.take_records();
    auto churn_t = std::chrono::duration<double>(churn_start - ctx_->t0).count();
    for (const auto& x : recs)
      phase_recs[x.t_s <= churn_t ? 0 : 1].push_back(x);
    aggregate(recs, r);
    r.alive = swarm_->alive_indices().size();
    r.replaced = replaced_;
    r.rss_mib = status_kib("VmRSS") / 1024.0;
    auto cpu = cpu_seconds();
    r.cpu_cores = (cpu - last_cpu_) / seconds_since(last_wall_);
    last_cpu_ = cpu;
    last_wall_ = steady::now();
    r.load = load_average();
    std::printf("t=%.0fs phase=%s searches=%zu failed=%zu recall=%.4f exact=%.3f stale=%.4f "
                "p50_ms=%.0f p95_ms=%.0f lookups=%.1f rpcs=%.1f alive=%zu replaced=%zu "
                "rss_mib=%.0f cpu=%.2f load=%.1f\n",
                r.t_s, r.phase.c_str(), r.searches, r.failed, r.recall, r.exact, r.stale,
                r.p50_ms, r.p95_ms, r.keys, r.rpcs, r.alive, r.replaced, r.rss_mib,
                r.cpu_cores, r.load);
    std::fflush(stdout);
    return r;
  }

  caf::actor_system& sys_;
  settings cfg_;
  world w_;
  std::mt19937_64 rng_;
  std::shared_ptr<gate_context> ctx_;
  std::unique_ptr<dht::swarm> swarm_;
  std::vector<size_t> slot_peer_;
  std::vector<std::vector<size_t>> slot_cells_;
  std::vector<endpoint> slot_ep_;
  std::vector<std::shared_ptr<const identity::node_key>> slot_key_;
  std::vector<caf::actor> declarers_;
  size_t hosts_ = 0;
  size_t replaced_ = 0;
  uint64_t rss0_kib_ = 0;
  uint64_t built_kib_ = 0;
  double build_s_ = 0;
  double last_cpu_ = 0;
  steady::time_point last_wall_;
};

} // namespace colony::swarm_exp
