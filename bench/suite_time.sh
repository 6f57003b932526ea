#!/usr/bin/env bash
# Time `bash .ci/run` (the whole suite, as CI runs it) from a fresh clone of each revision given,
# one after the other, e.g. the baseline and this branch:
#
#     bench/suite_time.sh 7f7fd75 HEAD
#
# Each clone goes to a temporary directory with ../shared linked beside it (the corpus), a fresh
# .venv included in the time, as CI sees it. Prints wall, user and system seconds and the tests'
# summary line per revision. TEST_DATABASE_URL as for scripts/test (runs share it: one at a time).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$(cd "$repo/.." && pwd)/shared"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ln -s "${SHARED:-$shared}" "$work/shared"
for rev in "$@"; do
  dir="$work/$(git -C "$repo" rev-parse --short "$rev")"
  git clone --quiet "$repo" "$dir"
  git -C "$dir" checkout --quiet "$(git -C "$repo" rev-parse "$rev")"
  log="${TMPDIR:-/tmp}/suite-$(basename "$dir").log"  # kept: the failures, the durations
  status=0
  /usr/bin/time -f "%e %U %S" -o "$dir.time" bash "$dir/.ci/run" >"$log" 2>&1 || status=$?
  read -r wall user sys < <(tail -1 "$dir.time")  # after "exited with non-zero status"
  printf '%s\twall %6.0f s\tuser %6.0f s\tsys %4.0f s\texit %d\t%s\n' \
    "$rev" "$wall" "$user" "$sys" "$status" "$(grep -E '(passed|failed)' "$log" | tail -1)"
  grep -E '^(FAILED|ERROR) ' "$log" || true
done
