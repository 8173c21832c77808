// report: aggregation, CSV formatting, /proc and getrusage readings.
#include "bench/experiments/swarm/report.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace colony::swarm_exp {

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto index = static_cast<size_t>(p * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(index, xs.size() - 1)];
}

void aggregate(const std::vector<search_record>& recs, row& r) {
  std::vector<double> ms;
  double recall = 0, keys = 0, rpcs = 0, hops = 0;
  size_t exact = 0, returned = 0, stale = 0;
  r.searches = recs.size();
  r.failed = 0;
  for (const auto& x : recs) {
    keys += x.keys;
    rpcs += static_cast<double>(x.rpcs);
    if (!x.ok) {
      ++r.failed;
      continue;
    }
    ms.push_back(x.ms);
    recall += x.recall;
    exact += x.exact ? 1 : 0;
    returned += x.returned;
    stale += x.stale;
    hops += x.hops;
  }
  auto ok = static_cast<double>(ms.size());
  auto all = static_cast<double>(recs.size());
  r.recall = ok > 0 ? recall / ok : 0;
  r.exact = ok > 0 ? static_cast<double>(exact) / ok : 0;
  r.stale = returned > 0 ? static_cast<double>(stale) / static_cast<double>(returned) : 0;
  r.hops = ok > 0 ? hops / ok : 0;
  r.keys = all > 0 ? keys / all : 0;
  r.rpcs = all > 0 ? rpcs / all : 0;
  r.p50_ms = percentile(ms, 0.5);
  r.p95_ms = percentile(ms, 0.95);
}

std::string csv_header() {
  return "t_s,phase,searches,failed,recall,exact,stale,p50_ms,p95_ms,lookups_per_search,"
         "rpcs_per_search,hops,alive_peers,replaced,rss_mib,cpu_cores,load";
}

std::string csv_line(const row& r) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%.1f,%s,%zu,%zu,%.4f,%.4f,%.4f,%.1f,%.1f,%.2f,%.1f,%.2f,%zu,%zu,%.1f,%.2f,%.2f",
                r.t_s, r.phase.c_str(), r.searches, r.failed, r.recall, r.exact, r.stale,
                r.p50_ms, r.p95_ms, r.keys, r.rpcs, r.hops, r.alive, r.replaced, r.rss_mib,
                r.cpu_cores, r.load);
  return buf;
}

double load_average() {
  std::ifstream in{"/proc/loadavg"};
  double x = 0;
  in >> x;
  return x;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

} // namespace colony::swarm_exp
