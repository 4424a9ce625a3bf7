#!/bin/sh
# Every tracked C++ source and header must already be as .clang-format
# says: one line per file that is not.
files=$(git ls-files '*.cpp' '*.h' '*.c' 2>/dev/null)
[ -n "$files" ] || { echo "FAIL: sources-are-clang-formatted (not a git checkout)"; exit 1; }
bad=$(for f in $files; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -z "$bad" ]; then
  echo "PASS: sources-are-clang-formatted ($(echo "$files" | wc -l) files)"
else
  echo "FAIL: sources-are-clang-formatted (run make format): $(echo $bad)"
  exit 1
fi
