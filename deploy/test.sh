#!/usr/bin/env bash
# The test command: set up (install + build), then run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
# Two tests at a time: most suites wait on sockets, timers and child
# processes. The experiments' --quick runs are RUN_SERIAL (they measure
# throughput and train under time limits), so they always run alone.
ctest --test-dir build --output-on-failure --timeout 600 -j 2
