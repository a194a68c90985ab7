#!/usr/bin/env bash
# The benchmark with the trunk on an accelerator: profile branchy-bench on the accelerator and the
# CPU, plan for a trunk on it, then run the same harness as `npm run bench` with the trunk there.
# Needs a GPU driver and, for webgpu, the Vulkan loader (Debian/Ubuntu: libvulkan1); for cuda, the
# CUDA provider files (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci).
# Usage: bash scripts/bench-accelerator.sh [webgpu|cuda] [extra `outlet bench` flags, e.g. --quick]
set -euo pipefail
cd "$(dirname "$0")/.."
ep="${1:-webgpu}"
shift || true
outlet() { node dist/apps/cli/src/main.js "$@"; }
npm run build --silent
# Thread budget of an accelerator node (libs/config defaultThreadBudget): the trunk feeds the
# accelerator from 1 thread; the branch heads get clamp(cores / 4, 1, 4) threads (4 on 16 cores,
# 1 on 2). Override with BRANCH_THREADS=n. The bench pins the trunk to core 0, the branch to the
# next BRANCH_THREADS cores and the gateway, Redis and client to the rest (2 cores: 0 | 1 | 1).
cores=$(nproc)
branch_threads="${BRANCH_THREADS:-$(( cores / 4 < 1 ? 1 : (cores / 4 > 4 ? 4 : cores / 4) ))}"
echo "bench-accelerator: $ep trunk, $cores cores: trunk 1 thread, branch heads $branch_threads thread(s)"
# The profile's accelerator times (and CPU heads under load, at the branch worker's thread count)
# feed the plan for this trunk.
outlet profile branchy-bench --write --eps "$ep,cpu" --levels 0,0.25,0.5,0.75,0.9 --runs 20 --max-ms 1000 --threads 1 --branch-threads "$branch_threads"
outlet plan branchy-bench --trunk-ep "$ep" --write
outlet bench --model branchy-bench --trunk-ep "$ep" --trunk-threads 1 --branch-threads "$branch_threads" "$@"
