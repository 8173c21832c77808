// swarm_experiment: issue 9 section 4, finding experts among many
// participants, in one process (see driver.hpp for the set-up). Writes
// DIR/swarm.csv (one row per interval), DIR/swarm_summary.csv (one row per
// phase) and DIR/table.md (the results in Markdown); exits 1 when a sanity
// check of the figures fails, naming it.
// Usage: swarm_experiment --config FILE.yaml --out DIR
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bench/experiments/swarm/driver.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using namespace colony::swarm_exp;

namespace {

void write_csv(const std::string& path, const std::vector<row>& rows) {
  std::ofstream out{path};
  out << csv_header() << "\n";
  for (const auto& r : rows)
    out << csv_line(r) << "\n";
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, x);
  return buf;
}

std::string table(const settings& s, const driver& d, const std::vector<row>& ph) {
  const auto& b = ph.at(0);
  const auto& c = ph.at(1);
  std::ostringstream o;
  auto line = [&](const std::string& name, const std::string& x, const std::string& y) {
    o << "| " << name << " | " << x << " | " << y << " |\n";
  };
  auto num = [&](const std::string& name, const char* f, double x, double y) {
    line(name, fmt(f, x), fmt(f, y));
  };
  o << "| measure | baseline (" << s.baseline_s << " s, no churn) | churn (" << s.churn_s
    << " s, " << 100 * s.churn_per_min << "% of peers / min) |\n|---|---:|---:|\n";
  num("searches", "%.0f", b.searches, c.searches);
  num("failed searches (timeout " + fmt("%.0f", s.search_timeout_s) + " s)", "%.0f",
      b.failed, c.failed);
  num("recall@" + std::to_string(s.k_best) + " vs exhaustive over served experts", "%.4f",
      b.recall, c.recall);
  num("exact top-" + std::to_string(s.k_best) + " set", "%.4f", b.exact, c.exact);
  num("returned experts not served there any more", "%.4f", b.stale, c.stale);
  num("latency p50 (ms)", "%.0f", b.p50_ms, c.p50_ms);
  num("latency p95 (ms)", "%.0f", b.p95_ms, c.p95_ms);
  num("DHT lookups (prefix keys) per search", "%.2f", b.keys, c.keys);
  num("RPCs sent by the searching peer per search", "%.1f", b.rpcs, c.rpcs);
  num("depth of the answering peer per lookup", "%.2f", b.hops, c.hops);
  num("CPU cores busy (of 2)", "%.2f", b.cpu_cores, c.cpu_cores);
  num("machine load average (all processes, mean)", "%.1f", b.load, c.load);
  o << "\n| swarm | value |\n|---|---:|\n";
  o << "| peers / declaring / gates | " << s.peers << " / " << s.declarers << " / " << s.gates
    << " |\n";
  o << "| experts (grid " << s.prefix << " [";
  for (size_t i = 0; i < s.grid.size(); ++i)
    o << (i ? ", " : "") << s.grid[i];
  o << "]) | " << s.declarers * s.experts_per_declarer << " |\n";
  o << "| one-way delay of every DHT message | " << s.delay_ms << " ms (fixed) |\n";
  o << "| peers replaced (joins ok / failed) | " << d.replaced() << " (" << d.joins_ok()
    << " / " << d.joins_failed() << ") |\n";
  o << "| swarm build (bootstrap, no delay) | " << fmt("%.1f", d.build_s()) << " s |\n";
  o << "| memory per peer (RSS growth over the build / peers) | "
    << fmt("%.1f", d.kib_per_peer()) << " KiB |\n";
  o << "| RSS at the end / peak (VmHWM) | " << fmt("%.0f", status_kib("VmRSS") / 1024.0)
    << " / " << fmt("%.0f", status_kib("VmHWM") / 1024.0) << " MiB |\n";
  return o.str();
}

/// The sanity checks; an empty string when all pass.
std::string check(const settings& s, const driver& d, const std::vector<row>& ph) {
  const auto& c = ph.at(1);
  auto ok = c.searches - c.failed;
  std::ostringstream o;
  if (c.searches == 0 || ok == 0)
    o << "no search completed under churn; ";
  if (c.searches > 0 && static_cast<double>(ok) < s.min_success * c.searches)
    o << "only " << ok << " of " << c.searches << " searches completed under churn (want >= "
      << 100 * s.min_success << "%); ";
  if (ph.at(0).recall < s.min_baseline_recall)
    o << "recall@k without churn " << ph.at(0).recall << " < " << s.min_baseline_recall << "; ";
  if (c.recall < s.min_recall)
    o << "recall@k under churn " << c.recall << " < " << s.min_recall << "; ";
  if (!(c.p95_ms > 0) || !std::isfinite(c.p95_ms) || c.p95_ms >= 1000 * s.search_timeout_s)
    o << "latency p95 " << c.p95_ms << " ms not in (0, search timeout); ";
  if (d.replaced() == 0)
    o << "no peer was replaced (no churn); ";
  if (!(c.keys > 0))
    o << "no DHT lookups per search; ";
  return o.str();
}

} // namespace

int main(int argc, char** argv) {
  std::string config, out;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--config")
      config = argv[i + 1];
    else if (arg == "--out")
      out = argv[i + 1];
  }
  if (config.empty() || out.empty()) {
    std::cerr << "usage: swarm_experiment --config FILE.yaml --out DIR\n";
    return 2;
  }
  auto s = load_settings(config);
  if (!s) {
    std::cerr << "swarm: " << describe(s.error()) << "\n";
    return 2;
  }
  system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<row> rows, phases;
  std::string problems, md;
  {
    driver d{sys, *s};
    if (!d.build() || !d.declare())
      return 1;
    rows = d.measure(phases);
    write_csv(out + "/swarm.csv", rows);
    write_csv(out + "/swarm_summary.csv", phases);
    md = table(*s, d, phases);
    std::ofstream{out + "/table.md"} << md;
    std::cout << "\n" << md;
    problems = check(*s, d, phases);
    if (d.gates_left() > 0)
      problems += std::to_string(d.gates_left()) + " gates did not stop; ";
  }
  if (!problems.empty()) {
    std::cerr << "swarm: sanity check failed: " << problems << "\n";
    return 1;
  }
  std::cout << "sanity checks passed\n";
  return 0;
}
