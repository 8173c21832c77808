// colony-node's supervision tree in the test process (nodes/node/
// node_tree.hpp): a crashed expert server is re-published behind the same
// guarded port and clients reconnect to it; the tree reports every child.
#include <gtest/gtest.h>

#include "nodes/node/node_tree.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "tests/integration/integration_support.hpp"
#include "tests/integration/log_capture.hpp"

using namespace colony;
using namespace colony::it;

TEST(NodeTreeTest, ACrashedServerIsRepublishedOnTheSamePortAndClientsReconnect) {
  scoped_capture capture{{"supervisor"}};
  system_config sys_cfg{test_system_options()};
  caf::actor_system sys{sys_cfg};
  auto cfg = parse_or_throw(ffn_node_yaml());
  auto tree = node::start_node_tree(sys, cfg);
  ASSERT_TRUE(tree) << describe(tree.error());
  auto& t = **tree;
  auto where = t.where;
  auto x = seeded_randn({2, 8}, 1);
  {
    client c;
    ASSERT_TRUE(c.expert(where, "ffn.0.1").forward(blobs({x})));
  }
  expert_server_actor old;
  {
    std::lock_guard<std::mutex> guard{t.mx};
    old = t.published;
  }
  crash_actor(old, make_error(errc::compute_failed, "test server crash"));
  ASSERT_TRUE(eventually([&] { return capture->count("event=child_restarted", "child=server "); }));
  {
    std::lock_guard<std::mutex> guard{t.mx};
    EXPECT_NE(t.published, old);
    EXPECT_EQ(t.data_port->port(), where.port);
  }
  // A new client reaches the new server on the same endpoint.
  client c;
  auto y = c.expert(where, "ffn.0.1").forward(blobs({x}));
  ASSERT_TRUE(y) << describe(y.error());
  // The tree lists the root, its children and every expert, all running.
  caf::scoped_actor self{sys};
  std::vector<tree_entry> entries;
  self->request(t.root, std::chrono::seconds{10}, supervision::which_atom::value)
    .receive([&](std::vector<tree_entry>& es) { entries = std::move(es); },
             [&](caf::error& err) { FAIL() << describe(err); });
  std::set<std::string> paths;
  for (auto& e : entries) {
    paths.insert(e.path);
    EXPECT_EQ(e.state, "running") << e.path;
  }
  for (auto p : {"node", "node/server", "node/experts", "node/experts/ffn.0",
                 "node/experts/ffn.0/ffn.0.3"})
    EXPECT_EQ(paths.count(p), 1u) << p;
  for (auto& e : entries)
    if (e.path == "node/server")
      EXPECT_EQ(e.restarts, 1u);
  node::stop_node_tree(t);
}
