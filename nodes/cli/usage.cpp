#include "nodes/cli/usage.hpp"

#include <string>
#include <vector>

namespace colony::cli {

namespace {

/// The deepest subcommand on the parsed path, starting at `app`.
CLI::App* deepest_parsed(CLI::App* app) {
  for (;;) {
    auto parsed = app->get_subcommands();
    if (parsed.empty())
      return app;
    app = parsed.back();
  }
}

/// "colony expert" for the subcommand `expert` of `colony`.
std::string command_path(const CLI::App* app) {
  std::string out = app->get_name();
  for (auto p = app->get_parent(); p != nullptr; p = p->get_parent())
    out = p->get_name() + " " + out;
  return out;
}

std::string subcommand_names(CLI::App* app) {
  std::string out;
  for (auto* sub : app->get_subcommands([](CLI::App*) { return true; }))
    out += (out.empty() ? "" : ", ") + sub->get_name();
  return out;
}

/// The first leftover word that is not an option, or "".
std::string first_word(const std::vector<std::string>& left) {
  for (auto& w : left)
    if (!w.empty() && w[0] != '-')
      return w;
  return {};
}

/// A clearer message when `at` needs a subcommand and got none; nullopt to
/// keep CLI11's own.
std::optional<std::string> subcommand_problem(CLI::App* at) {
  if (at->get_subcommands([](CLI::App*) { return true; }).empty())
    return std::nullopt;
  auto where = command_path(at);
  auto valid = subcommand_names(at);
  auto word = first_word(at->remaining());
  if (!word.empty())
    return where + ": unknown subcommand '" + word + "'; valid subcommands: " + valid;
  return where + ": a subcommand is required; valid subcommands: " + valid;
}

} // namespace

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::RequiredError& e) {
    if (auto msg = subcommand_problem(deepest_parsed(&app)))
      return app.exit(CLI::ParseError(*msg, CLI::ExitCodes::ExtrasError));
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    if (auto msg = subcommand_problem(deepest_parsed(&app)))
      return app.exit(CLI::ParseError(*msg, CLI::ExitCodes::ExtrasError));
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
}

} // namespace colony::cli
