#!/usr/bin/env bash
# Experiment 3 (issue 9, the rebuttal's WikiText-2 run, scaled down): a
# DMoE Transformer language model against a small baseline of the
# experts' size and a large baseline, on the State of the Union corpus.
# Each model trains for the same wall-clock budget on this machine, one
# after another; validation perplexity against training windows and time.
#   bench/experiments/lm/run.sh [--quick] [--out DIR] [--build DIR]
# Writes lm.csv (all points), <model>.csv, <model>.summary, lm_steps.png,
# lm_time.png and summary.md; --quick ends with sanity checks (every
# model's perplexity finite and final < 0.8 x initial) and exits 1 when
# one fails.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
exp_init lm "$@"
bin="$(exp_bin lm_train)"
corpus="$(exp_data sotu)"

if [ "$QUICK" = 1 ]; then
  VOCAB=2000 SECONDS_EACH=12 EVAL_EVERY=5 EVAL_WINDOWS=256
  TRAINERS=32 DMOE_BATCH=4 DELAY_MS=200 FAIL=0.1 AFTER_K_MIN=0.2
else
  VOCAB=8000 SECONDS_EACH=220 EVAL_EVERY=20 EVAL_WINDOWS=1024
  TRAINERS=96 DMOE_BATCH=4 DELAY_MS=1000 FAIL=0.1 AFTER_K_MIN=0.3
fi
CONTEXT=16 LAYERS=4 BASE_BATCH=32 ROWS=4 COLS=4 K=4 K_MIN=2 LR=0.001 ACCUMULATE=8 EXPERT_ACCUMULATE=8
export VOCAB SECONDS_EACH EVAL_EVERY EVAL_WINDOWS TRAINERS DMOE_BATCH DELAY_MS FAIL CONTEXT \
  LAYERS BASE_BATCH ROWS COLS K K_MIN AFTER_K_MIN LR ACCUMULATE EXPERT_ACCUMULATE
# OpenMP threads that spin while waiting made a training step 10x slower
# on these 2 shared cores (measured: 14 vs 140 steps in 8 s); the expert
# nodes inherit this too.
export OMP_WAIT_POLICY=PASSIVE

rm -f "$EXP_OUT"/{small,large,dmoe}.{csv,summary} "$EXP_OUT/lm.csv"
work="$(mktemp -d /tmp/colony-lm.XXXXXX)"
trap 'rm -rf "$work"' EXIT
common=(--corpus "$corpus" --out "$EXP_OUT" --vocab "$VOCAB" --context "$CONTEXT"
        --layers "$LAYERS" --seconds "$SECONDS_EACH" --eval-every "$EVAL_EVERY"
        --eval-windows "$EVAL_WINDOWS" --lr "$LR")
# The 1-minute load average before each model (the machine is shared).
load() { cut -d' ' -f1 /proc/loadavg; }
for model in small large; do
  export "LOAD_$model=$(load)"
  exp_log "model=$model: ${SECONDS_EACH} s of training"
  stdbuf -oL "$bin" --model "$model" "${common[@]}" --batch "$BASE_BATCH" \
    || exp_die "lm_train --model $model failed"
done
export LOAD_dmoe="$(load)"
exp_log "model=dmoe: ${SECONDS_EACH} s of training, $TRAINERS trainers, ${DELAY_MS} ms mean delay, $FAIL failures"
stdbuf -oL "$bin" --model dmoe "${common[@]}" --batch "$DMOE_BATCH" --trainers "$TRAINERS" \
  --rows "$ROWS" --cols "$COLS" --k "$K" --k-min "$K_MIN" --after-k-min "$AFTER_K_MIN" \
  --delay-ms "$DELAY_MS" --fail "$FAIL" --accumulate "$ACCUMULATE" \
  --expert-accumulate "$EXPERT_ACCUMULATE" --work "$work" \
  || { tail -n 20 "$work"/*.log >&2 || true; exp_die "lm_train --model dmoe failed"; }

{ head -n 1 "$EXP_OUT/small.csv"; for m in small large dmoe; do tail -n +2 "$EXP_OUT/$m.csv"; done; } \
  > "$EXP_OUT/lm.csv"
exp_plot "$EXP_DIR/plot.gp" lm_steps.png lm_time.png
bash "$EXP_DIR/summary.sh" "$EXP_OUT" > "$EXP_OUT/summary.md"
exp_log "summary: $EXP_OUT/summary.md"

# Sanity checks: every model's validation perplexity is finite and fell.
fail=0
for m in small large dmoe; do
  read -r first last < <(awk -F, 'NR > 1 { if (first == "") first = $6; last = $6 }
                                  END { print first, last }' "$EXP_OUT/$m.csv")
  if ! awk -v a="$first" -v b="$last" 'BEGIN { exit !(a + 0 > 0 && b + 0 > 0 && b < 1e30 && b < 0.8 * a) }'; then
    echo "lm: sanity check failed: model=$m validation perplexity $first -> $last (want finite and final < 0.8 x initial)" >&2
    fail=1
  else
    exp_log "check ok: model=$m perplexity $first -> $last"
  fi
done
[ "$fail" = 0 ] || exit 1
