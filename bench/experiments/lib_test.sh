#!/usr/bin/env bash
# Tests of lib.sh (ctest label 'experiments'): plot rendering fails clearly
# without gnuplot and works with it; bad arguments are refused.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; failures=$((failures + 1)); fi; }

cat > "$tmp/p.gp" <<'GP'
set terminal pngcairo size 320,240
set output out_dir.'/p.png'
plot x
GP

# 1. gnuplot missing: exit 3, a message naming gnuplot-nox, no PNG.
msg="$(GNUPLOT=/nonexistent/gnuplot bash -c "source '$here/lib.sh'; exp_init libtest --out '$tmp/a' 2>/dev/null; exp_plot '$tmp/p.gp' p.png" 2>&1)"
rc=$?
check "missing gnuplot exits 3 (got $rc)" '[ "$rc" = 3 ]'
check "missing gnuplot names the package" 'grep -q "gnuplot-nox" <<<"$msg"'
check "missing gnuplot writes no PNG" '[ ! -e "$tmp/a/p.png" ]'

# 2. A script that writes nothing: exit 3, names the missing file.
if command -v gnuplot >/dev/null 2>&1; then
  echo 'print "nothing"' > "$tmp/empty.gp"
  msg="$(bash -c "source '$here/lib.sh'; exp_init libtest --out '$tmp/b' 2>/dev/null; exp_plot '$tmp/empty.gp' p.png" 2>&1)"
  rc=$?
  check "a PNG not written exits 3 (got $rc)" '[ "$rc" = 3 ]'
  check "a PNG not written is named" 'grep -q "did not write" <<<"$msg"'

  # 3. With gnuplot: a PNG is rendered.
  bash -c "source '$here/lib.sh'; exp_init libtest --out '$tmp/c' 2>/dev/null; exp_plot '$tmp/p.gp' p.png" 2>/dev/null
  rc=$?
  check "with gnuplot exits 0 (got $rc)" '[ "$rc" = 0 ]'
  check "with gnuplot the PNG starts with the PNG magic" \
    '[ "$(head -c 4 "$tmp/c/p.png" | od -An -tx1 | tr -d " \n")" = 89504e47 ]'
else
  echo "FAIL: gnuplot is not installed (deploy/setup.sh installs gnuplot-nox)"
  failures=$((failures + 1))
fi

# 4. Arguments.
bash -c "source '$here/lib.sh'; exp_init libtest --frobnicate" >/dev/null 2>&1
rc=$?
check "an unknown argument exits 2 (got $rc)" '[ "$rc" = 2 ]'
bash -c "source '$here/lib.sh'; exp_init libtest --out" >/dev/null 2>&1
rc=$?
check "--out without a directory exits 2 (got $rc)" '[ "$rc" = 2 ]'
out="$(bash -c "source '$here/lib.sh'; exp_init libtest --quick --build '$tmp/bld' 2>/dev/null; echo \$QUICK \$EXP_OUT")"
check "--quick writes under the build directory ($out)" '[ "$out" = "1 $tmp/bld/experiments/libtest" ]'

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all lib.sh checks passed"
