#!/usr/bin/env bash
# check_suites.sh BINARY "SUITE ..." : fails when BINARY holds a GoogleTest
# suite that is not in the list (tests/CMakeLists.txt registers one ctest
# test per listed suite, found in the sources; a suite it missed would never
# run), or when a listed suite holds no test.
set -euo pipefail
bin="$1"
expected="$(tr ' ' '\n' <<< "$2" | grep -v '^$' | sort -u)"
actual="$("$bin" --gtest_list_tests | grep -E '^[A-Za-z0-9_]+\.$' | sed 's/\.$//' | sort -u)"
if [ "$expected" != "$actual" ]; then
  echo "registered suites differ from the binary's (< registered, > binary):" >&2
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  exit 1
fi
echo "$(wc -l <<< "$actual") suites, all registered"
