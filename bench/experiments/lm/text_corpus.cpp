// Tokenization, vocabulary and split of experiment 3's corpus (rules in
// text_corpus.hpp).
#include "bench/experiments/lm/text_corpus.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "messages/errc.hpp"

namespace colony::lm {

namespace {

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char lower(unsigned char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/// Length of the UTF-8 sequence starting with `c` (1 for an invalid byte).
size_t utf8_length(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8)
    return 4;
  if (c >= 0xE0)
    return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0)
    return 2;
  return 1;
}

/// The ASCII stand-in of a non-ASCII code point, or 0 when it has none.
char ascii_of(const std::string& cp) {
  if (cp == "\xE2\x80\x98" || cp == "\xE2\x80\x99")
    return '\'';
  if (cp == "\xE2\x80\x9C" || cp == "\xE2\x80\x9D")
    return '"';
  if (cp.size() == 3 && cp[0] == '\xE2' && cp[1] == '\x80'
      && static_cast<unsigned char>(cp[2]) >= 0x90 && static_cast<unsigned char>(cp[2]) <= 0x95)
    return '-';
  return 0;
}

/// The text with the mapped code points replaced by their ASCII stand-in.
std::string normalized(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto n = std::min(utf8_length(static_cast<unsigned char>(text[i])), text.size() - i);
    auto cp = text.substr(i, n);
    char a = n > 1 ? ascii_of(cp) : 0;
    out += a ? std::string(1, a) : cp;
    i += n;
  }
  return out;
}

caf::expected<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return make_error(errc::io_failed, "cannot read " + p.string());
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

} // namespace

std::vector<std::string> tokenize(const std::string& raw) {
  auto text = normalized(raw);
  std::vector<std::string> out;
  bool line_has_tokens = false;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
      line_has_tokens = true;
    }
  };
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (is_alnum(c)) {
      word += lower(c);
      ++i;
    } else if (c == '\'' && !word.empty() && i + 1 < text.size()
               && is_alnum(static_cast<unsigned char>(text[i + 1]))) {
      word += '\'';
      ++i;
    } else {
      flush();
      auto n = std::min(utf8_length(c), text.size() - i);
      if (c == '\n') {
        if (line_has_tokens)
          out.emplace_back(eos_token);
        line_has_tokens = false;
      } else if (c > ' ' && c != 0x7F) {
        out.push_back(text.substr(i, n));
        line_has_tokens = true;
      }
      i += n;
    }
  }
  flush();
  if (line_has_tokens)
    out.emplace_back(eos_token);
  return out;
}

vocabulary vocabulary::build(const std::map<std::string, uint64_t>& counts, size_t size) {
  size = std::max<size_t>(size, 2);
  std::vector<std::pair<std::string, uint64_t>> order;
  for (auto& [tok, n] : counts)
    if (tok != unk_token && tok != eos_token)
      order.emplace_back(tok, n);
  // std::map iterates in byte order, so a stable sort by count keeps ties so.
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  vocabulary v;
  v.tokens_ = {unk_token, eos_token};
  for (size_t i = 0; i < order.size() && v.tokens_.size() < size; ++i)
    v.tokens_.push_back(order[i].first);
  for (size_t i = 0; i < v.tokens_.size(); ++i)
    v.ids_[v.tokens_[i]] = static_cast<int32_t>(i);
  return v;
}

int32_t vocabulary::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? unk_id : it->second;
}

caf::expected<corpus> load_corpus(const std::string& dir, const corpus_options& opts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(errc::io_failed, "corpus directory '" + dir + "' does not exist");
  if (opts.val_every == 0 || opts.val_offset >= opts.val_every)
    return make_error(errc::bad_config, "val_offset " + std::to_string(opts.val_offset)
                                          + " must be below val_every "
                                          + std::to_string(opts.val_every));
  std::vector<fs::path> files;
  for (fs::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".txt" && it->is_regular_file())
      files.push_back(it->path());
  if (ec)
    return make_error(errc::io_failed, "cannot list '" + dir + "': " + ec.message());
  if (files.empty())
    return make_error(errc::bad_config, "corpus directory '" + dir + "' has no .txt file");
  std::sort(files.begin(), files.end());
  corpus c;
  std::vector<std::vector<std::string>> train_tokens, valid_tokens;
  std::map<std::string, uint64_t> counts;
  for (size_t i = 0; i < files.size(); ++i) {
    auto text = read_file(files[i]);
    if (!text)
      return text.error();
    auto toks = tokenize(*text);
    bool valid = i % opts.val_every == opts.val_offset;
    (valid ? c.valid_files : c.train_files).push_back(files[i].filename().string());
    if (!valid)
      for (auto& t : toks)
        ++counts[t];
    (valid ? valid_tokens : train_tokens).push_back(std::move(toks));
  }
  if (c.train_files.empty() || c.valid_files.empty())
    return make_error(errc::bad_config, std::to_string(files.size()) + " files in '" + dir
                                          + "' leave no " + (c.train_files.empty() ? "training"
                                                                                   : "validation")
                                          + " file");
  c.vocab = vocabulary::build(counts, opts.vocab_size);
  auto encode = [&](const std::vector<std::vector<std::string>>& in, std::vector<int32_t>& ids,
                    uint64_t& unk) {
    for (auto& file : in)
      for (auto& t : file) {
        ids.push_back(c.vocab.id(t));
        unk += ids.back() == unk_id;
      }
  };
  encode(train_tokens, c.train, c.train_unk);
  encode(valid_tokens, c.valid, c.valid_unk);
  return c;
}

} // namespace colony::lm
