// The tensors the averaging test peers hold: two named tensors of
// different shapes whose values depend on the peer's index, so that the
// test can compute the expected mean by hand.
#pragma once

#include <vector>

#include "actors/averaging/tensors.hpp"

namespace colony::averaging::testing {

/// With `big`, a third tensor of 1500 values (several parts per member
/// when parts are small).
inline std::vector<named_tensor> peer_tensors(int index, bool big = false) {
  named_tensor w{"layer.w", {2, 3}, {}};
  for (int k = 0; k < 6; ++k)
    w.values.push_back(static_cast<float>(index * 10 + k) + 0.25f);
  named_tensor b{"layer.b", {4}, {}};
  for (int k = 0; k < 4; ++k)
    b.values.push_back(static_cast<float>((index + 1) * (k - 1.5)));
  if (!big)
    return {w, b};
  named_tensor x{"layer.big", {30, 50}, {}};
  for (int k = 0; k < 1500; ++k)
    x.values.push_back(static_cast<float>((index + 1) * 0.001 * k - index));
  return {w, b, x};
}

} // namespace colony::averaging::testing
