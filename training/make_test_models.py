#!/usr/bin/python3
"""Generate the untrained test-fixture model packages under test/fixtures/models/.

Run from the repository root with Debian's Python (onnx 1.12), then node for the timings:

    /usr/bin/python3 training/make_test_models.py            # builds, times, writes READMEs
    /usr/bin/python3 training/make_test_models.py --no-time  # builds only (READMEs keep old timings)
    /usr/bin/python3 training/make_test_models.py --only slow-segment  # one package (repeatable)

slow-exit  5 segments of roughly 30-60 ms each on one CPU thread; exit 0 is ALWAYS confident
           (softmax max > 0.999, class 7, for any input); exits 1-4 never are (max < 0.2).
slow-head  3 tiny segments (well under 1 ms); 3 slow exit heads (~80-150 ms each) that are never
           confident (max < 0.2).
slow-segment  3 slow segments (~200 ms each) handing off a small feature [N,16,28,28]; exit 0
           (after segment 0) is ALWAYS confident (class 7, > 0.999), exit 1 never is (max < 0.2),
           exit 2 is the final exit; all heads are fast (well under 5 ms).

The slow parts are chains of 3x3 convolutions that all reuse ONE weight initializer per file, so
each file stays small; Tanh after every conv bounds the features to [-1, 1], which is what makes
the confidence claims hold for any input (the never-confident heads are global average pooling
and a MatMul whose weights are at most 1e-3 in magnitude: |logit| <= C * 1e-3 = 0.064 with
C = 64 channels, so max prob <= e^0.064 / (e^0.064 + 9 e^-0.064) ~= 0.112).

IO names follow branchy-mnist: segment 0 "input" -> "feature", later segments "feature_in" ->
"feature" (ONNX forbids a graph input and output with the same name), exits "feature" ->
"probabilities". Opset 13, IR version 8, dynamic batch axis 0, weights embedded.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_format import write_manifest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "models")
OPSET = 13
IR_VERSION = 8
SEED = 7

# Tuned on the 2-core development machine (onnxruntime-node 1.30, 1 thread, batch 1).
# One 64->64 3x3 conv at 56x56 is 0.23 GFLOP, about 1 ms there; 4 ms at 112x112.
SLOW_EXIT = dict(channels=64, size=56, convs_per_segment=[43, 44, 44, 44, 44], segments=5)
SLOW_HEAD = dict(channels=64, size=112, convs_per_head=27, feature_channels=8, segments=3)
# ~5.8 ms per such conv on the 2-core Intel Xeon machine that timed slow-segment (where slow-head's
# heads took ~160 ms, ~1.5x its README's EPYC numbers), so 36 convs ~ 210 ms there.
# Each slow-segment segment: stem conv to 64 channels at 28x28, upsample to 112x112, the conv chain
# there, 4x4 average pool back to 28x28 and a 64->16 conv, so only [N,16,28,28] is handed off.
SLOW_SEGMENT = dict(channels=64, size=112, convs_per_segment=36, feature_channels=16, segments=3)


# ----------------------------------------------------------------------------- helpers
class Graph:
    """Tiny builder around onnx.helper with unique value names."""

    def __init__(self, name):
        self.name = name
        self.nodes, self.inits = [], []
        self.count = 0

    def value(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, out=None, **attrs):
        out = out or self.value(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def conv_tanh(self, x, w, out=None):
        return self.op("Tanh", [self.op("Conv", [x, w], pads=[1, 1, 1, 1])], out)

    def upsample(self, x, factor):
        """Nearest-neighbour Resize by `factor` in H and W."""
        self.init("roi", np.zeros(0, np.float32))
        self.init("scales", np.array([1, 1, factor, factor], np.float32))
        return self.op("Resize", [x, "roi", "scales"], mode="nearest")

    def save(self, path, in_name, in_shape, out_name, out_shape):
        g = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)],
            self.inits,
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="outlet training/make_test_models.py")
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m)
        onnx.save(m, path)


def he_weight(rng, cout, cin, k=3):
    return (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)


def uncertain_head(g, feature, channels, rng):
    """GAP -> Flatten -> MatMul (|w| <= 1e-3) -> Softmax: never confident for features in [-1,1]."""
    w = g.init("head_w", rng.uniform(-1e-3, 1e-3, (channels, 10)).astype(np.float32))
    pooled = g.op("Flatten", [g.op("GlobalAveragePool", [feature])], axis=1)
    return g.op("Softmax", [g.op("MatMul", [pooled, w])], "probabilities", axis=1)


def confident_head(g, feature, label=7):
    """0 * mean(feature) + constant logits (20 at `label`): max prob 1 - 9e-20ish for any input."""
    mean = g.op("Flatten", [g.op("ReduceMean", [feature], axes=[1, 2, 3], keepdims=1)], axis=1)
    zero = g.init("zero", np.zeros((1, 1), np.float32))
    logits = np.zeros((1, 10), np.float32)
    logits[0, label] = 20.0
    const = g.init("logits", logits)
    return g.op("Softmax", [g.op("Add", [g.op("Mul", [mean, zero]), const])], "probabilities", axis=1)


def write_first_confident_heads(out_dir, prefix, n, channels, feat_shape, rng):
    """exit-1 always confident (class 7), exits 2..n never (max < 0.2)."""
    for k in range(n):
        g = Graph(f"{prefix}_exit_{k + 1}")
        if k == 0:
            confident_head(g, "feature")
        else:
            uncertain_head(g, "feature", channels, rng)
        g.save(os.path.join(out_dir, f"exit-{k + 1}.onnx"), "feature", feat_shape,
               "probabilities", ["N", 10])


def base_manifest(name, description, seg_shapes, thresholds):
    return {
        "name": name,
        "version": "1",
        "description": description,
        "input": {"name": "input", "datatype": "FP32", "shape": [-1, 1, 28, 28]},
        "output": {"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]},
        "labels": [str(d) for d in range(10)],
        "segments": [
            {"file": f"segment-{k + 1}.onnx", "output_shape": [-1] + list(s)}
            for k, s in enumerate(seg_shapes)
        ],
        "exits": [
            {"file": f"exit-{k + 1}.onnx", "after_segment": k, "threshold": t}
            for k, t in enumerate(thresholds)
        ],
    }


def clean(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for fn in os.listdir(out_dir):
        if fn.endswith(".onnx"):
            os.remove(os.path.join(out_dir, fn))


# ----------------------------------------------------------------------------- models
def make_slow_exit():
    cfg = SLOW_EXIT
    c, hw, n = cfg["channels"], cfg["size"], cfg["segments"]
    out_dir = os.path.join(FIXTURES, "slow-exit")
    clean(out_dir)
    rng = np.random.default_rng(SEED)
    shared = he_weight(rng, c, c)
    feat_shape = ["N", c, hw, hw]
    for k in range(n):
        g = Graph(f"slow_exit_segment_{k + 1}")
        w = g.init("shared_w", shared)
        if k == 0:
            x = g.conv_tanh("input", g.init("stem_w", he_weight(rng, c, 1)))
            x = g.upsample(x, hw // 28)  # [N,c,28,28] -> [N,c,hw,hw]
            in_name, in_shape = "input", ["N", 1, 28, 28]
        else:
            x, in_name, in_shape = "feature_in", "feature_in", feat_shape
        convs = cfg["convs_per_segment"][k]
        for i in range(convs):
            x = g.conv_tanh(x, w, "feature" if i == convs - 1 else None)
        g.save(os.path.join(out_dir, f"segment-{k + 1}.onnx"), in_name, in_shape, "feature", feat_shape)

    write_first_confident_heads(out_dir, "slow_exit", n, c, feat_shape, rng)

    manifest = base_manifest(
        "slow-exit",
        "Test fixture (untrained): 5 slow segments (~30-60 ms each on one CPU thread); exit 0 always "
        "answers class 7 with confidence > 0.999, the other exits never exceed 0.2. Generated by "
        "training/make_test_models.py",
        [[c, hw, hw]] * n,
        [0.9] * (n - 1) + [0],
    )
    write_manifest(os.path.join(out_dir, "manifest.json"), manifest)
    return out_dir


def make_slow_head():
    cfg = SLOW_HEAD
    c, hw, n, fc = cfg["channels"], cfg["size"], cfg["segments"], cfg["feature_channels"]
    out_dir = os.path.join(FIXTURES, "slow-head")
    clean(out_dir)
    rng = np.random.default_rng(SEED + 1)
    feat_shape = ["N", fc, 28, 28]
    for k in range(n):
        g = Graph(f"slow_head_segment_{k + 1}")
        if k == 0:
            w = g.init("w", he_weight(rng, fc, 1))
            in_name, in_shape = "input", ["N", 1, 28, 28]
        else:
            w = g.init("w", he_weight(rng, fc, fc))
            in_name, in_shape = "feature_in", feat_shape
        g.conv_tanh(in_name, w, "feature")
        g.save(os.path.join(out_dir, f"segment-{k + 1}.onnx"), in_name, in_shape, "feature", feat_shape)

    for k in range(n):
        g = Graph(f"slow_head_exit_{k + 1}")
        shared = g.init("shared_w", he_weight(rng, c, c))
        x = g.conv_tanh("feature", g.init("stem_w", he_weight(rng, c, fc)))
        x = g.upsample(x, hw // 28)  # [N,c,28,28] -> [N,c,hw,hw] (inside the head only)
        for _ in range(cfg["convs_per_head"]):
            x = g.conv_tanh(x, shared)
        uncertain_head(g, x, c, rng)
        g.save(os.path.join(out_dir, f"exit-{k + 1}.onnx"), "feature", feat_shape,
               "probabilities", ["N", 10])

    manifest = base_manifest(
        "slow-head",
        "Test fixture (untrained): 3 tiny segments (< 1 ms), 3 slow exit heads (~80-150 ms each on "
        "one CPU thread) that never exceed confidence 0.2. Generated by training/make_test_models.py",
        [[fc, 28, 28]] * n,
        [0.9] * (n - 1) + [0],
    )
    write_manifest(os.path.join(out_dir, "manifest.json"), manifest)
    return out_dir


def make_slow_segment():
    cfg = SLOW_SEGMENT
    c, hw, n, fc = cfg["channels"], cfg["size"], cfg["segments"], cfg["feature_channels"]
    out_dir = os.path.join(FIXTURES, "slow-segment")
    clean(out_dir)
    rng = np.random.default_rng(SEED + 2)
    shared = he_weight(rng, c, c)
    feat_shape = ["N", fc, 28, 28]
    for k in range(n):
        g = Graph(f"slow_segment_segment_{k + 1}")
        w = g.init("shared_w", shared)
        if k == 0:
            in_name, in_shape, cin = "input", ["N", 1, 28, 28], 1
        else:
            in_name, in_shape, cin = "feature_in", feat_shape, fc
        x = g.conv_tanh(in_name, g.init("stem_w", he_weight(rng, c, cin)))
        x = g.upsample(x, hw // 28)  # [N,c,28,28] -> [N,c,hw,hw] (inside the segment only)
        for _ in range(cfg["convs_per_segment"]):
            x = g.conv_tanh(x, w)
        pool = hw // 28
        x = g.op("AveragePool", [x], kernel_shape=[pool, pool], strides=[pool, pool])  # back to 28x28
        g.conv_tanh(x, g.init("out_w", he_weight(rng, fc, c)), "feature")
        g.save(os.path.join(out_dir, f"segment-{k + 1}.onnx"), in_name, in_shape, "feature", feat_shape)

    write_first_confident_heads(out_dir, "slow_segment", n, fc, feat_shape, rng)

    manifest = base_manifest(
        "slow-segment",
        "Test fixture (untrained): 3 slow segments (~200 ms each on one CPU thread) handing off a "
        "small feature [N,16,28,28]; exit 0 always answers class 7 with confidence > 0.999, exit 1 "
        "never exceeds 0.2, exit 2 is final; all exit heads are fast. Generated by "
        "training/make_test_models.py",
        [[fc, 28, 28]] * n,
        [0.9] * (n - 1) + [0],
    )
    write_manifest(os.path.join(out_dir, "manifest.json"), manifest)
    return out_dir


# ----------------------------------------------------------------------------- timing + README
def measure(out_dir, runs):
    res = subprocess.run(
        ["node", os.path.join(ROOT, "training", "time_model.js"), out_dir, "--runs", str(runs), "--json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def file_sizes(out_dir):
    return {fn: os.path.getsize(os.path.join(out_dir, fn))
            for fn in sorted(os.listdir(out_dir)) if fn.endswith(".onnx")}


def fmt(ms):
    return ", ".join(f"{t:g}" for t in ms)


def machine():
    """'2-core AMD EPYC dev machine' style description of this machine, for the READMEs."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        if names:
            model = re.sub(r"\((R|TM)\)", "", names[0])
            model = re.sub(r"\s+(\d+-Core\s+)?(Processor|CPU).*$", "", model).strip()
    except OSError:
        pass
    return f"{os.cpu_count()}-core {model} dev machine"


def write_readme(out_dir, purpose, timing):
    sizes = file_sizes(out_dir)
    mp = timing["max_prob"]
    text = (
        f"# {os.path.basename(out_dir)} (test fixture)\n\n"
        f"{purpose} Untrained: generated by `/usr/bin/python3 training/make_test_models.py` with the "
        "onnx helper API (opset 13, IR 8, fixed seed; the slow parts are Tanh-bounded 3x3 conv chains "
        "sharing one weight initializer per file, so files stay small: "
        f"{min(sizes.values()) / 1024:.1f}-{max(sizes.values()) / 1024:.0f} KB). "
        "IO names as in branchy-mnist: segment 1 `input` -> `feature`, later segments `feature_in` -> "
        "`feature`, exits `feature` -> `probabilities` [N,10]. "
        f"Timed by `node training/time_model.js {os.path.relpath(out_dir, ROOT)}` (onnxruntime-node "
        f"1.30, 1 thread, batch 1, median of {timing['runs']}, {machine()}): "
        f"segments {fmt(timing['segments_ms'])} ms; exit heads {fmt(timing['exits_ms'])} ms; "
        f"max softmax probability per exit {fmt(mp['random'])} on random pixels "
        "(same pattern on zeros, ones and +-1000).\n"
    )
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(text)


PURPOSES = {
    "slow-exit": "For tests of early exit and trunk cancellation: 5 segments of ~30-60 ms each "
                 "(feature [N,64,56,56], 800 KB at batch 1); exit head 1 (after segment 1) always "
                 "answers class 7 with max probability > 0.999, so a task must finish long before "
                 "the trunk's 5 segments would and the trunk must stop between segments; exits 2-5 "
                 "are fast and nearly uniform (max < 0.2).",
    "slow-head": "For tests where exit heads are the slow part: 3 tiny segments (< 1 ms, feature "
                 "[N,8,28,28]) and 3 exit heads of ~80-150 ms each that are never confident (max "
                 "probability < 0.2), so the final exit always answers and inline (serial) heads "
                 "cost far more than branch (parallel) heads or skipping them.",
    "slow-segment": "For tests where each trunk segment is slow but the hand-off is cheap: 3 segments "
                    "of ~200 ms each (feature [N,16,28,28], 50 KB at batch 1); exit head 1 (after "
                    "segment 1) always answers class 7 with max probability > 0.999, exit head 2 "
                    "never exceeds 0.2, exit head 3 is the final exit (threshold 0); all heads are "
                    "fast (< 5 ms).",
}


def check(name, timing):
    mp = timing["max_prob"]
    segs, exits = timing["segments_ms"], timing["exits_ms"]
    confident_first = name in ("slow-exit", "slow-segment")
    problems = []
    for inp, probs in mp.items():
        early = probs[1:-1] if confident_first else probs[:-1]
        if confident_first and probs[0] <= 0.999:
            problems.append(f"exit 0 not confident on {inp}: {probs[0]}")
        if any(p >= 0.2 for p in early + probs[-1:]):
            problems.append(f"an uncertain exit reached 0.2 on {inp}: {probs}")
    if name == "slow-exit" and not all(30 <= t <= 60 for t in segs):
        problems.append(f"segment times {segs} outside 30-60 ms")
    if name == "slow-head":
        if not all(t < 1 for t in segs):
            problems.append(f"segment times {segs} not < 1 ms")
        if not all(80 <= t <= 150 for t in exits):
            problems.append(f"head times {exits} outside 80-150 ms")
    if name == "slow-segment":
        if not all(150 <= t <= 300 for t in segs):
            problems.append(f"segment times {segs} outside 150-300 ms")
        if not all(t < 5 for t in exits):
            problems.append(f"head times {exits} not < 5 ms")
    return problems


BUILDERS = {"slow-exit": make_slow_exit, "slow-head": make_slow_head, "slow-segment": make_slow_segment}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-time", action="store_true", help="skip the node timing and READMEs")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--only", action="append", choices=sorted(BUILDERS), metavar="NAME",
                    help="build (and time) only this package; repeatable (default: all)")
    args = ap.parse_args()
    dirs = {name: build() for name, build in BUILDERS.items() if not args.only or name in args.only}
    status = 0
    for name, out_dir in dirs.items():
        sizes = file_sizes(out_dir)
        print(f"{name}: " + ", ".join(f"{k} {v} B" for k, v in sizes.items()))
        assert max(sizes.values()) < 300 * 1024
        if args.no_time:
            continue
        timing = measure(out_dir, args.runs)
        print(f"  segments ms: {timing['segments_ms']}\n  exits ms:    {timing['exits_ms']}")
        for inp, probs in timing["max_prob"].items():
            print(f"  max prob ({inp}): {probs}")
        problems = check(name, timing)
        for p in problems:
            print(f"  WARNING: {p}")
        status |= bool(problems)
        write_readme(out_dir, PURPOSES[name], timing)
    return status


if __name__ == "__main__":
    sys.exit(main())
