// colony-pt: the torch half of the colony CLI, run by it only when a
// command reads or writes torch.save files (so that `colony` itself starts
// without loading LibTorch: ~0.03 s instead of ~1 s).
//   colony-pt read FILE.pt OUT_PREFIX none|float16|uint8
//       writes each tensor's wire bytes to OUT_PREFIX0, OUT_PREFIX1, ...
//       and prints their count
//   colony-pt write FILE.pt IN0 [IN1 ...]
//       writes the wire tensors IN0, IN1, ... as one torch.save file
// On failure: exit 2 and one stderr line "<errc number> <message>".
#include <fstream>
#include <iostream>
#include <iterator>

#include "messages/errc.hpp"
#include "nodes/cli/tensor_files.hpp"

namespace {

int fail(const caf::error& err) {
  std::cerr << static_cast<int>(colony::code_of(err)) << " " << colony::context_of(err) << "\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  using namespace colony;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "read") {
    auto mode = wire::compression::none;
    if (!wire::from_string(args[3], mode))
      return fail(make_error(errc::bad_request, "unknown compression '" + args[3] + "'"));
    auto ts = cli::read_tensor_file(args[1], mode);
    if (!ts)
      return fail(ts.error());
    for (size_t i = 0; i < ts->size(); ++i) {
      std::ofstream out{args[2] + std::to_string(i), std::ios::binary};
      out << (*ts)[i];
      if (!out)
        return fail(make_error(errc::io_failed, "cannot write '" + args[2] + "'"));
    }
    std::cout << ts->size() << "\n";
    return 0;
  }
  if (args.size() >= 3 && args[0] == "write") {
    std::vector<std::string> tensors;
    for (size_t i = 2; i < args.size(); ++i) {
      std::ifstream in{args[i], std::ios::binary};
      tensors.emplace_back(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
    if (auto err = cli::write_tensor_file(args[1], tensors))
      return fail(err);
    return 0;
  }
  std::cerr << "usage: colony-pt read FILE.pt OUT_PREFIX none|float16|uint8 | "
               "colony-pt write FILE.pt IN...\n";
  return 64;
}
