#!/usr/bin/env bash
# The test command: set up (install + build), then run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
ctest --test-dir build --output-on-failure --timeout 600
