// The swarm experiment's figures: searches aggregated per interval and per
// phase, the CSV rows, this process's memory and CPU time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/experiments/swarm/world.hpp"
#include "bench/proc_status.hpp"

namespace colony::swarm_exp {

/// The searches of one interval (or phase) and the swarm's state at its end.
struct row {
  double t_s = 0;            ///< end of the interval, seconds since the measurement began
  std::string phase;         ///< "baseline" (no churn) or "churn"
  size_t searches = 0;       ///< searches that ended (ok or not)
  size_t failed = 0;         ///< searches past the search timeout (or whose peer failed)
  double recall = 0;         ///< mean recall@k of the completed searches
  double exact = 0;          ///< fraction of completed searches with the exact top-k set
  double stale = 0;          ///< fraction of returned experts not served there any more
  double p50_ms = 0;         ///< latency of completed searches
  double p95_ms = 0;
  double keys = 0;           ///< DHT lookups (prefix keys) per search
  double rpcs = 0;           ///< RPCs sent by the searching peer per search
  double hops = 0;           ///< mean depth of the answering peer per key
  size_t alive = 0;          ///< live peers
  size_t replaced = 0;       ///< peers replaced so far
  double rss_mib = 0;        ///< VmRSS
  double cpu_cores = 0;      ///< CPU seconds per wall second over the interval
  double load = 0;           ///< the machine's 1-minute load average (other processes too)
};

/// Aggregates `recs` into `r` (search fields only).
void aggregate(const std::vector<search_record>& recs, row& r);

/// The CSV header and one row.
std::string csv_header();
std::string csv_line(const row& r);

/// A field of /proc/self/status in KiB (VmRSS, VmHWM); 0 if absent.
using bench::status_kib;

/// The machine's 1-minute load average (/proc/loadavg).
double load_average();

/// User + system CPU seconds of this process so far.
double cpu_seconds();

/// The p-quantile (0..1) of `xs` by nearest rank; 0 for none.
double percentile(std::vector<double> xs, double p);

} // namespace colony::swarm_exp
