#!/usr/bin/env bash
# Experiment 2 (issue 9 section 2, paper section 4.2): convergence of DMoE
# training under expert-request latency and failures, on colony processes
# over loopback (a DHT bootstrap peer, 2 expert nodes with 64 experts, one
# trainer node with 32 trainers), against a dense local baseline.
#   full:    Fashion-MNIST and MNIST; conditions 0 ms, 100 ms + 10% failed,
#            1000 ms + 10% failed, dense; 32 trainers x 20 steps of batch 8
#            (~15 minutes; run under flock /tmp/colony-experiment.lock)
#   --quick: MNIST; 0 ms, 100 ms + 10% failed and dense, 24 steps each;
#            16 trainers; sanity checks of the figures (~90 s)
# Writes convergence.csv (the curves), stats.csv (one row per run), PNG
# plots of test accuracy vs samples seen and vs wall time per data set, and
# summary.md.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
exp_init convergence "$@"

bin="$(exp_bin convergence_run)"
work="$EXP_BUILD/experiments/convergence-work"
rm -rf "$work" && mkdir -p "$work"
csv="$EXP_OUT/convergence.csv"
stats="$EXP_OUT/stats.csv"
rm -f "$csv" "$stats" "$EXP_OUT"/*.png "$EXP_OUT/summary.md"

if [ "$QUICK" = 1 ]; then
  datasets="mnist"
  trainers=16
  # name model delay_ms fail steps eval_every time_limit_s
  conditions="0ms dmoe 0 0 24 6 120
100ms_10pct dmoe 100 0.1 24 6 120
dense dense 0 0 24 6 60"
else
  datasets="fashion_mnist mnist"
  trainers=32
  conditions="0ms dmoe 0 0 20 4 200
100ms_10pct dmoe 100 0.1 20 4 300
1000ms_10pct dmoe 1000 0.1 20 4 360
dense dense 0 0 20 4 120"
fi

for ds in $datasets; do
  dir="$(exp_data "$ds")"
  while read -r name model delay fail steps every limit; do
    exp_log "dataset=$ds condition=$name model=$model delay_ms=$delay fail=$fail trainers=$trainers steps=$steps"
    stdbuf -oL "$bin" --dataset "$ds" --data-dir "$dir" --condition "$name" --model "$model" \
      --delay-ms "$delay" --fail "$fail" --grace-s 0.25 --trainers "$trainers" --batch 8 \
      --steps "$steps" --eval-every "$every" --eval-samples 500 --seed 1 \
      --time-limit-s "$limit" --config-dir "$EXP_DIR" --work "$work/$ds-$name" \
      --csv "$csv" --stats "$stats" \
      || exp_die "condition $name on $ds failed (logs in $work/$ds-$name)"
  done <<< "$conditions"
done

exp_plot "$EXP_DIR/plot.gp" $(for ds in $datasets; do
  printf 'accuracy_samples_%s.png accuracy_time_%s.png ' "$ds" "$ds"; done)
bash "$EXP_DIR/summary.sh" "$csv" "$stats" "$QUICK" > "$EXP_OUT/summary.md"
exp_log "summary: $EXP_OUT/summary.md"
cat "$EXP_OUT/summary.md" | sed -n '/^| dataset/,/^$/p' >&2

if [ "$QUICK" = 1 ]; then
  # Sanity checks: the loss falls in every run; both DMoE runs learn (> 0.6;
  # chance is 0.1), the faulty one although it saw failed requests.
  awk -F, 'NR > 1 && $7 > 0 { if (!($1 SUBSEP $2 in first)) first[$1 SUBSEP $2] = $7; last[$1 SUBSEP $2] = $7 }
           END { for (k in first) { split(k, p, SUBSEP)
                   if (!(last[k] < first[k])) { printf "loss did not fall: %s %s %s -> %s\n", p[1], p[2], first[k], last[k]; bad = 1 } }
                 exit bad }' "$csv" >&2 || exp_die "sanity check failed: the loss did not fall"
  acc() { awk -F, -v c="$1" 'NR > 1 && $2 == c { print $9 }' "$stats"; }
  failed="$(awk -F, 'NR > 1 && $2 == "100ms_10pct" { print $14 }' "$stats")"
  awk -v a="$(acc 0ms)" 'BEGIN { exit !(a > 0.6) }' \
    || exp_die "sanity check failed: the 0 ms run's final accuracy $(acc 0ms) is not above 0.6"
  awk -v a="$(acc 100ms_10pct)" 'BEGIN { exit !(a > 0.6) }' \
    || exp_die "sanity check failed: the faulty run's final accuracy $(acc 100ms_10pct) is not above 0.6"
  [ "${failed:-0}" -gt 0 ] \
    || exp_die "sanity check failed: the faulty run observed no failed expert requests"
  exp_log "sanity checks passed: 0ms accuracy $(acc 0ms), 100ms_10pct accuracy $(acc 100ms_10pct) with $failed failed requests"
fi
