#!/usr/bin/env bash
# The node demo (the first main job): set up, start a local colony-node
# serving four experts, exercise it through the CLI (list, info, forward),
# then stop it with SIGINT so that it checkpoints its experts.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh

config="${1:-deploy/configs/local-node.yaml}"
ready="$(mktemp -u /tmp/colony-ready.XXXXXX)"
dht_ready="$ready.dht"
build/nodes/colony-node --config "$config" --ready-file "$ready" --dht-ready-file "$dht_ready" &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 300); do   # up to 30 s
  [ -s "$ready" ] && break
  kill -0 "$node_pid" 2>/dev/null || { echo "colony-node exited early" >&2; exit 1; }
  sleep 0.1
done
[ -s "$ready" ] || { echo "colony-node did not start within 30 s" >&2; exit 1; }
node="$(cat "$ready")"
uid="$(build/nodes/colony expert list --node "$node" | head -n 1)"

set -x
build/nodes/colony expert list --node "$node"
if [ -s "$dht_ready" ]; then
  build/nodes/colony experts list "${uid%.*}." --peer "$(cat "$dht_ready")"
fi
build/nodes/colony expert info --node "$node" --uid "$uid"
build/nodes/colony expert forward --node "$node" --uid "$uid" --batch 32 --repeat 100
build/nodes/colony expert info --node "$node" --uid "$uid"
set +x

kill -INT "$node_pid"
wait "$node_pid"
trap - EXIT
rm -f "$ready" "$dht_ready"
echo "run_local: ok"
