// fetch_state(): a joiner downloads the state a peer announced under
// avg.<run>.state, one chunk per request (each at most max_part_bytes), and
// checks that the bytes add up to the names and shapes it was told. It
// appends only what arrived, so a peer claiming a huge state costs nothing
// until it sends it, and never more than opts.max_state_bytes.
#include <cstring>

#include "actors/averaging/averager_state.hpp"
#include "actors/client/connect.hpp"
#include "messages/atoms.hpp"
#include "messages/errc.hpp"

namespace colony::averaging {

namespace fetch_impl {

struct fetch_job {
  caf::response_promise promise;
  std::string from;
  averager_front_actor peer;
  avg_state_chunk first; ///< names, shapes, version, chunks (bytes moved out)
  std::string bytes;
  uint64_t want = 0;
};

using job_ptr = std::shared_ptr<fetch_job>;

caf::error check_chunk(const fetch_job& job, const avg_state_chunk& c, uint32_t index,
                       uint64_t max_bytes, uint64_t chunk_bytes) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::malformed_payload, "state chunk " + std::to_string(index) + " from "
                                                 + job.from + ": " + what);
  };
  if (c.chunk != index || c.offset != job.bytes.size() || c.bytes.size() > chunk_bytes)
    return bad("out of order or too large");
  if (index > 0 && (c.version != job.first.version || c.chunks != job.first.chunks
                    || c.names != job.first.names || c.shapes != job.first.shapes))
    return bad("differs from chunk 0");
  if (job.bytes.size() + c.bytes.size() > max_bytes)
    return make_error(errc::payload_too_large, "state from " + job.from + " over "
                                                 + std::to_string(max_bytes) + " bytes");
  return caf::none;
}

caf::expected<state_snapshot> assemble(fetch_job& job) {
  layout l;
  std::vector<named_tensor> probe;
  for (size_t i = 0; i < job.first.names.size() && i < job.first.shapes.size(); ++i) {
    auto n = wire::checked_nbytes(wire::dtype::float32, job.first.shapes[i], job.bytes.size());
    if (!n)
      return make_error(errc::bad_shape, "state from " + job.from + ": "
                                           + context_of(n.error()));
    l.names.push_back(job.first.names[i]);
    l.shapes.push_back(job.first.shapes[i]);
    l.total += *n / sizeof(float);
  }
  if (job.first.names.size() != job.first.shapes.size()
      || l.total * sizeof(float) != job.bytes.size())
    return make_error(errc::bad_shape, "state from " + job.from + ": "
                                         + std::to_string(job.bytes.size())
                                         + " bytes do not match " + l.to_string());
  std::vector<float> flat(l.total);
  if (!flat.empty())
    std::memcpy(flat.data(), job.bytes.data(), job.bytes.size());
  return state_snapshot{job.first.version, unflatten(l, flat), job.from};
}

void pull(averager_pointer self, job_ptr job, uint32_t index) {
  auto& st = self->state;
  self->request(job->peer, seconds(st.cfg.round_timeout_s), avg_state_request{st.cfg.run, index})
    .then(
      [self, job, index](avg_state_chunk& c) {
        auto& st = self->state;
        if (index == 0)
          job->first = avg_state_chunk{c.version, c.names, c.shapes, 0, c.chunks, 0, {}};
        if (auto err = check_chunk(*job, c, index, st.opts.max_state_bytes,
                                   st.cfg.max_part_bytes))
          return static_cast<void>(job->promise.deliver(err));
        job->bytes += c.bytes;
        if (index + 1 < job->first.chunks)
          return pull(self, job, index + 1);
        auto snap = assemble(*job);
        if (snap)
          job->promise.deliver(std::move(*snap));
        else
          job->promise.deliver(snap.error());
      },
      [job](caf::error& err) { job->promise.deliver(err); });
}

} // namespace fetch_impl

using namespace fetch_impl;

void fetch_state(averager_pointer self) {
  auto& st = self->state;
  auto job = std::make_shared<fetch_job>();
  job->promise = self->make_response_promise();
  auto wait = seconds(st.cfg.round_timeout_s);
  self->request(st.dht, wait, dht_get_request{{state_key(st.cfg.run)}})
    .then(
      [self, job, wait](const dht_get_reply& r) {
        auto& st = self->state;
        std::string from;
        if (!r.results.empty() && r.results[0].found)
          for (auto& v : r.results[0].value.values)
            if (v.subkey != st.self_ep && (from.empty() || v.subkey < from))
              from = v.subkey;
        auto ep = parse_endpoint(from);
        if (from.empty() || !ep)
          return static_cast<void>(job->promise.deliver(
            make_error(errc::not_found, "no peer announces a state of run '" + st.cfg.run + "'")));
        job->from = from;
        net::connect_async<averager_front_actor>(
          self, *ep, wait, "averager", [self, job](caf::expected<averager_front_actor> h) {
            if (!h)
              return static_cast<void>(job->promise.deliver(h.error()));
            job->peer = *h;
            pull(self, job, 0);
          });
      },
      [job](caf::error& err) { job->promise.deliver(err); });
}

} // namespace colony::averaging
