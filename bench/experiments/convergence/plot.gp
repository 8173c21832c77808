# Experiment 2's plots (exp_plot sets out_dir): per data set, the trainer
# node's model's test accuracy against the samples it was trained on, and
# against wall time since the trainers started; one line per condition.
csv = out_dir."/convergence.csv"
datasets = system("awk -F, 'NR > 1 && !seen[$1]++ { printf \"%s \", $1 }' ".csv)
conditions = system("awk -F, 'NR > 1 && !seen[$2]++ { printf \"%s \", $2 }' ".csv)
set datafile separator ","
set terminal pngcairo size 900,560 font "sans,11" noenhanced
set key bottom right
set grid
set yrange [0:1]
set ylabel "test accuracy of the model"
do for [d in datasets] {
  set output out_dir."/accuracy_samples_".d.".png"
  set title "Experiment 2, ".d.": test accuracy vs samples the model trained on"
  set xlabel "training samples (all trainers of the model)"
  plot for [c in conditions] csv using (strcol(1) eq d && strcol(2) eq c ? $4 : 1/0):6 \
       with linespoints lw 2 title c
  set output out_dir."/accuracy_time_".d.".png"
  set title "Experiment 2, ".d.": test accuracy vs wall time"
  set xlabel "wall time since the trainers started, s"
  plot for [c in conditions] csv using (strcol(1) eq d && strcol(2) eq c ? $5 : 1/0):6 \
       with linespoints lw 2 title c
}
