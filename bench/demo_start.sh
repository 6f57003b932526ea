#!/usr/bin/env bash
# How long `scripts/run demo` takes to serve its page (issue 16), from a fresh clone of the given
# revision (default HEAD): first cold (no .venv: creating it and installing is included), then
# again with the environment installed (`--fresh`: a new demo directory, seeded anew). The
# page counts as served when GET /api/state answers. Prints both times and the load average.
#
#     bench/demo_start.sh [REV]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rev="$(git -C "$repo" rev-parse "${1:-HEAD}")"
work="$(mktemp -d)"
port="${DEMO_PORT:-8797}"
pid=""
cleanup() { [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
git clone --quiet "$repo" "$work/clone"
git -C "$work/clone" checkout --quiet "$rev"

serve() {  # $1: label, the rest: scripts/run arguments
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  "$work/clone/scripts/run" "$@" >"$work/$label.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/api/state"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/$label.log"; exit 1; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  printf '%s\t%6.1f s\tload %s\n' "$label" "$(echo "$end - $start" | bc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  kill -INT "$pid"
  wait "$pid" || true
  pid=""
}

serve cold demo --no-browser --port "$port"
serve installed demo --fresh --no-browser --port "$port"
