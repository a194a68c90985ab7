#!/usr/bin/env bash
# Profile and fit the latency predictor on a machine with an accelerator (webgpu / cuda), after
# `npm run build`. Writes into ${OUT:-./accelerator-check}: branchy-mnist's profile.json, the
# fitted predictor and the logs. Needs node >= 20 and node_modules (onnxruntime-node's
# linux/x64 binaries); webgpu also needs the Vulkan loader (libvulkan.so.1) and a GPU driver.
# Usage: bash scripts/accelerator-check.sh [--quick]
set -uo pipefail
out="${OUT:-./accelerator-check}"
mkdir -p "$out"
command -v node >/dev/null || { echo "node is not installed here" | tee "$out/log.txt"; exit 1; }
{ node --version; nproc; (ldconfig -p | grep -m1 libvulkan) || echo "no libvulkan.so.1"; nvidia-smi -L 2>/dev/null; } | tee "$out/machine.txt"
pkg="$out/branchy-mnist"
rm -rf "$pkg" && cp -r models/branchy-mnist "$pkg" && rm -f "$pkg/profile.json"
node dist/apps/cli/src/main.js profile "$pkg" --eps cpu,webgpu,cuda --runs 30 2>&1 | tee "$out/profile.log"
cp "$pkg/profile.json" "$out/profile.json" 2>/dev/null
quick=""; [ "${1:-}" = "--quick" ] && quick="--quick"
node dist/apps/cli/src/main.js predictor fit $quick --eps cpu,webgpu,cuda --out "$out/predictor.json" 2>&1 | tee "$out/fit.log"
node dist/apps/cli/src/main.js predictor eval --predictor "$out/predictor.json" --json > "$out/eval.json"
