#!/usr/bin/env bash
# Experiment 1 (issue 9; paper section 4.1): throughput under latency.
# DMoE (many trainers, gates choosing experts) vs one model-parallel stream
# over a chain of expert layers on colony-node processes, for exponential
# delays on every expert request; forms: forward only (feed-forward and
# Transformer blocks) and training. Writes throughput.csv, summary.md and
# one PNG per form; --quick checks its figures and exits 1 when one fails.
source "$(dirname "$0")/../lib.sh"
exp_init throughput "$@"

bin="$(exp_bin throughput)"
config="$EXP_DIR/throughput.yaml"
[ "$QUICK" = 1 ] && config="$EXP_DIR/throughput-quick.yaml"
exp_log "config=$config"
stdbuf -oL "$bin" --config "$config" --out "$EXP_OUT" $([ "$QUICK" = 1 ] && echo --quick) \
  || exp_die "the throughput program failed"
rm -rf "$EXP_OUT/work"

csv="$EXP_OUT/throughput.csv"
pngs=()
for form in forward training transformer; do
  grep -q "^$form," "$csv" && pngs+=("throughput_$form.png")
done
exp_plot "$EXP_DIR/throughput.gp" "${pngs[@]}"

# Sanity checks: every point measured > 0 samples/s, and per form DMoE
# beats model-parallel at the largest delay by at least 2x.
awk -F, 'NR > 1 && !($5 > 0) {
           printf "check failed: form=%s system=%s mean_delay_ms=%s measured %s samples/s (want > 0)\n", $1, $3, $4, $5
           bad = 1 }
         END { exit bad }' "$csv" >&2 || exp_die "a point measured no throughput" 1
awk -F, 'NR > 1 { if (!($1 in top) || $4 + 0 > top[$1]) top[$1] = $4 + 0
                  v[$1 "," $3 "," ($4 + 0)] = $5 }
         END { for (f in top) {
                 d = v[f ",dmoe," top[f]]; m = v[f ",model_parallel," top[f]]
                 ratio = m > 0 ? d / m : 0
                 printf "form=%s mean_delay_ms=%g dmoe=%.2f model_parallel=%.2f ratio=%.1f\n", f, top[f], d, m, ratio
                 if (!(ratio >= 2)) {
                   printf "check failed: form=%s: DMoE / model-parallel at %g ms is %.2f (want >= 2)\n", f, top[f], ratio
                   bad = 1 } }
               exit bad }' "$csv" >&2 || exp_die "DMoE does not beat model-parallel at the largest delay" 1
exp_log "checks passed; results in $EXP_OUT"
