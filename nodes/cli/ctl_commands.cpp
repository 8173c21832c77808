#include "nodes/cli/ctl_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include <caf/scoped_actor.hpp>

#include "actors/client/connect.hpp"
#include "actors/control/protocol.hpp"
#include "messages/errc.hpp"
#include "nodes/cli/fail.hpp"
#include "runtime/control_config.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/expert_spec_wire.hpp"
#include "runtime/supervision/report.hpp"

namespace colony::cli {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds{500};

/// Most pages read to find the last --lines lines (a page is <= 1000 lines).
constexpr int max_pages = 10000;

/// A connected control port and the token to show it.
struct session {
  caf::actor_system& sys;
  endpoint ep;
  control_actor ctl;
  std::string token;
  caf::timespan timeout;

  /// Sends `req`; the reply, or the error in colony terms.
  template <class Reply, class Request>
  caf::expected<Reply> ask(Request req) {
    caf::expected<Reply> result{caf::error{}};
    caf::scoped_actor self{sys};
    self->request(ctl, timeout, std::move(req))
      .receive([&](Reply& r) { result = std::move(r); },
               [&](caf::error& err) {
                 result = net::classify(err, ep, "control port", timeout, false);
               });
    return result;
  }
};

caf::expected<session> open_session(caf::actor_system& sys, const ctl_options& opts) {
  if (opts.token_file.empty())
    return make_error(errc::bad_config, "--token-file is required (or set "
                                        "COLONY_CTL_TOKEN_FILE)");
  auto token = load_token(opts.token_file);
  if (!token)
    return token.error();
  auto ep = parse_endpoint(opts.node);
  if (!ep)
    return make_error(errc::bad_request, "--node: " + context_of(ep.error()));
  auto timeout = std::chrono::milliseconds{opts.timeout_ms};
  auto ctl = net::connect_blocking<control_actor>(sys, *ep, timeout, "control port");
  if (!ctl)
    return ctl.error();
  return session{sys, *ep, *ctl, std::move(*token), timeout};
}

template <class F>
int with_session(caf::actor_system& sys, const ctl_options& opts, F body) {
  auto s = open_session(sys, opts);
  if (!s)
    return fail(describe(s.error()));
  return body(*s);
}

caf::expected<expert_spec_msg> read_spec(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in.is_open())
    return make_error(errc::io_failed, "cannot read spec file '" + path + "'");
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto spec = spec_from_yaml(text);
  if (!spec)
    return make_error(errc::bad_config, path + ": " + context_of(spec.error()));
  return spec;
}

int print_uids(const caf::expected<ctl_uids>& r) {
  if (!r)
    return fail(describe(r.error()));
  for (const auto& uid : r->uids)
    std::cout << uid << "\n";
  std::cout << std::flush;
  return 0;
}

int cmd_spawn(caf::actor_system& sys, const ctl_options& opts) {
  ctl_spawn req;
  req.prefix = opts.prefix;
  req.count = opts.count;
  // Without --spec, module_type stays empty: the node copies its group's spec.
  if (!opts.spec_file.empty()) {
    auto spec = read_spec(opts.spec_file);
    if (!spec)
      return fail(describe(spec.error()));
    req.spec = std::move(*spec);
  }
  return with_session(sys, opts, [&](session& s) {
    req.token = s.token;
    return print_uids(s.ask<ctl_uids>(req));
  });
}

int cmd_stop(caf::actor_system& sys, const ctl_options& opts) {
  return with_session(sys, opts, [&](session& s) {
    return print_uids(s.ask<ctl_uids>(ctl_stop{s.token, opts.uids}));
  });
}

int cmd_status(caf::actor_system& sys, const ctl_options& opts) {
  return with_session(sys, opts, [&](session& s) {
    auto st = s.ask<node_status>(ctl_status{s.token});
    if (!st)
      return fail(describe(st.error()));
    std::cout << format_status(*st) << std::flush;
    return 0;
  });
}

/// Reads every line above 0 and prints the last `n`; the `next` to poll from.
caf::expected<uint64_t> print_tail(session& s, uint32_t n) {
  std::deque<std::string> tail;
  uint64_t after = 0;
  for (int page = 0; page < max_pages; ++page) {
    auto r = s.ask<ctl_log_lines>(ctl_logs{s.token, after, 1000});
    if (!r)
      return r.error();
    for (auto& line : r->lines) {
      tail.push_back(std::move(line));
      if (tail.size() > n)
        tail.pop_front();
    }
    if (r->lines.empty() || r->next <= after)
      break;
    after = r->next;
  }
  for (const auto& line : tail)
    std::cout << line << "\n";
  std::cout << std::flush;
  return after;
}

/// True when a signal of `signals` arrived within `wait`.
bool signalled(sigset_t& signals, std::chrono::milliseconds wait) {
  auto ts = timespec{static_cast<time_t>(wait.count() / 1000),
                     static_cast<long>(wait.count() % 1000) * 1000000};
  return sigtimedwait(&signals, nullptr, &ts) > 0;
}

int follow(session& s, uint64_t after, const ctl_options& opts, sigset_t& signals) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                   std::chrono::duration<double>(opts.for_seconds));
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    auto wait = opts.for_seconds > 0 ? std::min(left, poll_interval) : poll_interval;
    if (wait.count() <= 0 || signalled(signals, wait))
      return 0;
    auto r = s.ask<ctl_log_lines>(ctl_logs{s.token, after, 1000});
    if (!r)
      return fail(describe(r.error()));
    if (r->missed > 0)
      std::cout << "(" << r->missed << " lines missed)\n";
    for (const auto& line : r->lines)
      std::cout << line << "\n";
    std::cout << std::flush;
    after = r->next;
  }
}

int cmd_logs(caf::actor_system& sys, const ctl_options& opts, sigset_t& signals) {
  return with_session(sys, opts, [&](session& s) {
    auto next = print_tail(s, opts.lines);
    if (!next)
      return fail(describe(next.error()));
    return opts.follow ? follow(s, *next, opts, signals) : 0;
  });
}

void add_common(CLI::App* cmd, ctl_options& opts) {
  cmd->add_option("--node", opts.node, "HOST:PORT of the node's control port")->required();
  cmd->add_option("--token-file", opts.token_file,
                  "file with the node's control token (default $COLONY_CTL_TOKEN_FILE)");
  cmd->add_option("--timeout-ms", opts.timeout_ms, "limit of each request")
    ->check(CLI::Range(1, 3600000));
}

std::string seconds(double s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << s << "s";
  return out.str();
}

} // namespace

ctl_subcommands add_ctl_commands(CLI::App& app, ctl_options& opts) {
  if (auto env = std::getenv("COLONY_CTL_TOKEN_FILE"))
    opts.token_file = env;
  ctl_subcommands cmds;
  auto ctl = app.add_subcommand("ctl", "control a running node through its control port");
  ctl->require_subcommand(1);
  cmds.spawn = ctl->add_subcommand("spawn", "add experts PREFIX.N to the node");
  cmds.spawn->add_option("--prefix", opts.prefix, "uid prefix, e.g. ffn.3")->required();
  cmds.spawn->add_option("--count", opts.count, "how many experts")
    ->check(CLI::Range(1, 1024));
  cmds.spawn->add_option("--spec", opts.spec_file,
                         "YAML file with the group's spec (default: copy the node's group "
                         "with that prefix)");
  add_common(cmds.spawn, opts);
  cmds.stop = ctl->add_subcommand("stop", "checkpoint and remove experts");
  cmds.stop->add_option("--uid", opts.uids, "expert uid (repeatable)")
    ->required()
    ->expected(1)
    ->allow_extra_args(false)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_common(cmds.stop, opts);
  cmds.status = ctl->add_subcommand("status", "print the node's supervision tree");
  add_common(cmds.status, opts);
  cmds.logs = ctl->add_subcommand("logs", "print the node's recent log lines");
  cmds.logs->add_flag("--follow", opts.follow, "keep printing new lines (every 500 ms)");
  cmds.logs->add_option("--lines", opts.lines, "how many recent lines to print first");
  cmds.logs->add_option("--for-seconds", opts.for_seconds, "stop following after this long")
    ->check(CLI::PositiveNumber);
  add_common(cmds.logs, opts);
  return cmds;
}

int run_ctl_command(caf::actor_system& sys, const ctl_subcommands& cmds,
                    const ctl_options& opts, sigset_t& signals) {
  if (cmds.spawn->parsed())
    return cmd_spawn(sys, opts);
  if (cmds.stop->parsed())
    return cmd_stop(sys, opts);
  if (cmds.status->parsed())
    return cmd_status(sys, opts);
  return cmd_logs(sys, opts, signals);
}

std::string format_status(const node_status& st) {
  std::ostringstream out;
  out << "node " << st.node << " uptime=" << seconds(st.uptime_s) << "\n";
  size_t width = 0;
  auto label = [](const tree_entry& e) {
    auto depth = static_cast<size_t>(std::count(e.path.begin(), e.path.end(), '/'));
    auto slash = e.path.rfind('/');
    return std::string(2 * depth, ' ')
           + (slash == std::string::npos ? e.path : e.path.substr(slash + 1));
  };
  for (const auto& e : st.tree)
    width = std::max(width, label(e).size());
  for (const auto& e : st.tree) {
    out << std::left << std::setw(static_cast<int>(width)) << label(e) << "  "
        << std::setw(10) << e.kind << " " << std::setw(10) << e.state
        << " restarts=" << e.restarts << " uptime=" << seconds(e.uptime_s);
    if (!e.last_exit.empty())
      out << " last_exit=" << supervision::quote(e.last_exit);
    for (const auto& [k, v] : e.details)
      out << " " << k << "=" << supervision::quote(v);
    out << "\n";
  }
  return out.str();
}

} // namespace colony::cli
