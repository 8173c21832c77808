// The control actor on CAF's deterministic test scheduler with a fake node
// manager that records what it is asked: the token check comes first (the
// manager never sees a refused request), refusals are logged at most once
// per second of virtual time, replies pass through; plus one loopback
// check that start_control publishes it behind the guard.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "actors/client/connect.hpp"
#include "actors/control/control_actor.hpp"
#include "messages/errc.hpp"
#include "messages/registry.hpp"
#include "runtime/logging.hpp"
#include "runtime/system_config.hpp"
#include "tests/actor/test_config.hpp"

using namespace colony;
using namespace std::chrono_literals;

namespace {

const std::string good_token = "0123456789abcdef-good";

using actor_test::test_config;

/// What the fake manager was asked.
struct manager_log {
  std::vector<std::string> calls; ///< "spawn ffn.3 2 ffn", "remove ffn.3.0", "status"
  std::optional<expert_spec_msg> spec;
};

/// A node manager that records its calls; `hang` = never answers.
node_manager_actor::behavior_type fake_manager(node_manager_actor::pointer self,
                                               std::shared_ptr<manager_log> log, bool hang) {
  return {
    [=](spawn_atom, std::string& prefix, uint32_t count,
        expert_spec_msg& spec) -> caf::result<std::vector<std::string>> {
      log->calls.push_back("spawn " + prefix + " " + std::to_string(count) + " "
                           + spec.module_type);
      log->spec = spec;
      if (hang)
        return self->make_response_promise<std::vector<std::string>>();
      std::vector<std::string> uids;
      for (uint32_t i = 0; i < count; ++i)
        uids.push_back(prefix + "." + std::to_string(4 + i));
      return uids;
    },
    [=](remove_atom, std::vector<std::string>& uids) -> caf::result<std::vector<std::string>> {
      for (auto& u : uids)
        log->calls.push_back("remove " + u);
      if (uids.at(0) == "ffn.9.9")
        return make_error(errc::unknown_expert, "ffn.9.9");
      return uids;
    },
    [=](status_atom) {
      log->calls.push_back("status");
      node_status st;
      st.node = "127.0.0.1:4000";
      st.uptime_s = 12.5;
      st.tree.push_back(tree_entry{"node", "supervisor", "running", "permanent", 0, 12.5, "", {}});
      st.tree.push_back(tree_entry{"node/experts/ffn.3/ffn.3.0", "worker", "running",
                                   "permanent", 2, 3.0, "diverged", {{"updates", "17"}}});
      return st;
    },
  };
}

/// The lines logged on the "supervisor" logger while it lives.
struct captured_log {
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink
    = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  std::shared_ptr<spdlog::logger> logger = log::get("supervisor");

  captured_log() {
    sink->set_pattern("%v");
    logger->sinks().push_back(sink);
    logger->set_level(spdlog::level::info);
  }

  ~captured_log() {
    auto& sinks = logger->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }

  std::vector<std::string> lines_with(const std::string& part) {
    std::vector<std::string> result;
    std::istringstream in{out.str()};
    for (std::string line; std::getline(in, line);)
      if (line.find(part) != std::string::npos)
        result.push_back(line);
    return result;
  }
};

template <class T>
struct reply_or_error {
  std::optional<T> reply;
  std::optional<caf::error> error;
};

struct ControlTest : ::testing::Test {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<manager_log> calls = std::make_shared<manager_log>();
  std::shared_ptr<std::vector<std::pair<uint64_t, uint32_t>>> reads
    = std::make_shared<std::vector<std::pair<uint64_t, uint32_t>>>();
  captured_log captured;

  ~ControlTest() override {
    sched.advance_time(120s);
    sched.run();
    sys.await_actors_before_shutdown(false); // a hung manager's promise is never delivered
  }

  control_actor make_control(bool hang = false) {
    control::control_deps deps;
    deps.manager = sys.spawn(fake_manager, calls, hang);
    auto r = reads;
    deps.logs = [r](uint64_t after, uint32_t max_lines) {
      r->emplace_back(after, max_lines);
      return ctl_log_lines{{"line " + std::to_string(after + 1)}, after + 1, 3};
    };
    return control::spawn_control(sys, good_token, std::move(deps));
  }

  template <class Reply, class Request>
  std::shared_ptr<reply_or_error<Reply>> ask(const control_actor& ctl, Request req) {
    auto out = std::make_shared<reply_or_error<Reply>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(ctl, caf::infinite, req)
        .then([=](Reply& r) { out->reply = std::move(r); },
              [=](caf::error& e) { out->error = e; });
    });
    sched.run();
    return out;
  }

  template <class T>
  static void expect_error(const reply_or_error<T>& out, errc code, const std::string& part) {
    ASSERT_TRUE(out.error.has_value()) << "got a reply";
    EXPECT_EQ(code_of(*out.error), code) << describe(*out.error);
    EXPECT_NE(context_of(*out.error).find(part), std::string::npos) << describe(*out.error);
  }
};

ctl_spawn spawn_request(std::string token, uint32_t count) {
  ctl_spawn req{std::move(token), "ffn.3", count, {}};
  req.spec.module_type = "ffn";
  req.spec.module_params = {{"dim", 8}};
  return req;
}

} // namespace

TEST_F(ControlTest, WrongOrMissingTokenIsRefusedBeforeTheManager) {
  auto ctl = make_control();
  const std::string refused = "control request refused: wrong or missing token";
  for (std::string token : {"", "0123456789abcdef-bad!", "0123456789abcdef-goo"}) {
    expect_error(*ask<ctl_uids>(ctl, spawn_request(token, 1)), errc::unauthorized, refused);
    expect_error(*ask<ctl_uids>(ctl, ctl_stop{token, {"ffn.3.0"}}), errc::unauthorized, refused);
    expect_error(*ask<node_status>(ctl, ctl_status{token}), errc::unauthorized, refused);
    expect_error(*ask<ctl_log_lines>(ctl, ctl_logs{token, 0, 10}), errc::unauthorized, refused);
  }
  EXPECT_TRUE(calls->calls.empty());
  EXPECT_TRUE(reads->empty());
}

TEST_F(ControlTest, RefusalsAreLoggedAtMostOncePerSecondWithACount) {
  auto ctl = make_control();
  for (int i = 0; i < 5; ++i)
    ask<ctl_uids>(ctl, spawn_request("", 1));
  auto lines = captured.lines_with("event=ctl_refused");
  ASSERT_EQ(lines.size(), 1u) << captured.out.str();
  EXPECT_NE(lines[0].find("request=spawn peer=local reason=\"missing token\" refused=1"),
            std::string::npos)
    << lines[0];
  sched.advance_time(999ms);
  ask<node_status>(ctl, ctl_status{"wrong-token-0123456"});
  EXPECT_EQ(captured.lines_with("event=ctl_refused").size(), 1u);
  sched.advance_time(1ms);
  ask<node_status>(ctl, ctl_status{"wrong-token-0123456"});
  lines = captured.lines_with("event=ctl_refused");
  ASSERT_EQ(lines.size(), 2u) << captured.out.str();
  EXPECT_NE(lines[1].find("request=status peer=local reason=\"wrong token\" refused=6"),
            std::string::npos)
    << lines[1];
}

TEST_F(ControlTest, SpawnPassesTheRequestAndTheManagersUids) {
  auto ctl = make_control();
  auto out = ask<ctl_uids>(ctl, spawn_request(good_token, 2));
  ASSERT_TRUE(out->reply) << describe(*out->error);
  EXPECT_EQ(out->reply->uids, (std::vector<std::string>{"ffn.3.4", "ffn.3.5"}));
  EXPECT_EQ(calls->calls, (std::vector<std::string>{"spawn ffn.3 2 ffn"}));
  EXPECT_EQ(calls->spec->module_params.at("dim"), 8);
  // Without a spec (empty module_type) the node copies an existing group's.
  out = ask<ctl_uids>(ctl, ctl_spawn{good_token, "ffn.3", 1, {}});
  ASSERT_TRUE(out->reply) << describe(*out->error);
  EXPECT_EQ(calls->calls.back(), "spawn ffn.3 1 ");
}

TEST_F(ControlTest, BadSpawnsAreRefusedBeforeTheManager) {
  auto ctl = make_control();
  expect_error(*ask<ctl_uids>(ctl, spawn_request(good_token, 0)), errc::bad_request,
               "count 0 out of range 1..1024");
  expect_error(*ask<ctl_uids>(ctl, spawn_request(good_token, 5000)), errc::bad_request,
               "count 5000 out of range 1..1024");
  auto bad_prefix = spawn_request(good_token, 1);
  bad_prefix.prefix = "3ffn";
  expect_error(*ask<ctl_uids>(ctl, bad_prefix), errc::bad_request, "prefix '3ffn'");
  auto bad_lr = spawn_request(good_token, 1);
  bad_lr.spec.optimizer_params["lr"] = -1;
  expect_error(*ask<ctl_uids>(ctl, bad_lr), errc::bad_config, "spec.optimizer.lr: -1");
  expect_error(*ask<ctl_uids>(ctl, ctl_stop{good_token, {}}), errc::bad_request, "no uids");
  expect_error(*ask<ctl_uids>(ctl, ctl_stop{good_token, {"ffn.3.07"}}), errc::bad_request,
               "'ffn.3.07'");
  EXPECT_TRUE(calls->calls.empty());
}

TEST_F(ControlTest, StopAndStatusPassTheManagersReplies) {
  auto ctl = make_control();
  auto stopped = ask<ctl_uids>(ctl, ctl_stop{good_token, {"ffn.3.0", "ffn.3.1"}});
  ASSERT_TRUE(stopped->reply) << describe(*stopped->error);
  EXPECT_EQ(stopped->reply->uids, (std::vector<std::string>{"ffn.3.0", "ffn.3.1"}));
  expect_error(*ask<ctl_uids>(ctl, ctl_stop{good_token, {"ffn.9.9"}}), errc::unknown_expert,
               "ffn.9.9");
  auto st = ask<node_status>(ctl, ctl_status{good_token});
  ASSERT_TRUE(st->reply) << describe(*st->error);
  EXPECT_EQ(st->reply->node, "127.0.0.1:4000");
  ASSERT_EQ(st->reply->tree.size(), 2u);
  EXPECT_EQ(st->reply->tree[1].restarts, 2u);
  EXPECT_EQ(st->reply->tree[1].details.at("updates"), "17");
  EXPECT_EQ(calls->calls, (std::vector<std::string>{"remove ffn.3.0", "remove ffn.3.1",
                                                    "remove ffn.9.9", "status"}));
}

TEST_F(ControlTest, ManagerThatNeverAnswersTimesOutAfterSixtySeconds) {
  auto ctl = make_control(true);
  auto out = ask<ctl_uids>(ctl, spawn_request(good_token, 1));
  sched.advance_time(59s);
  sched.run();
  EXPECT_FALSE(out->reply || out->error);
  sched.advance_time(1s);
  sched.run();
  expect_error(*out, errc::timeout, "did not answer spawn within 60000 ms");
}

TEST_F(ControlTest, LogsReadTheRing) {
  auto ctl = make_control();
  auto out = ask<ctl_log_lines>(ctl, ctl_logs{good_token, 41, 100});
  ASSERT_TRUE(out->reply) << describe(*out->error);
  EXPECT_EQ(out->reply->lines, (std::vector<std::string>{"line 42"}));
  EXPECT_EQ(out->reply->next, 42u);
  EXPECT_EQ(out->reply->missed, 3u);
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ(reads->at(0), (std::pair<uint64_t, uint32_t>{41, 100}));
}

namespace {

struct token_file {
  std::string path = (std::filesystem::temp_directory_path()
                      / ("colony_ctl_token_" + std::to_string(::getpid())))
                       .string();

  explicit token_file(const std::string& token) {
    { std::ofstream{path} << token << "\n"; }
    ::chmod(path.c_str(), 0600);
  }

  ~token_file() {
    std::remove(path.c_str());
  }
};

} // namespace

TEST(ControlPort, StartControlPublishesBehindTheGuardAndStops) {
  system_options opts;
  opts.scheduler_threads = 2;
  system_config cfg{opts};
  caf::actor_system sys{cfg};
  token_file file{good_token};
  control_config ccfg;
  ccfg.enabled = true;
  ccfg.token_file = file.path;
  control::control_deps deps;
  deps.manager = sys.spawn(fake_manager, std::make_shared<manager_log>(), false);
  auto port = control::start_control(sys, ccfg, deps, net_guard::guard_config{});
  ASSERT_TRUE(port) << describe(port.error());
  ASSERT_NE(port->port(), 0);
  auto ctl = net::connect_blocking<control_actor>(sys, endpoint{"127.0.0.1", port->port()}, 10s,
                                                  "control port");
  ASSERT_TRUE(ctl) << describe(ctl.error());
  caf::scoped_actor self{sys};
  std::optional<node_status> st;
  std::optional<caf::error> err;
  self->request(*ctl, 10s, ctl_status{good_token})
    .receive([&](node_status& s) { st = s; }, [&](caf::error& e) { err = e; });
  ASSERT_TRUE(st) << describe(*err);
  EXPECT_EQ(st->tree.size(), 2u);
  self->request(*ctl, 10s, ctl_status{"nope"})
    .receive([&](node_status&) { err.reset(); }, [&](caf::error& e) { err = e; });
  ASSERT_TRUE(err);
  EXPECT_EQ(code_of(*err), errc::unauthorized);
  control::stop_control(sys, *port);
  EXPECT_EQ(port->port(), 0);
  caf::anon_send_exit(deps.manager, caf::exit_reason::user_shutdown);
}

TEST(ControlPort, StartControlRefusesAnUnsafeTokenFile) {
  system_config cfg;
  caf::actor_system sys{cfg};
  token_file file{good_token};
  ::chmod(file.path.c_str(), 0644);
  control_config ccfg;
  ccfg.token_file = file.path;
  auto port = control::start_control(sys, ccfg, {}, net_guard::guard_config{});
  ASSERT_FALSE(port);
  EXPECT_NE(context_of(port.error()).find("chmod 600"), std::string::npos);
}
