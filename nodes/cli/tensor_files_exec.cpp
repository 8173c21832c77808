// read_tensor_file / write_tensor_file for the colony CLI without LibTorch:
// they run colony-pt (next to this executable; nodes/cli/pt_main.cpp) in a
// temporary directory and pass the wire bytes through files there.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "messages/errc.hpp"
#include "nodes/cli/tensor_files.hpp"

extern char** environ;

namespace colony::cli {

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// A private temporary directory, removed with everything in it.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    std::random_device rd;
    path = fs::temp_directory_path()
           / ("colony-pt-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// colony-pt next to the running executable.
fs::path helper_path() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  return (ec ? fs::path{"."} : self.parent_path()) / "colony-pt";
}

/// Runs colony-pt with `args`; its stderr's "<errc> <message>" as the error.
caf::error run_helper(std::vector<std::string> args, const scratch_dir& dir,
                      std::string* out = nullptr) {
  auto helper = helper_path();
  if (!fs::exists(helper))
    return make_error(errc::io_failed, "cannot read or write .pt files: " + helper.string()
                                         + " (built with colony) is missing");
  args.insert(args.begin(), helper.string());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto out_path = (dir.path / "stdout").string();
  auto err_path = (dir.path / "stderr").string();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return make_error(errc::io_failed, "cannot run " + helper.string());
  int status = 0;
  waitpid(pid, &status, 0);
  if (out != nullptr)
    *out = slurp(out_path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return caf::none;
  auto err = slurp(err_path);
  while (!err.empty() && err.back() == '\n')
    err.pop_back();
  auto space = err.find(' ');
  int code = space == std::string::npos ? 0 : std::atoi(err.substr(0, space).c_str());
  if (code <= 0 || code > 255)
    return make_error(errc::io_failed, helper.string() + " failed: " + err);
  return make_error(static_cast<errc>(code), err.substr(space + 1));
}

const char* compression_name(wire::compression mode) {
  switch (mode) {
    case wire::compression::float16: return "float16";
    case wire::compression::uint8: return "uint8";
    default: return "none";
  }
}

} // namespace

caf::expected<std::vector<std::string>> read_tensor_file(const std::string& path,
                                                         wire::compression mode) {
  scratch_dir dir;
  auto prefix = (dir.path / "t").string();
  std::string count_text;
  if (auto err = run_helper({"read", fs::absolute(path).string(), prefix, compression_name(mode)},
                            dir, &count_text))
    return err;
  auto n = std::atoi(count_text.c_str());
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(slurp(prefix + std::to_string(i)));
  return out;
}

caf::error write_tensor_file(const std::string& path, const std::vector<std::string>& tensors) {
  scratch_dir dir;
  std::vector<std::string> args{"write", fs::absolute(path).string()};
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto p = (dir.path / ("in" + std::to_string(i))).string();
    std::ofstream f{p, std::ios::binary};
    f << tensors[i];
    if (!f)
      return make_error(errc::io_failed, "cannot write a temporary file in "
                                           + dir.path.string());
    args.push_back(p);
  }
  return run_helper(std::move(args), dir);
}

} // namespace colony::cli
