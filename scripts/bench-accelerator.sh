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
# The profile's accelerator times (and CPU heads under load) feed the plan for this trunk.
outlet profile branchy-bench --eps "$ep,cpu" --levels 0,0.25,0.5,0.75,0.9 --runs 20 --max-ms 1000
outlet plan branchy-bench --trunk-ep "$ep" --write
outlet bench --model branchy-bench --trunk-ep "$ep" "$@"
