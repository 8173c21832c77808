// Log line formats: the human text pattern and JSON lines. kv_to_json is the
// pure conversion of one key=value message (as runtime/supervision/report.hpp
// writes them) into one JSON object; json_formatter plugs it into spdlog.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

namespace colony::log {

/// The spdlog pattern of text lines: "2026-12-02T01:02:03.456 info dht event=...".
inline constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n %v";

/// One JSON object (no newline) with "ts", "level" and "component" first,
/// then the message's fields: `k=v k2="quoted \"v\""` gives "k":"v",
/// "k2":"quoted \"v\"". Bare values that are JSON integers or decimals
/// become numbers. A message that is not entirely key=value pairs (free
/// text, a stray token, an unterminated quote) goes whole under "msg".
/// Keys that repeat or clash with ts/level/component/msg get a "_2", "_3"
/// ... suffix. Always valid JSON: control bytes are escaped and invalid
/// UTF-8 becomes U+FFFD.
std::string kv_to_json(std::string_view ts, std::string_view level,
                       std::string_view component, std::string_view message);

/// `s` as a JSON string literal, quotes included (escapes as above).
std::string json_string(std::string_view s);

/// spdlog formatter writing kv_to_json lines with a UTC timestamp
/// ("2026-12-02T01:02:03.456Z") and the logger name as component.
class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

/// A formatter for `format` ("text" or "json"); null for another name.
std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format);

} // namespace colony::log
