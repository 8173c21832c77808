#include "actors/expert/batch_queue.hpp"

#include <algorithm>

namespace colony::expert {

void batch_queue::push(uint64_t id, int64_t rows, uint64_t shape_key,
                       clock::time_point arrived, clock::time_point deadline) {
  items_.push_back(item{id, std::max<int64_t>(rows, 0), 0, shape_key, arrived, deadline});
}

std::vector<batch_queue::expired> batch_queue::drop_expired(clock::time_point now) {
  std::vector<expired> out;
  for (auto i = items_.begin(); i != items_.end();) {
    if (i->deadline < now) {
      out.push_back(expired{i->id, i->rows - i->taken, i->arrived});
      i = items_.erase(i);
    } else {
      ++i;
    }
  }
  return out;
}

std::vector<slice> batch_queue::next_batch(int64_t max_rows) {
  std::vector<slice> out;
  if (items_.empty())
    return out;
  max_rows = std::max<int64_t>(max_rows, 1);
  auto key = items_.front().shape_key;
  int64_t budget = max_rows;
  while (!items_.empty() && items_.front().shape_key == key) {
    auto& head = items_.front();
    auto remaining = head.rows - head.taken;
    if (remaining > 0 && budget == 0)
      break;
    auto take = std::min(remaining, budget);
    bool last = take == remaining;
    out.push_back(slice{head.id, head.taken, head.taken + take, last});
    head.taken += take;
    budget -= take;
    if (!last)
      break;
    items_.pop_front();
  }
  return out;
}

std::optional<clock::time_point> batch_queue::oldest() const {
  if (items_.empty())
    return std::nullopt;
  return items_.front().arrived;
}

void dispatch_queue::ready(queue_id q, clock::time_point oldest) {
  remove(q);
  order_.emplace(oldest, q);
  index_.emplace(q, oldest);
}

void dispatch_queue::remove(queue_id q) {
  auto i = index_.find(q);
  if (i == index_.end())
    return;
  order_.erase({i->second, q});
  index_.erase(i);
}

void dispatch_queue::remove_expert(uint64_t expert) {
  remove(queue_id{expert, 0});
  remove(queue_id{expert, 1});
}

std::optional<queue_id> dispatch_queue::pop_oldest() {
  if (order_.empty())
    return std::nullopt;
  auto q = order_.begin()->second;
  order_.erase(order_.begin());
  index_.erase(q);
  return q;
}

} // namespace colony::expert
