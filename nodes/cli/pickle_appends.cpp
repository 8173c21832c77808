#include "nodes/cli/pickle_appends.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace colony::cli {

namespace {

/// How an opcode changes the stack (pops are checked; a mark is one entry).
enum class effect {
  none,      ///< PROTO, PUT, BINPUT, MEMOIZE
  push,      ///< pushes one value
  pop,       ///< pops one value (BUILD, POP)
  pop2,      ///< pops two (SETITEM)
  mark,      ///< pushes a mark
  to_mark,   ///< pops to the mark (APPENDS, SETITEMS, ADDITEMS, POP_MARK)
  collect,   ///< pops to the mark and pushes one value (TUPLE, LIST, DICT, ...)
  replace1,  ///< pops 1, pushes 1 (TUPLE1, BINPERSID)
  replace2,  ///< pops 2, pushes 1 (TUPLE2, REDUCE, NEWOBJ, STACK_GLOBAL)
  replace3,  ///< pops 3, pushes 1 (TUPLE3, NEWOBJ_EX)
  dup,       ///< DUP
  append,    ///< APPEND: the one being rewritten
  frame,     ///< FRAME: dropped
  stop,      ///< STOP
};

/// The argument that follows an opcode.
enum class arg {
  none,
  fixed,  ///< `n` bytes
  len1,   ///< a 1-byte length, then that many bytes
  len4,   ///< a 4-byte little-endian length, then that many bytes
  len8,   ///< an 8-byte little-endian length, then that many bytes
  line,   ///< one newline-terminated line
  lines2, ///< two newline-terminated lines
};

struct opcode {
  effect eff = effect::stop;
  arg kind = arg::none;
  size_t n = 0;
  bool known = false;
};

opcode describe_op(uint8_t op) {
  auto k = [](effect e, arg a = arg::none, size_t n = 0) { return opcode{e, a, n, true}; };
  switch (op) {
    case '(': return k(effect::mark);
    case '.': return k(effect::stop);
    case '0': return k(effect::pop);
    case '1': return k(effect::to_mark);
    case '2': return k(effect::dup);
    case 'N': case 0x88: case 0x89: return k(effect::push);
    case 'I': case 'L': case 'F': case 'S': case 'V': case 'P': case 'g':
      return k(effect::push, arg::line);
    case 'p': return k(effect::none, arg::line);
    case 'J': return k(effect::push, arg::fixed, 4);
    case 'K': return k(effect::push, arg::fixed, 1);
    case 'M': return k(effect::push, arg::fixed, 2);
    case 'G': return k(effect::push, arg::fixed, 8);
    case 0x8a: case 'U': case 'C': case 0x8c: return k(effect::push, arg::len1);
    case 0x8b: case 'T': case 'B': case 'X': return k(effect::push, arg::len4);
    case 0x8d: case 0x8e: case 0x96: return k(effect::push, arg::len8);
    case 0x82: return k(effect::push, arg::fixed, 1);
    case 0x83: return k(effect::push, arg::fixed, 2);
    case 0x84: return k(effect::push, arg::fixed, 4);
    case ']': case ')': case '}': case 0x8f: return k(effect::push);
    case 'l': case 't': case 'd': case 0x91: case 'o': return k(effect::collect);
    case 'i': return k(effect::collect, arg::lines2);
    case 0x85: case 'Q': return k(effect::replace1);
    case 0x86: case 'R': case 0x81: case 0x93: return k(effect::replace2);
    case 0x87: case 0x92: return k(effect::replace3);
    case 'a': return k(effect::append);
    case 'e': case 'u': case 0x90: return k(effect::to_mark);
    case 's': return k(effect::pop2);
    case 'b': return k(effect::pop);
    case 'c': return k(effect::push, arg::lines2);
    case 'q': return k(effect::none, arg::fixed, 1);
    case 'r': return k(effect::none, arg::fixed, 4);
    case 0x94: return k(effect::none);
    case 'h': return k(effect::push, arg::fixed, 1);
    case 'j': return k(effect::push, arg::fixed, 4);
    case 0x80: return k(effect::none, arg::fixed, 1);
    case 0x95: return k(effect::frame, arg::fixed, 8);
    default: return opcode{};
  }
}

/// Little-endian unsigned of `n` bytes at `p` (bounds checked by the caller).
uint64_t le(const std::string& s, size_t p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[p + i])) << (8 * i);
  return v;
}

/// The end of the argument of the opcode at `pos` (its first byte after),
/// or nothing when the program is truncated.
std::optional<size_t> arg_end(const std::string& s, size_t pos, const opcode& op) {
  size_t p = pos + 1;
  auto fixed = [&](uint64_t n) -> std::optional<size_t> {
    if (n > s.size() - p)
      return std::nullopt;
    return p + static_cast<size_t>(n);
  };
  auto line = [&](size_t from) -> std::optional<size_t> {
    auto nl = s.find('\n', from);
    if (nl == std::string::npos)
      return std::nullopt;
    return nl + 1;
  };
  switch (op.kind) {
    case arg::none: return p;
    case arg::fixed: return fixed(op.n);
    case arg::len1:
    case arg::len4:
    case arg::len8: {
      size_t width = op.kind == arg::len1 ? 1 : op.kind == arg::len4 ? 4 : 8;
      if (width > s.size() - p)
        return std::nullopt;
      auto n = le(s, p, width);
      p += width;
      return fixed(n);
    }
    case arg::line: return line(p);
    case arg::lines2: {
      auto first = line(p);
      return first ? line(*first) : std::nullopt;
    }
  }
  return std::nullopt;
}

/// One value (or mark) on the simulated stack: where its opcodes began.
struct entry {
  size_t start;
  bool mark;
};

/// Pops down to (and including) the topmost mark; its start, or nothing.
std::optional<size_t> pop_to_mark(std::vector<entry>& stack) {
  while (!stack.empty()) {
    auto e = stack.back();
    stack.pop_back();
    if (e.mark)
      return e.start;
  }
  return std::nullopt;
}

/// Pops `n` values (no marks); the start of the lowest, or nothing.
std::optional<size_t> pop_values(std::vector<entry>& stack, size_t n) {
  if (stack.size() < n)
    return std::nullopt;
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    if (stack.back().mark)
      return std::nullopt;
    start = stack.back().start;
    stack.pop_back();
  }
  return start;
}

} // namespace

std::optional<std::string> rewrite_single_appends(const std::string& pickle) {
  std::vector<entry> stack;
  std::vector<size_t> marks_at;  ///< offsets where a MARK goes in
  std::vector<size_t> appends;   ///< offsets of APPEND opcodes
  std::vector<size_t> frames;    ///< offsets of FRAME opcodes (9 bytes each)
  size_t pos = 0;
  bool stopped = false;
  while (pos < pickle.size() && !stopped) {
    auto op = describe_op(static_cast<uint8_t>(pickle[pos]));
    if (!op.known)
      return std::nullopt;
    auto end = arg_end(pickle, pos, op);
    if (!end)
      return std::nullopt;
    std::optional<size_t> start = pos;
    switch (op.eff) {
      case effect::none: break;
      case effect::push: stack.push_back({pos, false}); break;
      case effect::pop: start = pop_values(stack, 1); break;
      case effect::pop2: start = pop_values(stack, 2); break;
      case effect::mark: stack.push_back({pos, true}); break;
      case effect::to_mark: start = pop_to_mark(stack); break;
      case effect::collect:
        start = pop_to_mark(stack);
        if (start)
          stack.push_back({*start, false});
        break;
      case effect::replace1:
      case effect::replace2:
      case effect::replace3: {
        size_t n = op.eff == effect::replace1 ? 1 : op.eff == effect::replace2 ? 2 : 3;
        start = pop_values(stack, n);
        if (start)
          stack.push_back({*start, false});
        break;
      }
      case effect::dup:
        if (stack.empty() || stack.back().mark)
          return std::nullopt;
        stack.push_back({pos, false});
        break;
      case effect::append:
        start = pop_values(stack, 1);
        if (start && (stack.empty() || stack.back().mark))
          return std::nullopt; // nothing to append to
        if (start) {
          marks_at.push_back(*start);
          appends.push_back(pos);
        }
        break;
      case effect::frame: frames.push_back(pos); break;
      case effect::stop: stopped = true; break;
    }
    if (!start)
      return std::nullopt; // popped more than the program pushed
    pos = *end;
  }
  if (!stopped || (appends.empty() && frames.empty()))
    return std::nullopt;
  // Rebuild: MARKs go in before the recorded starts (several may share
  // one), APPEND becomes APPENDS, FRAMEs are left out.
  std::sort(marks_at.begin(), marks_at.end());
  std::string out;
  out.reserve(pickle.size() + marks_at.size());
  size_t m = 0, a = 0, f = 0;
  for (size_t i = 0; i < pickle.size(); ++i) {
    while (m < marks_at.size() && marks_at[m] == i) {
      out.push_back('(');
      ++m;
    }
    if (f < frames.size() && frames[f] == i) {
      i += 8; // the opcode and its 8-byte length
      ++f;
      continue;
    }
    if (a < appends.size() && appends[a] == i) {
      out.push_back('e');
      ++a;
      continue;
    }
    out.push_back(pickle[i]);
  }
  return out;
}

} // namespace colony::cli
