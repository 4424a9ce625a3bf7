#!/bin/sh
# The `make check` runner. Usage: runner.sh LOGDIR KIND:COMMAND...
#
# KIND is "gtest" (a GoogleTest binary: each test case counts once) or
# "script" (a script or program that prints "PASS: name" or "FAIL: name"
# lines: each line counts once; *.sh files run under sh). Entries are
# single words, since make splits its lists on spaces. A suite that exits non-zero without reporting a
# failure counts as one failure, so a crash is never silent.
# The last line is "N passed, N failed" (", N skipped" when any were).
set -u
logdir=$1; shift
mkdir -p "$logdir"
passed=0; failed=0; skipped=0
for spec in "$@"; do
  kind=${spec%%:*}; cmd=${spec#*:}
  if [ "$cmd" = sh ]; then
    # "script:sh path" split by make into two words: say so, count it.
    echo "runner: suite entry '$spec' is cut at a space; write script:PATH"
    failed=$((failed + 1)); continue
  fi
  name=$(echo "$cmd" | sed 's|^sh ||; s| .*||; s|^.*/||')
  log="$logdir/$name.log"
  start=$(date +%s)
  case "$kind" in
    gtest) "$cmd" --gtest_color=no >"$log" 2>&1; rc=$?
      p=$(grep -cE '^\[       OK \] .* \([0-9]+ ms\)$' "$log")
      f=$(grep -cE '^\[  FAILED  \] .* \([0-9]+ ms\)$' "$log")
      s=$(grep -cE '^\[  SKIPPED \] .* \([0-9]+ ms\)$' "$log")
      grep -E '^\[  (FAILED|SKIPPED) \] .* \([0-9]+ ms\)$' "$log" | sed 's/^/    /'
      grep -E '^.*_test.cpp:[0-9]+: (Skipped|Failure)' -A2 "$log" | head -40 | sed 's/^/    /' ;;
    script) case "$cmd" in *" "*) sh -c "$cmd" ;; *.sh) sh "$cmd" ;; *) "$cmd" ;; esac >"$log" 2>&1; rc=$?
      p=$(grep -cE '^PASS: ' "$log")
      f=$(grep -cE '^FAIL: ' "$log")
      s=$(grep -cE '^SKIP: ' "$log")
      grep -E '^(FAIL|SKIP): ' "$log" | sed 's/^/    /' ;;
    *) echo "runner: unknown suite kind '$kind' in '$spec'"; rc=1; p=0; f=0; s=0 ;;
  esac
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1; echo "    $name exited with status $rc without reporting a failure; see $log"
    tail -n 15 "$log" | sed 's/^/    | /'
  fi
  echo "  SUITE  $name: $p passed, $f failed$( [ "$s" -gt 0 ] && echo ", $s skipped") ($(( $(date +%s) - start )) s)"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
