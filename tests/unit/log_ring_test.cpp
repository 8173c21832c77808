#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "messages/errc.hpp"
#include "runtime/log_format.hpp"
#include "runtime/log_ring.hpp"
#include "runtime/logging.hpp"

using namespace colony;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// A logger writing bare messages ("%v") into a ring of `capacity` lines.
struct ring_logger {
  std::shared_ptr<log::log_ring> ring;
  spdlog::logger logger;

  explicit ring_logger(uint32_t capacity)
    : ring(std::make_shared<log::log_ring>(capacity)), logger("t", ring) {
    ring->set_pattern("%v");
  }

  void write(int from, int to) {
    for (int i = from; i <= to; ++i)
      logger.info("line={}", i);
  }
};

std::string line(int i) {
  return "line=" + std::to_string(i);
}

/// Sends stderr to /dev/null while alive (the tests' loggers also write there).
struct quiet_stderr {
  int saved = dup(2);
  quiet_stderr() {
    std::fflush(stderr);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(null);
  }
  ~quiet_stderr() {
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
  }
};

/// A fresh directory under the temp dir, removed afterwards.
struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("colony-log-test-" + std::to_string(getpid()));
  temp_dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    log::setup("off");
    fs::remove_all(path);
  }
};

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in{file};
  std::vector<std::string> result;
  for (std::string l; std::getline(in, l);)
    result.push_back(l);
  return result;
}

} // namespace

TEST(LogRingTest, KeepsExactlyTheLastNLinesWithContiguousSequenceNumbers) {
  ring_logger r{10};
  r.write(1, 25);
  EXPECT_EQ(r.ring->last_seq(), 25u);
  auto got = r.ring->read(0, 1000);
  ASSERT_EQ(got.lines.size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(got.lines[i], line(16 + i));
  EXPECT_EQ(got.next, 25u);
  EXPECT_EQ(got.missed, 15u);
}

TEST(LogRingTest, ReadAfterReturnsOnlyNewerLines) {
  ring_logger r{10};
  r.write(1, 25);
  auto got = r.ring->read(20, 1000);
  ASSERT_EQ(got.lines.size(), 5u);
  EXPECT_EQ(got.lines.front(), line(21));
  EXPECT_EQ(got.lines.back(), line(25));
  EXPECT_EQ(got.next, 25u);
  EXPECT_EQ(got.missed, 0u);
  got = r.ring->read(25, 1000);
  EXPECT_TRUE(got.lines.empty());
  EXPECT_EQ(got.next, 25u);
  EXPECT_EQ(got.missed, 0u);
  r.write(26, 27);
  got = r.ring->read(25, 1000);
  ASSERT_EQ(got.lines.size(), 2u);
  EXPECT_EQ(got.lines[1], line(27));
  EXPECT_EQ(got.next, 27u);
}

TEST(LogRingTest, MissedCountsLinesOverwrittenBeforeTheRead) {
  ring_logger r{10};
  r.write(1, 5);
  auto first = r.ring->read(0, 1000);
  EXPECT_EQ(first.next, 5u);
  EXPECT_EQ(first.missed, 0u);
  r.write(6, 30); // 6..20 leave the ring unread
  auto got = r.ring->read(first.next, 1000);
  EXPECT_EQ(got.missed, 15u);
  ASSERT_EQ(got.lines.size(), 10u);
  EXPECT_EQ(got.lines.front(), line(21));
  EXPECT_EQ(got.next, 30u);
}

TEST(LogRingTest, MaxLinesIsHonouredAndCappedAtOneThousand) {
  ring_logger r{3000};
  r.write(1, 2500);
  auto got = r.ring->read(15, 3);
  ASSERT_EQ(got.lines.size(), 3u);
  EXPECT_EQ(got.lines[0], line(16));
  EXPECT_EQ(got.lines[2], line(18));
  EXPECT_EQ(got.next, 18u);
  EXPECT_EQ(r.ring->read(15, 0).lines.size(), 0u);
  EXPECT_EQ(r.ring->read(15, 0).next, 15u);
  got = r.ring->read(0, 5000);
  ASSERT_EQ(got.lines.size(), 1000u);
  EXPECT_EQ(got.lines.back(), line(1000));
  EXPECT_EQ(got.next, 1000u);
  got = r.ring->read(got.next, 5000);
  EXPECT_EQ(got.lines.front(), line(1001));
  EXPECT_EQ(got.next, 2000u);
}

TEST(LogRingTest, AnAfterBeyondTheNewestLineReadsFromTheStart) {
  ring_logger r{10};
  r.write(1, 4);
  auto got = r.ring->read(99, 1000);
  ASSERT_EQ(got.lines.size(), 4u);
  EXPECT_EQ(got.lines.front(), line(1));
  EXPECT_EQ(got.next, 4u);
  EXPECT_EQ(got.missed, 0u);
}

TEST(LogRingTest, ResizingKeepsOrderAndInventsNoLines) {
  ring_logger r{4};
  r.write(1, 10);
  r.ring->set_capacity(100); // 7..10 kept; 1..6 are gone for good
  auto got = r.ring->read(0, 1000);
  ASSERT_EQ(got.lines.size(), 4u);
  EXPECT_EQ(got.lines.front(), line(7));
  EXPECT_EQ(got.missed, 6u);
  r.write(11, 12);
  r.ring->set_capacity(3);
  got = r.ring->read(0, 1000);
  ASSERT_EQ(got.lines.size(), 3u);
  EXPECT_EQ(got.lines.front(), line(10));
  EXPECT_EQ(got.lines.back(), line(12));
  EXPECT_EQ(got.next, 12u);
}

TEST(LogRingTest, AHugeMessageIsStoredCutToFourKibibytes) {
  ring_logger r{2};
  r.logger.info("{}", std::string(1 << 20, 'x'));
  auto got = r.ring->read(0, 10);
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_EQ(got.lines[0].size(), log::log_ring::max_line_bytes);
  EXPECT_EQ(got.lines[0], std::string(log::log_ring::max_line_bytes, 'x'));
}

TEST(LogRingTest, ACutJsonLineStaysValidJson) {
  auto ring = std::make_shared<log::log_ring>(2);
  spdlog::logger logger{"dht", ring};
  ring->set_formatter(log::make_formatter("json"));
  logger.warn("event=x peer=\"{}\"", std::string(1 << 20, '\x01'));
  auto got = ring->read(0, 10);
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_LE(got.lines[0].size(), log::log_ring::max_line_bytes);
  EXPECT_GT(got.lines[0].size(), log::log_ring::max_line_bytes / 2);
  auto j = json::parse(got.lines[0]);
  EXPECT_EQ(j["component"], "dht");
}

TEST(LogSetupTest, JsonFormatWritesOneParsableObjectPerLineToFileAndRing) {
  temp_dir dir;
  log_config cfg;
  cfg.file = (dir.path / "node.log").string();
  cfg.format = "json";
  cfg.ring_lines = 100;
  {
    quiet_stderr quiet;
    ASSERT_FALSE(log::setup(cfg));
    auto lg = log::get("supervisor");
    lg->info("event=child_restarted child=ffn.0.3 reason=\"boom \\\"x\\\"\" restarts=2");
    lg->warn("free text with a \" quote and \\ backslash");
    lg->error("bytes=\x01\x02\xff\xfe end\\");
    lg->flush();
  }
  auto file = lines_of(cfg.file);
  ASSERT_EQ(file.size(), 3u);
  for (const auto& l : file)
    EXPECT_NO_THROW(json::parse(l)) << l;
  auto first = json::parse(file[0]);
  EXPECT_EQ(first["component"], "supervisor");
  EXPECT_EQ(first["reason"], "boom \"x\"");
  EXPECT_EQ(first["restarts"], 2);
  EXPECT_EQ(json::parse(file[1])["level"], "warning");
  auto ring = log::ring()->read(log::ring()->last_seq() - 3, 10);
  ASSERT_EQ(ring.lines.size(), 3u);
  EXPECT_EQ(ring.lines, file);
}

TEST(LogSetupTest, TheFileRotatesWithinItsBounds) {
  temp_dir dir;
  log_config cfg;
  cfg.file = (dir.path / "node.log").string();
  cfg.max_file_bytes = 4096;
  cfg.max_files = 3;
  size_t written = 0;
  {
    quiet_stderr quiet;
    ASSERT_FALSE(log::setup(cfg));
    auto lg = log::get("node");
    for (int i = 0; written < 100 * 1024; ++i) {
      auto msg = "event=filler i=" + std::to_string(i) + " pad=" + std::string(60, 'p');
      lg->info("{}", msg);
      written += msg.size();
    }
    lg->flush();
  }
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    ++files;
    EXPECT_LE(fs::file_size(e.path()), 4096u) << e.path();
    EXPECT_GT(fs::file_size(e.path()), 0u) << e.path();
  }
  EXPECT_EQ(files, 4u); // node.log, node.1.log ... node.3.log
  EXPECT_TRUE(fs::exists(dir.path / "node.3.log"));
}

TEST(LogSetupTest, BadLevelOrFormatOrFileIsAnError) {
  log_config cfg;
  cfg.level = "loud";
  auto err = log::setup(cfg);
  EXPECT_EQ(code_of(err), errc::bad_config);
  EXPECT_NE(context_of(err).find("log.level"), std::string::npos) << context_of(err);
  cfg.level = "info";
  cfg.format = "xml";
  err = log::setup(cfg);
  EXPECT_EQ(code_of(err), errc::bad_config);
  EXPECT_NE(context_of(err).find("log.format"), std::string::npos) << context_of(err);
  cfg.format = "text";
  temp_dir dir;
  std::ofstream{dir.path / "plain"} << "a file, not a directory";
  cfg.file = (dir.path / "plain" / "y.log").string();
  err = log::setup(cfg);
  EXPECT_EQ(code_of(err), errc::io_failed);
  EXPECT_NE(context_of(err).find("log.file"), std::string::npos) << context_of(err);
  EXPECT_FALSE(log::setup("verbose"));
  EXPECT_TRUE(log::setup("off"));
}
