// avg_peer: one averaging peer in its own OS process, for the loopback
// tests (process_test.cpp). It joins a DHT (or starts one), starts an
// averager, announces "<dht endpoint> <averager endpoint>" in DIR/NAME.ready,
// waits for DIR/go, does one thing (average, or fetch a state), writes the
// outcome to DIR/NAME.result and waits for DIR/stop. Every wait bounded.
//
//   avg_peer DIR NAME INDEX [--bootstrap EP] [--die-after-group]
//            [--hostile] [--set-state VERSION] [--fetch-state] [--idle]
//            [--big] [--part-bytes N] [--mismatch] [--compression MODE]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/averaging/averager.hpp"
#include "actors/dht/io_peer.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"
#include "tests/averaging/peer_tensors.hpp"

using namespace colony;
using namespace colony::averaging;

namespace {

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

/// Waits until `path` exists, at most `limit`.
bool wait_for(const std::string& path, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!exists(path) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  return exists(path);
}

/// Writes `text` to `path` atomically (a rename), so readers see all or nothing.
void publish(const std::string& path, const std::string& text) {
  std::ofstream{path + ".tmp"} << text;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

std::string render(const std::vector<named_tensor>& xs) {
  std::string out;
  char buf[32];
  for (auto& x : xs) {
    out += x.name + " " + std::to_string(x.values.size());
    for (auto v : x.values) {
      std::snprintf(buf, sizeof(buf), " %.9g", static_cast<double>(v));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

struct args {
  std::string dir, name, bootstrap;
  int index = 0;
  bool die_after_group = false, hostile = false, fetch = false, idle = false, big = false,
       mismatch = false;
  uint64_t part_bytes = 0;
  std::string compression = "none";
  long set_state = -1;
};

args parse(int argc, char** argv) {
  args a;
  a.dir = argv[1];
  a.name = argv[2];
  a.index = std::stoi(argv[3]);
  for (int i = 4; i < argc; ++i) {
    std::string x = argv[i];
    if (x == "--bootstrap" && i + 1 < argc)
      a.bootstrap = argv[++i];
    else if (x == "--set-state" && i + 1 < argc)
      a.set_state = std::stol(argv[++i]);
    else if (x == "--die-after-group")
      a.die_after_group = true;
    else if (x == "--hostile")
      a.hostile = true;
    else if (x == "--fetch-state")
      a.fetch = true;
    else if (x == "--idle")
      a.idle = true;
    else if (x == "--mismatch")
      a.mismatch = true;
    else if (x == "--big")
      a.big = true;
    else if (x == "--compression" && i + 1 < argc)
      a.compression = argv[++i];
    else if (x == "--part-bytes" && i + 1 < argc)
      a.part_bytes = std::stoull(argv[++i]);
  }
  return a;
}

std::string act(averager& avg, const args& a) {
  if (a.idle)
    return "idle\n";
  if (a.fetch) {
    auto s = avg.fetch_state();
    if (!s)
      return "error " + describe(s.error()) + "\n";
    return "state version=" + std::to_string(s->version) + " from=" + s->from + "\n"
           + render(s->tensors);
  }
  auto tensors = testing::peer_tensors(a.index, a.big);
  if (a.mismatch)
    tensors[1].shape = {2, 2}; // same values, another shape
  auto r = avg.average(std::move(tensors), 1.0);
  if (!r)
    return "error " + describe(r.error()) + "\n";
  return "ok group=" + std::to_string(r->group_size) + " delivered="
         + std::to_string(r->delivered.size()) + " sent=" + std::to_string(r->bytes_sent)
         + " received=" + std::to_string(r->bytes_received)
         + " attempts=" + std::to_string(r->attempts) + "\n" + render(r->tensors);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: avg_peer DIR NAME INDEX [options]\n");
    return 2;
  }
  auto a = parse(argc, argv);
  auto at = [&](const std::string& file) { return a.dir + "/" + file; };
  system_config cfg;
  caf::actor_system sys{cfg};
  dht::peer_config pc;
  pc.rpc_timeout = std::chrono::milliseconds{1000};
  std::vector<std::string> initial;
  if (!a.bootstrap.empty())
    initial.push_back(a.bootstrap);
  auto peer = dht::start_io_peer(sys, pc, initial);
  if (!peer) {
    std::fprintf(stderr, "dht: %s\n", describe(peer.error()).c_str());
    return 1;
  }
  averaging_config ac;
  ac.run = "test-run";
  ac.join_window_s = 2;
  ac.round_timeout_s = 20;
  if (a.part_bytes > 0)
    ac.max_part_bytes = a.part_bytes;
  if (!wire::from_string(a.compression, ac.compression)) {
    std::fprintf(stderr, "unknown compression %s\n", a.compression.c_str());
    return 2;
  }
  averager_options opts;
  opts.corrupt_parts = a.hostile;
  if (a.die_after_group)
    opts.on_group = [&](const avg_group&) {
      publish(at(a.name + ".group"), "group\n");
      for (;;)
        pause(); // the test SIGKILLs this process now
    };
  auto avg = averager::start(sys, ac, peer->peer, opts);
  if (!avg) {
    std::fprintf(stderr, "averager: %s\n", describe(avg.error()).c_str());
    return 1;
  }
  if (a.set_state >= 0)
    if (auto err = (*avg)->set_state(testing::peer_tensors(a.index, a.big),
                                     static_cast<uint64_t>(a.set_state))) {
      std::fprintf(stderr, "set_state: %s\n", describe(err).c_str());
      return 1;
    }
  publish(at(a.name + ".ready"), peer->ep.to_string() + " " + (*avg)->ep() + "\n");
  if (!wait_for(at("go"), std::chrono::seconds{60}))
    return 3;
  publish(at(a.name + ".result"), act(**avg, a));
  wait_for(at("stop"), std::chrono::seconds{60});
  avg->reset();
  dht::stop_io_peer(sys, *peer);
  return 0;
}
