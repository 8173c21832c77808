# Experiment 4 plots: recall and latency of the beam searches per interval,
# before and under churn (the shaded part). out_dir is set by exp_plot.
set datafile separator ','
set terminal pngcairo size 900,500 font ',10' noenhanced
set key outside right top
set xlabel 'time since the gates started (s)'
set grid
stats out_dir.'/swarm.csv' using 1 every ::1 nooutput
tmax = STATS_max
stats out_dir.'/swarm.csv' using (strcol(2) eq 'baseline' ? $1 : 0) every ::1 nooutput
tchurn = STATS_max
set object 1 rect from tchurn, graph 0 to tmax, graph 1 fc rgb '#f0e0e0' fs solid 0.5 behind

set output out_dir.'/swarm_recall.png'
set title 'Beam search vs exhaustive search over the experts served now (shaded: churn)'
set ylabel 'fraction'
set yrange [0:1.05]
plot out_dir.'/swarm.csv' using 1:5 every ::1 with linespoints title 'recall@k', \
     '' using 1:6 every ::1 with linespoints title 'exact top-k set', \
     '' using 1:7 every ::1 with linespoints title 'returned but not served there (stale)'

set output out_dir.'/swarm_latency.png'
set title 'Beam search latency (2 rounds of batched DHT gets, 100 ms one-way delay)'
set ylabel 'ms'
set yrange [0:*]
set y2label 'CPU cores busy, load average'
set y2range [0:*]
set y2tics
plot out_dir.'/swarm.csv' using 1:8 every ::1 with linespoints title 'p50', \
     '' using 1:9 every ::1 with linespoints title 'p95', \
     '' using 1:16 every ::1 axes x1y2 with lines dt 2 title 'CPU cores (right)', \
     '' using 1:17 every ::1 axes x1y2 with lines dt 3 title "machine load (right)"
