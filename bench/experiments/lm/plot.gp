# Experiment 3: validation perplexity of the three language models against
# training windows seen and against wall time (exp_plot sets out_dir).
set terminal pngcairo size 900,560 font ",11"
set datafile separator ","
set key top right
set grid
set logscale y
set ylabel "validation perplexity"
data = out_dir."/lm.csv"
sel(m, col) = (strcol(1) eq m) ? column(col) : NaN
models = "large small dmoe"
titles = "'large baseline (d 128, local)' 'small baseline (d 64, local)' 'DMoE (64 experts of the small block, top-4)'"

# Log x: DMoE sees ~20x fewer windows than the small baseline in the same
# time; the points at 0 windows are left out.
set output out_dir."/lm_steps.png"
set title "Validation perplexity vs training windows (one next-token target per window)"
set xlabel "training windows seen (log scale)"
set logscale x
pos(x) = x > 0 ? x : NaN
plot for [i=1:3] data using (pos(sel(word(models, i), 3))):(sel(word(models, i), 6)) \
     with linespoints pt 7 ps 0.6 lw 2 title word(titles, i)

unset logscale x
set output out_dir."/lm_time.png"
set title "Validation perplexity vs wall time (same 2-core machine, one model at a time)"
set xlabel "training wall time (s)"
plot for [i=1:3] data using (sel(word(models, i), 4)):(sel(word(models, i), 6)) \
     with linespoints pt 7 ps 0.6 lw 2 title word(titles, i)
