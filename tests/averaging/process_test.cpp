// Averaging between OS processes over 127.0.0.1 (avg_peer_main.cpp): three
// peers average to the hand-computed mean; one SIGKILLed right after it got
// its group leaves the other two with their mean; a joiner fetches the
// state a peer holds; a peer sending parts of the wrong size is refused
// while the others complete; peers whose tensors differ get clear errors.
// Ordering is by files the peers write (ready,
// group, result) and the test writes (go, stop); every wait is bounded.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "tests/averaging/peer_tensors.hpp"
#include "tests/dht/child_process.hpp"

using namespace colony::averaging;
using colony::dht::testing::child_process;
using namespace std::chrono_literals;
namespace avgt = colony::averaging::testing;

namespace {

/// name -> values, parsed from the tensor lines of a result file.
using tensor_lines = std::map<std::string, std::vector<double>>;

tensor_lines parse_tensors(std::istringstream& in) {
  tensor_lines out;
  std::string name;
  size_t n = 0;
  while (in >> name >> n) {
    auto& v = out[name];
    for (size_t i = 0; i < n && in; ++i) {
      double x = 0;
      in >> x;
      v.push_back(x);
    }
  }
  return out;
}

/// The weight-1 mean of the peers `indices` as the reducers compute it
/// (double sums, rounded to float).
tensor_lines mean_of(const std::vector<int>& indices, bool big = false) {
  tensor_lines out;
  auto first = avgt::peer_tensors(indices[0], big);
  for (size_t t = 0; t < first.size(); ++t) {
    auto& v = out[first[t].name];
    for (size_t k = 0; k < first[t].values.size(); ++k) {
      double sum = 0;
      for (auto i : indices)
        sum += avgt::peer_tensors(i, big)[t].values[k];
      v.push_back(static_cast<float>(sum / indices.size()));
    }
  }
  return out;
}

void expect_near(const tensor_lines& got, const tensor_lines& want, double tolerance = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (auto& [name, values] : want) {
    ASSERT_EQ(got.count(name), 1u) << name;
    ASSERT_EQ(got.at(name).size(), values.size()) << name;
    for (size_t k = 0; k < values.size(); ++k)
      EXPECT_NEAR(got.at(name)[k], values[k], tolerance) << name << "[" << k << "]";
  }
}

} // namespace

class AveragingProcessTest : public ::testing::Test {
protected:
  AveragingProcessTest() {
    char tmpl[] = "/tmp/colony-avg-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }

  ~AveragingProcessTest() override {
    touch("stop");
    for (auto& [name, p] : procs_)
      if (p->wait_exit(10s) == std::nullopt)
        p->kill(SIGKILL);
    procs_.clear();
    std::filesystem::remove_all(dir_);
  }

  void touch(const std::string& file) {
    std::ofstream{dir_ + "/" + file} << "1\n";
  }

  /// Starts peer `name` with tensors of `index`; waits for its ready file
  /// and returns its DHT endpoint.
  std::string start(const std::string& name, int index, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{AVG_PEER_BIN, dir_, name, std::to_string(index)};
    if (!bootstrap_.empty()) {
      argv.push_back("--bootstrap");
      argv.push_back(bootstrap_);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    procs_[name] = std::make_unique<child_process>(argv, dir_ + "/" + name + ".out",
                                                   dir_ + "/" + name + ".err");
    auto line = child_process::wait_file(dir_ + "/" + name + ".ready", 30s);
    EXPECT_TRUE(line) << name << " did not start: " << procs_[name]->err();
    auto dht_ep = line ? line->substr(0, line->find(' ')) : std::string{};
    if (bootstrap_.empty())
      bootstrap_ = dht_ep;
    return dht_ep;
  }

  /// The result file of `name` (header line, tensors), at most 60 s away.
  std::pair<std::string, tensor_lines> result(const std::string& name) {
    auto path = dir_ + "/" + name + ".result";
    auto header = child_process::wait_file(path, 60s);
    EXPECT_TRUE(header) << name << " wrote no result: " << procs_[name]->err();
    std::istringstream in{child_process::read(path)};
    std::string first;
    std::getline(in, first);
    return {first, parse_tensors(in)};
  }

  std::string dir_;
  std::string bootstrap_;
  std::map<std::string, std::unique_ptr<child_process>> procs_;
};

TEST_F(AveragingProcessTest, ThreeProcessesAverageToTheMean) {
  start("p0", 0);
  start("p1", 1);
  start("p2", 2);
  touch("go");
  auto want = mean_of({0, 1, 2});
  for (auto name : {"p0", "p1", "p2"}) {
    auto [header, tensors] = result(name);
    EXPECT_EQ(header.rfind("ok group=3 delivered=3", 0), 0u) << name << ": " << header;
    expect_near(tensors, want);
  }
}

TEST_F(AveragingProcessTest, ThreeProcessesAverageWithFloat16Parts) {
  std::vector<std::string> half{"--compression", "float16"};
  start("p0", 0, half);
  start("p1", 1, half);
  start("p2", 2, half);
  touch("go");
  auto want = mean_of({0, 1, 2});
  for (auto name : {"p0", "p1", "p2"}) {
    auto [header, tensors] = result(name);
    EXPECT_EQ(header.rfind("ok group=3 delivered=3", 0), 0u) << name << ": " << header;
    // two float16 roundings (part, mean) of values up to ~26: < 0.04
    expect_near(tensors, want, 0.04);
  }
}

TEST_F(AveragingProcessTest, TwoFinishWithTheirMeanWhenTheThirdIsKilledMidRound) {
  // Parts of 1 KiB: several parts per member, so several are orphaned.
  std::vector<std::string> big{"--big", "--part-bytes", "1024"};
  start("p0", 0, big);
  start("p1", 1, big);
  big.push_back("--die-after-group");
  start("victim", 2, big);
  touch("go");
  // The victim stops right after it got its group, before sending a part.
  ASSERT_TRUE(child_process::wait_file(dir_ + "/victim.group", 60s))
    << procs_["victim"]->err();
  procs_["victim"]->kill(SIGKILL);
  auto want = mean_of({0, 1}, true);
  for (auto name : {"p0", "p1"}) {
    auto [header, tensors] = result(name);
    EXPECT_EQ(header.rfind("ok group=3 delivered=2", 0), 0u) << name << ": " << header;
    // the victim's parts were orphaned and reduced again by a survivor
    EXPECT_NE(header.find(" attempts=2"), std::string::npos) << name << ": " << header;
    expect_near(tensors, want);
  }
}

TEST_F(AveragingProcessTest, JoinerFetchesTheStateAPeerHolds) {
  // 6 KiB of state in 1 KiB chunks.
  start("holder", 4, {"--set-state", "7", "--idle", "--big", "--part-bytes", "1024"});
  start("joiner", 1, {"--fetch-state", "--part-bytes", "1024"});
  touch("go");
  auto [header, tensors] = result("joiner");
  EXPECT_EQ(header.rfind("state version=7 from=127.0.0.1:", 0), 0u) << header;
  tensor_lines want;
  for (auto& t : avgt::peer_tensors(4, true))
    want[t.name] = std::vector<double>(t.values.begin(), t.values.end());
  expect_near(tensors, want);
}

TEST_F(AveragingProcessTest, HostilePartIsRefusedAndTheRoundCompletes) {
  start("p0", 0);
  start("p1", 1);
  start("hostile", 2, {"--hostile"});
  touch("go");
  auto want = mean_of({0, 1});
  for (auto name : {"p0", "p1"}) {
    auto [header, tensors] = result(name);
    EXPECT_EQ(header.rfind("ok group=3 delivered=2", 0), 0u) << name << ": " << header;
    expect_near(tensors, want);
  }
  auto [header, tensors] = result("hostile");
  EXPECT_EQ(header.rfind("error bad_shape: 3 of 3 parts unreduced", 0), 0u) << header;
  EXPECT_NE(header.find("refused: want "), std::string::npos) << header;
}

TEST_F(AveragingProcessTest, MismatchedTensorsAreAClearErrorNotACrash) {
  start("p0", 0);
  start("odd", 1, {"--mismatch"});
  touch("go");
  // Whoever leads refuses the other's join (bad_shape) and then has too
  // few members (timeout); both processes answer and live on.
  std::set<std::string> outcomes;
  for (auto name : {"p0", "odd"}) {
    auto [header, tensors] = result(name);
    outcomes.insert(header.substr(0, header.find(':')));
    EXPECT_TRUE(tensors.empty()) << header;
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"error bad_shape", "error timeout"}));
  touch("stop");
  for (auto name : {"p0", "odd"})
    EXPECT_EQ(procs_[name]->wait_exit(20s), 0) << name;
}
