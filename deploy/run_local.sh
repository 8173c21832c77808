#!/usr/bin/env bash
# The main job: install what is missing, build, then train a DMoE model on
# Fashion-MNIST on this machine: a DHT bootstrap peer, 3 expert node
# processes and one trainer node with several trainers (configs in
# deploy/configs/mnist-*.yaml). Prints the trainers' progress lines and the
# final test accuracy, then stops everything cleanly.
#   --kill-expert-node-at SECONDS   SIGKILL expert node 2 that long after training
#                                  started; training goes on with the survivors
#   --steps N                      steps per trainer (default: the config's)
# The former main job (one node exercised by the CLI) is deploy/run_node_demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

kill_at=""
steps=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kill-expert-node-at) kill_at="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    *) echo "usage: $0 [--kill-expert-node-at SECONDS] [--steps N]" >&2; exit 2 ;;
  esac
done

[ -n "${COLONY_NO_SETUP:-}" ] || deploy/setup.sh   # COLONY_NO_SETUP=1: reuse build/ as is
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE   # 2 cores shared by 5 processes

work="$(mktemp -d /tmp/colony-main.XXXXXX)"
pids=()
killer_pid=""
cleanup() {
  # A background subshell ignores SIGINT: stop the pending kill with SIGTERM.
  if [ -n "$killer_pid" ]; then kill "$killer_pid" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Waits (bounded) until file $1 is non-empty while process $2 lives.
wait_file() {
  for _ in $(seq 1 600); do   # up to 60 s
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "run_local: process $2 exited early" >&2; return 1; }
    sleep 0.1
  done
  echo "run_local: $1 did not appear within 60 s" >&2
  return 1
}

build/nodes/colony dht serve --port 0 --ready-file "$work/bootstrap" --log-level warn \
  2> "$work/bootstrap.log" &
pids+=($!)
wait_file "$work/bootstrap" "${pids[-1]}"
bootstrap="$(cat "$work/bootstrap")"
echo "run_local: DHT bootstrap peer on $bootstrap"

expert_pids=()
for row in 0 1 2; do
  sed -e "s/@ROW@/$row/g" -e "s/@BOOTSTRAP@/$bootstrap/g" deploy/configs/mnist-experts.yaml \
    > "$work/experts-$row.yaml"
  build/nodes/colony-node --config "$work/experts-$row.yaml" --ready-file "$work/experts-$row" \
    2> "$work/experts-$row.log" > /dev/null &
  pids+=($!)
  expert_pids+=($!)
done
for row in 0 1 2; do wait_file "$work/experts-$row" "${expert_pids[$row]}"; done
for _ in $(seq 1 100); do   # up to 10 s for the declarations to land
  n="$(build/nodes/colony experts list ffn_b. --peer "$bootstrap" 2>/dev/null | wc -l || true)"
  [ "$n" -ge 12 ] && break
  sleep 0.1
done
echo "run_local: 3 expert nodes up, $n experts of layer ffn_b declared"

sed -e "s/@BOOTSTRAP@/$bootstrap/g" -e "s|@CKPT@|$work/ckpt|g" deploy/configs/mnist-trainer.yaml \
  > "$work/trainer.yaml"
if [ -n "$steps" ]; then sed -i "s/^  steps: .*/  steps: $steps/" "$work/trainer.yaml"; fi
start=$(date +%s)
build/nodes/colony-node --config "$work/trainer.yaml" 2>&1 | tee "$work/trainer.log" \
  | grep --line-buffered -E "step=|model version|training done|error" &
trainer_pid=$!
if [ -n "$kill_at" ]; then
  ( sleep "$kill_at"
    kill -KILL "${expert_pids[2]}" 2>/dev/null && echo "run_local: SIGKILLed expert node 2" ) &
  killer_pid=$!
fi
wait "$trainer_pid" || true   # the verdict is the summary line below
seconds=$(( $(date +%s) - start ))
summary="$(grep -o 'training done: .*' "$work/trainer.log" || true)"
[ -n "$summary" ] || { echo "run_local: the trainer node failed (log: $work/trainer.log)" >&2; exit 1; }
echo "run_local: ${summary#training done: } seconds=$seconds"
