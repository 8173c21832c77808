// Merging the copies of one key that several replicas returned, when some
// replica may be hostile: per subkey (or for the plain value) the owner
// that most copies name wins (a sealed value's public key; unsigned values
// form one group), ties going to the owner with the later expiration; then
// that owner's latest expiration. With values_wanted replicas read, one
// hostile replica is outvoted by the honest ones; what it can still do is
// withhold or return nothing (see README, "Records nobody can forge").
// Pure.
#pragma once

#include <vector>

#include "actors/dht/record_store.hpp"

namespace colony::dht {

/// The copies merged as above; an empty dictionary when there is none.
record merge_copies(const std::vector<record>& copies);

/// The winner among candidate values of one subkey (or plain value), one
/// per copy; `xs` must not be empty.
timed_value vote(const std::vector<timed_value>& xs);

} // namespace colony::dht
