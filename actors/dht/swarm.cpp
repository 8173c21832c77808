// swarm: spawning peers, joining them in waves or in the background, and
// making them leave (kill, vanish).
#include "actors/dht/swarm.hpp"

#include <algorithm>

#include <caf/all.hpp>

namespace colony::dht {

swarm::swarm(caf::actor_system& sys, swarm_options opts)
  : sys_(sys), opts_(std::move(opts)), rng_(opts_.seed),
    directory_(std::make_shared<sim_directory>(opts_.faults)) {
  // nop
}

swarm::~swarm() {
  for (size_t i = 0; i < peers_.size(); ++i)
    if (alive_[i])
      stop(i);
  if (silent_)
    caf::anon_send_exit(silent_, caf::exit_reason::kill);
  for (auto& w : waiters_)
    caf::anon_send_exit(w, caf::exit_reason::kill);
}

endpoint swarm::endpoint_of(size_t i) {
  constexpr size_t ports = 65535;
  auto host = i < ports ? std::string{"sim"} : "sim" + std::to_string(i / ports);
  return endpoint{host, static_cast<uint16_t>(i % ports + 1)};
}

size_t swarm::spawn_one() {
  auto i = peers_.size();
  auto cfg = opts_.peer;
  cfg.self_ep = endpoint_of(i);
  cfg.seed = opts_.seed * 1000003 + i + 1;
  peers_.push_back(spawn_peer(sys_, std::move(cfg), directory_));
  alive_.push_back(true);
  vanished_.push_back(false);
  directory_->add(endpoint_of(i), peers_.back());
  return i;
}

caf::error swarm::grow(size_t n) {
  auto first = peers_.size();
  for (size_t i = 0; i < n; ++i)
    spawn_one();
  caf::scoped_actor self{sys_};
  // Waves at most as large as the swarm so far: a newcomer finds a swarm
  // at least half joined, so the self-lookups fill tables well.
  for (size_t begin = first, end = 0; begin < first + n; begin = end) {
    end = std::min(first + n, begin + std::clamp<size_t>(begin, 1, opts_.wave));
    std::vector<caf::error> errors;
    std::vector<std::function<void()>> collect;
    for (size_t i = begin; i < end; ++i) {
      auto handle = self->request(peers_[i], opts_.wave_timeout,
                                  dht_bootstrap_request{{}, pick_initial(begin)});
      collect.emplace_back([handle, &errors]() mutable {
        handle.receive([](dht_peer_stats&) {}, [&](caf::error& err) { errors.push_back(err); });
      });
    }
    for (auto& f : collect)
      f();
    if (!errors.empty())
      return errors.front();
  }
  return {};
}

size_t swarm::join() {
  auto initial = pick_initial(peers_.size());
  auto i = spawn_one();
  auto peer = peers_[i];
  auto counts = joins_;
  auto timeout = opts_.wave_timeout;
  ++counts->started;
  // A one-shot actor waits for the bootstrap's reply, then quits (or is
  // stopped with the swarm: a killed peer drops the reply it owed).
  waiters_.push_back(sys_.spawn([=](caf::event_based_actor* self) {
    self->request(peer, timeout, dht_bootstrap_request{{}, initial})
      .then(
        [=](dht_peer_stats&) {
          ++counts->ok;
          self->quit();
        },
        [=](caf::error&) {
          ++counts->failed;
          self->quit();
        });
  }));
  return i;
}

size_t swarm::replace(size_t i) {
  vanish(i);
  return join();
}

void swarm::kill(size_t i) {
  if (!alive_[i])
    return;
  directory_->remove(endpoint_of(i));
  stop(i);
}

void swarm::vanish(size_t i) {
  if (!alive_[i])
    return;
  if (!silent_)
    silent_ = spawn_silent_front(sys_);
  directory_->vanish(endpoint_of(i), silent_);
  vanished_[i] = true;
  stop(i);
}

void swarm::stop(size_t i) {
  alive_[i] = false;
  caf::anon_send_exit(peers_[i], caf::exit_reason::kill);
}

std::vector<size_t> swarm::alive_indices() const {
  std::vector<size_t> result;
  for (size_t i = 0; i < peers_.size(); ++i)
    if (alive_[i])
      result.push_back(i);
  return result;
}

client swarm::client_of(size_t i, caf::timespan timeout) {
  return client{sys_, peers_[i], timeout};
}

std::vector<std::string> swarm::pick_initial(size_t joined) {
  std::vector<size_t> live;
  for (size_t i = 0; i < joined; ++i)
    if (alive_[i])
      live.push_back(i);
  std::shuffle(live.begin(), live.end(), rng_);
  live.resize(std::min(live.size(), opts_.initial_peers));
  std::vector<std::string> result;
  for (auto i : live)
    result.push_back(endpoint_of(i).to_string());
  return result;
}

} // namespace colony::dht
