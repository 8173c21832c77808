// Pure batching logic of an expert (no actors, no torch).
//
// batch_queue: the FIFO of one expert's forward or backward requests. A batch
// takes rows from the head up to max_rows; a request larger than what is left
// is split across batches (never refused). Only requests with the same shape
// key (the non-batch dims) are concatenated into one batch.
//
// dispatch_queue: the node-wide choice of which expert queue to serve next:
// the one whose oldest request has waited longest.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace colony::expert {

using clock = std::chrono::steady_clock;

/// Rows [begin, end) of request `id` that go into a batch.
struct slice {
  uint64_t id = 0;
  int64_t begin = 0;
  int64_t end = 0;
  /// True when this slice completes its request.
  bool last = false;

  int64_t rows() const { return end - begin; }
};

/// FIFO of pending requests of one kind (forward or backward) of one expert.
/// Invariant: every queued request has rows not yet handed out.
class batch_queue {
public:
  /// Appends a request of `rows` rows (0 allowed) whose non-batch dims hash
  /// to `shape_key`; nobody wants its rows after `deadline`.
  void push(uint64_t id, int64_t rows, uint64_t shape_key, clock::time_point arrived,
            clock::time_point deadline = clock::time_point::max());

  /// A request removed by drop_expired: its id, the rows not computed and
  /// when it arrived.
  struct expired {
    uint64_t id;
    int64_t rows_left;
    clock::time_point arrived;
  };

  /// Removes every request whose deadline is before `now`, also one that
  /// is partly computed, so that no batch carries rows nobody waits for.
  std::vector<expired> drop_expired(clock::time_point now);

  /// Takes the next batch: rows from the head request onward while they
  /// share the head's shape key, at most `max_rows` rows (>= 1) in total.
  std::vector<slice> next_batch(int64_t max_rows);

  /// Arrival time of the oldest request still waiting, if any.
  std::optional<clock::time_point> oldest() const;

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

private:
  struct item {
    uint64_t id;
    int64_t rows;
    int64_t taken;
    uint64_t shape_key;
    clock::time_point arrived;
    clock::time_point deadline;
  };
  std::deque<item> items_;
};

/// Which queue of which expert (kind 0 = forward, 1 = backward).
struct queue_id {
  uint64_t expert = 0;
  uint8_t kind = 0;

  friend bool operator<(const queue_id& a, const queue_id& b) {
    return a.expert < b.expert || (a.expert == b.expert && a.kind < b.kind);
  }
  friend bool operator==(const queue_id& a, const queue_id& b) {
    return a.expert == b.expert && a.kind == b.kind;
  }
};

/// Node-wide readiness of expert queues; serves the oldest waiting first.
/// Invariant: a queue appears at most once.
class dispatch_queue {
public:
  /// Marks `q` ready with its oldest request from `oldest` (replaces an
  /// earlier mark of `q`).
  void ready(queue_id q, clock::time_point oldest);

  /// Removes `q` (e.g. its expert died).
  void remove(queue_id q);

  /// Removes every queue of `expert`.
  void remove_expert(uint64_t expert);

  /// Pops the queue whose oldest request waited longest.
  std::optional<queue_id> pop_oldest();

  bool empty() const { return order_.empty(); }
  size_t size() const { return order_.size(); }

private:
  std::set<std::pair<clock::time_point, queue_id>> order_;
  std::map<queue_id, clock::time_point> index_;
};

} // namespace colony::expert
