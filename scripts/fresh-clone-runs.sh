#!/usr/bin/env bash
# The whole suite on fresh clones of a commit, N times idle and M times under two busy loops pinned
# one to each core (issue 17's proof): scripts/fresh-clone-runs.sh [commit] [idle runs] [busy runs].
# Prints one line per run (the runner's own totals) and keeps each run's log in $OUT (default /tmp/fresh-clone-runs).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:-HEAD}; idle=${2:-5}; busy=${3:-3}
out=${OUT:-/tmp/fresh-clone-runs}; mkdir -p "$out"
commit=$(git -C "$repo" rev-parse "$commit")
echo "commit $commit on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

run() { # name busy(0|1)
  local dir loops=()
  dir=$(mktemp -d /tmp/fresh-clone.XXXXXX)
  git clone -q "$repo" "$dir" && git -C "$dir" checkout -q "$commit" || return 1
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null 2>&1 && npm run build --silent >/dev/null 2>&1) || { echo "$1: install or build failed"; return 1; }
  if [ "$2" = 1 ]; then
    taskset -c 0 sh -c 'while :; do :; done' & loops+=($!)
    taskset -c 1 sh -c 'while :; do :; done' & loops+=($!)
  fi
  local start=$SECONDS
  (cd "$dir" && node scripts/run-tests.js >"$out/$1.log" 2>&1)
  [ ${#loops[@]} -gt 0 ] && kill "${loops[@]}"
  echo "$1: $((SECONDS - start)) s, $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/$1.log" | tail -1) $(grep -E 'skipped \(' "$out/$1.log")"
  rm -rf "$dir"
}

for i in $(seq 1 "$busy"); do run "busy-$i" 1; done
for i in $(seq 1 "$idle"); do run "idle-$i" 0; done
