# Experiment 1: samples/s against the mean delay per expert request, DMoE
# vs model-parallel, one PNG per form (exp_plot sets out_dir).
set terminal pngcairo size 900,560 font ",11"
set datafile separator ","
set logscale y
set grid ytics mytics xtics
set key top right
set xrange [-20:1040]
set xlabel "mean delay per expert request (ms, exponential)"
set ylabel "samples/s (log scale)"
csv = out_dir . "/throughput.csv"
titles = "forward:(a)_forward_only,_feed-forward_blocks training:(b)_training_(forward_+_backward) transformer:(c)_forward_only,_Transformer_blocks"
do for [form in "forward training transformer"] {
  n = system(sprintf("grep -c '^%s,' '%s' || true", form, csv)) + 0
  if (n > 0) {
    set output sprintf("%s/throughput_%s.png", out_dir, form)
    t = system(sprintf("echo '%s' | tr ' ' '\\n' | grep '^%s:' | cut -d: -f2 | tr _ ' '", titles, form))
    set title "Experiment 1: throughput under latency - " . t
    sel(sys) = sprintf("< grep '^%s,[^,]*,%s,' '%s'", form, sys, csv)
    plot sel("dmoe") using 4:5 with linespoints lw 2 pt 7 title "DMoE (Colony gates, 64 trainers)", \
         sel("model_parallel") using 4:5 with linespoints lw 2 pt 5 \
           title "model-parallel (1 stream, fixed experts)"
    unset output
  }
}
