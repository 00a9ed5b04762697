#!/usr/bin/python3
"""PyTorch twin of comet_train's recommender and vision models (issue 8): the same architecture, initialisation
distributions, losses, optimiser, training loop and metrics, trained on the splits comet_train exports with
--export-data, so that our final test metrics can be compared with a reference framework's over several seeds
(bench/run_twin_comparison.sh runs both and bench/twin_table.py compares them).

What is matched (files of the engine in brackets):
  * recommender [models/mmoe.cpp, data/registry.cpp]: one embedding table per id column, U(-0.05, 0.05), the
    embeddings concatenated (then any dense features) -> n experts Dense(h) + ReLU + Dropout(p) (inverted dropout,
    training only) -> per task a gate and the convex mixture -> tower Dense(256) + ReLU -> Dense(outputs).
  * vision [moe/cnn_experts.cpp]: n CNN experts conv 5x5/10 + ReLU + maxpool 2, conv 5x5/20 + ReLU + maxpool 2,
    flatten, Dense(50) + ReLU, Dense(50) + ReLU -> towers Dense(50) + ReLU, Dense(50) + ReLU, Dense(classes).
    The gate routes on the flattened image.
  * initialisation [nn/mlp.h, moe/experts.cpp, moe/cnn_experts.cpp]: dense and conv weights and biases
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's nn.Linear / nn.Conv2d defaults); gate logits Glorot-uniform
    U(-sqrt(6/(d+n)), sqrt(6/(d+n))) with a zero bias [moe/gate_topk.cpp].
  * gates: topk = keep the k largest logits (by index), softmax over them, zeros elsewhere; softmax = dense softmax.
    No noise, no load-balancing loss (the engine's defaults). The MoE is computed densely (every expert on every
    sample, weighted by the gate matrix whose unselected entries are exactly 0): the same function and the same
    gradients as the engine's sparse dispatch (unselected experts get exactly zero gradient from a sample).
  * losses [train/loss.cpp, autograd/ops_loss.cpp]: binary = BCE with logits, mean over the batch; regression = MSE
    over the rows whose mask is 1, divided by their count (0 when none); multiclass = cross-entropy, mean over the
    batch; total = sum_t w_t * loss_t.
  * training [train/train.cpp, optim/optimizer.h]: Adam (beta1 0.9, beta2 0.999, eps 1e-8, no weight decay: the
    engine's and PyTorch's defaults), a fresh random permutation of the training rows every epoch, batches of
    `batch` rows dropping the last partial one, validation before training (epoch 0, a candidate for the best) and
    after every epoch, early stopping when epoch - best_epoch > patience, the best weights restored, then the test
    split evaluated.
  * metrics [train/evaluate.cpp]: per task the loss (BCE / CE mean over rows, MSE over observed rows), binary: ROC
    AUC (sklearn.metrics.roc_auc_score, when both classes occur) and accuracy (logit > 0), multiclass: accuracy
    (argmax), regression: mse (= its loss). The validation loss for early stopping is sum_t w_t * loss_t.

Seeds: torch.manual_seed(seed) for the weights, dropout and shuffling; the numbers are not bit-identical to the
engine's (different random streams), so the comparison is statistical over seeds.

Run: /usr/bin/python3 bench/torch_twin.py DATA_DIR --model recommender|vision --gate topk|softmax --experts N --k K
     --batch B --lr LR --epochs E --patience P --task-weights w1,w2 --seed S --threads T --out summary.json
     [--embedding 128 --expert-hidden 256 --dropout 0.5]  (recommender sizes; the defaults are MovieLens')
If torch is not installed it prints a skip message and exits 0.
"""
import argparse
import json
import math
import os
import sys
import time

import torch_blas

os.environ.pop("OPENBLAS_CORETYPE", None)  # before torch loads its BLAS (as bench/torch_moe_baseline.py)

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:
    print(f"torch_twin: PyTorch or numpy is not installed ({e}); skipping the PyTorch twin.")
    sys.exit(0)


def uniform_(t, bound):
    with torch.no_grad():
        t.uniform_(-bound, bound)
    return t


def param(shape, bound):
    return nn.Parameter(uniform_(torch.empty(*shape), bound))


class Linear(nn.Module):
    """x W + b with W, b ~ U(-1/sqrt(in), 1/sqrt(in)) (nn/mlp.h; PyTorch's nn.Linear default)."""

    def __init__(self, d_in, d_out):
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = param((d_in, d_out), bound)
        self.bias = param((d_out,), bound)

    def forward(self, x):
        return torch.addmm(self.bias, x, self.weight)


class Tower(nn.Module):
    """sizes = [in, hidden..., out]: ReLU between layers, none after the last (nn::Mlp without dropout)."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class MlpExperts(nn.Module):
    """n experts Dense(h1) + ReLU (+ dropout) ... (moe/experts.cpp, relu_last), all run on all rows: [B, n, h]."""

    def __init__(self, n, sizes, dropout):
        super().__init__()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(a)
            self.weights.append(param((n, a, b), bound))
            self.biases.append(param((n, b), bound))
        self.dropout = dropout
        self.output_dim = sizes[-1]

    def forward(self, x):  # x [B, d] or [B, n, d]
        h = x
        for w, b in zip(self.weights, self.biases):
            h = (torch.einsum("bd,ndh->bnh", h, w) if h.dim() == 2 else torch.einsum("bnd,ndh->bnh", h, w)) + b
            h = F.relu(h)
            if self.dropout > 0:
                h = F.dropout(h, self.dropout, self.training)  # inverted dropout, as ag::dropout
        return h


class CnnExperts(nn.Module):
    """n CNN experts (moe/cnn_experts.cpp): per expert conv k x k / f1 + ReLU + maxpool 2, conv / f2 + ReLU + maxpool 2,
    flatten, then the dense layers (ReLU after each). The n experts' convs run as one grouped convolution."""

    def __init__(self, n, image, filters=(10, 20), kernel=5, dense=(50, 50)):
        super().__init__()
        self.n, self.image, self.kernel = n, image, kernel
        c, h, w = image
        self.conv_w = nn.ParameterList()
        self.conv_b = nn.ParameterList()
        channels = c
        for f in filters:
            bound = 1.0 / math.sqrt(channels * kernel * kernel)
            self.conv_w.append(param((n, f, channels, kernel, kernel), bound))
            self.conv_b.append(param((n, f), bound))
            channels = f
            h, w = (h - kernel + 1) // 2, (w - kernel + 1) // 2
        self.dense = MlpExperts(n, [filters[-1] * h * w] + list(dense), 0.0)
        self.output_dim = dense[-1]

    def forward(self, x):  # x [B, C*H*W]
        B, n = x.shape[0], self.n
        c, h, w = self.image
        z = x.reshape(B, c, h, w)
        for layer, (wt, bs) in enumerate(zip(self.conv_w, self.conv_b)):
            f, cin = wt.shape[1], wt.shape[2]
            if layer == 0:  # every expert reads the same image: one convolution with n * f output channels
                z = F.conv2d(z, wt.reshape(n * f, cin, self.kernel, self.kernel), bs.reshape(n * f))
            else:  # expert e's channels only: groups = n
                z = F.conv2d(z, wt.reshape(n * f, cin, self.kernel, self.kernel), bs.reshape(n * f), groups=n)
            z = F.max_pool2d(F.relu(z), 2)
        feats = z.reshape(B, n, -1)  # expert e's channels (C, H, W) row-major, as ag::flatten
        return self.dense(feats)


class Gate(nn.Module):
    """Top-k or dense softmax gate on logits x W + b, W Glorot-uniform, b = 0 (moe/gate_topk.cpp)."""

    def __init__(self, d, n, k, kind):
        super().__init__()
        self.weight = param((d, n), math.sqrt(6.0 / (d + n)))
        self.bias = nn.Parameter(torch.zeros(n))
        self.k, self.kind = k, kind

    def forward(self, x):
        h = torch.addmm(self.bias, x, self.weight)
        if self.kind == "softmax":
            return torch.softmax(h, dim=1)
        top, index = torch.topk(h, self.k, dim=1)  # by index, never by value (spec 5.2)
        return torch.zeros_like(h).scatter(1, index, torch.softmax(top, dim=1))


class Twin(nn.Module):
    def __init__(self, meta, args, dense_dim):
        super().__init__()
        self.tasks = meta["tasks"]
        self.vocab = meta.get("vocab") or []
        if args.model == "recommender":
            self.embeddings = nn.ParameterList(param((v, args.embedding), 0.05) for v in self.vocab)
            d = args.embedding * len(self.vocab) + dense_dim
            self.experts = MlpExperts(args.experts, [d, args.expert_hidden], args.dropout)
            tower_hidden = [256]
        else:
            self.embeddings = nn.ParameterList()
            image = meta["image"]
            d = dense_dim
            assert image and image[0] * image[1] * image[2] == d, f"image {image} does not fit {d} features"
            self.experts = CnnExperts(args.experts, image)
            tower_hidden = [50, 50]
        self.gates = nn.ModuleList(Gate(d, args.experts, args.k, args.gate) for _ in self.tasks)
        outputs = [t["classes"] if t["kind"] == "multiclass" else 1 for t in self.tasks]
        self.towers = nn.ModuleList(Tower([self.experts.output_dim] + tower_hidden + [o]) for o in outputs)

    def encode(self, ids, dense):
        parts = [table[ids[:, f]] for f, table in enumerate(self.embeddings)]
        if dense is not None:
            parts.append(dense)
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def forward(self, ids, dense):
        x = self.encode(ids, dense)
        expert_out = self.experts(x)  # [B, n, h]
        preds = []
        for gate, tower in zip(self.gates, self.towers):
            g = gate(x)  # [B, n]
            mixed = torch.einsum("bn,bnh->bh", g, expert_out)
            preds.append(tower(mixed))
        return preds


def task_losses(tasks, preds, targets, mask):
    """Per task (mean loss, count) as train/loss.cpp."""
    out = []
    for t, (task, p) in enumerate(zip(tasks, preds)):
        y = targets[:, t]
        if task["kind"] == "binary":
            out.append((F.binary_cross_entropy_with_logits(p[:, 0], y), y.shape[0]))
        elif task["kind"] == "multiclass":
            out.append((F.cross_entropy(p, y.long()), y.shape[0]))
        else:
            if mask is None:
                out.append((F.mse_loss(p[:, 0], y), y.shape[0]))
            else:
                m = mask[:, t]
                count = int(m.sum().item())
                se = (m * (p[:, 0] - y) ** 2).sum()
                out.append((se / count if count > 0 else se * 0.0, count))
    return out


def load_split(folder, split, dtype=torch.float32):
    def read(what):
        path = os.path.join(folder, f"{split}_{what}.npy")
        return torch.from_numpy(np.load(path)) if os.path.exists(path) else None

    ids, dense, targets, mask = read("ids"), read("dense"), read("targets"), read("mask")
    return {"ids": ids.long() if ids is not None else None, "dense": dense.to(dtype) if dense is not None else None,
            "targets": targets.to(dtype), "mask": mask.to(dtype) if mask is not None else None}


def rows(d):
    return d["targets"].shape[0]


def part(d, index):
    return {k: (v[index] if v is not None else None) for k, v in d.items()}


def evaluate(model, data, tasks, weights, batch=4096):
    from sklearn.metrics import roc_auc_score

    model.eval()
    sums = [[0.0, 0.0] for _ in tasks]
    logits = [[] for _ in tasks]
    with torch.no_grad():
        for begin in range(0, rows(data), batch):
            b = part(data, slice(begin, min(rows(data), begin + batch)))
            preds = model(b["ids"], b["dense"])
            for t, (loss, count) in enumerate(task_losses(tasks, preds, b["targets"], b["mask"])):
                sums[t][0] += float(loss) * count
                sums[t][1] += count
                logits[t].append(preds[t])
    out = {"loss": 0.0, "tasks": {}}
    y = data["targets"]
    for t, task in enumerate(tasks):
        loss = sums[t][0] / sums[t][1] if sums[t][1] > 0 else 0.0
        m = {"loss": loss}
        p = torch.cat(logits[t]).double()
        if task["kind"] == "binary":
            labels = y[:, t].double()
            m["accuracy"] = float(((p[:, 0] > 0) == (labels == 1)).double().mean())
            if 0 < labels.sum() < labels.numel():
                m["auc"] = float(roc_auc_score(labels.numpy(), p[:, 0].numpy()))
        elif task["kind"] == "multiclass":
            m["accuracy"] = float((p.argmax(dim=1) == y[:, t].long()).double().mean())
        else:
            m["mse"] = loss
        out["tasks"][task["name"]] = m
        out["loss"] += weights[t] * loss
    return out


def comet_permutation(seed, offset, n):
    """comet_train's epoch shuffle (core/rng.cpp Generator::permutation): the rows sorted (stably) by the 64-bit key
    of Philox-4x32-10 words 0 and 1 at key `seed`, counter (stream 3, offset + i)."""
    mask = np.uint64(0xFFFFFFFF)
    lo = np.arange(offset, offset + n, dtype=np.uint64)
    c = [lo & mask, lo >> np.uint64(32), np.full(n, 3, np.uint64), np.zeros(n, np.uint64)]
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c[0], np.uint64(0xCD9E8D57) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & mask, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & mask]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & mask, (k1 + np.uint64(0xBB67AE85)) & mask
    return torch.from_numpy(np.argsort((c[0] << np.uint64(32)) | c[1], kind="stable"))


def load_comet(model, path):
    """Our weights from a comet_train checkpoint (safetensors; layouts as this twin's: Linear [in, out], experts
    [n, in, out], convs [n, O, C, k, k]) into the twin, for checking that both compute the same function."""
    import struct

    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        blob = f.read()
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(blob[begin:end], dtype=dtypes[info["dtype"]]).copy()
                                         .reshape(info["shape"]))
    if "permutation.hard" in tensors:
        hard = tensors.pop("permutation.hard")
        assert torch.equal(hard, torch.arange(hard.numel())), f"{path}: a non-identity expert permutation {hard}"
    tensors.pop("permutation.step", None)
    ours = {}
    for f, table in enumerate(model.embeddings):
        ours[f"embedding.{f}"] = table
    experts = model.experts
    if isinstance(experts, CnnExperts):
        for l, (w, b) in enumerate(zip(experts.conv_w, experts.conv_b)):
            ours[f"experts.conv{l + 1}.weight"], ours[f"experts.conv{l + 1}.bias"] = w, b
        experts = experts.dense
        prefix = "experts.dense."
    else:
        prefix = "experts."
    for l, (w, b) in enumerate(zip(experts.weights, experts.biases)):
        ours[f"{prefix}w{l + 1}"], ours[f"{prefix}b{l + 1}"] = w, b
    for t, (gate, tower) in enumerate(zip(model.gates, model.towers)):
        ours[f"task{t}.gate.0"], ours[f"task{t}.gate.1"] = gate.weight, gate.bias
        for l, layer in enumerate(tower.layers):
            ours[f"task{t}.tower.{l}.weight"], ours[f"task{t}.tower.{l}.bias"] = layer.weight, layer.bias
    assert set(ours) == set(tensors), f"{path}: tensors {sorted(set(tensors) ^ set(ours))} do not match the twin"
    with torch.no_grad():
        for name, p in ours.items():
            assert p.shape == tensors[name].shape, f"{name}: {tuple(tensors[name].shape)} vs the twin's {tuple(p.shape)}"
            p.copy_(tensors[name])


def metrics_line(e):
    line = ""
    for name, m in e["tasks"].items():
        line += f" {name} loss {m['loss']:.4f}"
        if "auc" in m:
            line += f" auc {m['auc']:.4f}"
        if "accuracy" in m:
            line += f" acc {m['accuracy']:.4f}"
    return line


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("--model", choices=["recommender", "vision"], required=True)
    ap.add_argument("--gate", choices=["topk", "softmax"], default="topk")
    ap.add_argument("--experts", type=int, required=True)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--patience", type=int, default=25)
    ap.add_argument("--task-weights", default="0.5,0.5")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--embedding", type=int, default=128, help="recommender: width per id column")
    ap.add_argument("--expert-hidden", type=int, default=256, help="recommender: expert width")
    ap.add_argument("--dropout", type=float, default=0.5, help="recommender: expert dropout")
    ap.add_argument("--out", help="summary.json (test.tasks.<name>.<metric>, as comet_train's)")
    ap.add_argument("--load-comet", metavar="MODEL.safetensors",
                    help="no training: evaluate the test split with comet_train's weights (a run's model.safetensors) "
                         "in the twin; the metrics should equal that run's summary.json up to float rounding")
    ap.add_argument("--init-comet", metavar="MODEL.safetensors",
                    help="train from comet_train's weights (e.g. a checkpoint of --epochs 0 --save) instead of the "
                         "twin's own initialisation, to compare the two trainings from one start")
    ap.add_argument("--float64", action="store_true", help="train and evaluate in double precision (a reference for "
                                                            "how far float32 rounding moves a run)")
    ap.add_argument("--save-npz", metavar="FILE.npz", help="write the final (best) weights, by the twin's names")
    ap.add_argument("--comet-order", action="store_true",
                    help="shuffle as comet_train --seed S does (its Philox permutation per epoch), so that the twin "
                         "sees the same batches in the same order")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    print(f"torch_twin: torch {torch.__version__}, BLAS {torch_blas.describe(torch)}, {torch.get_num_threads()} threads",
          flush=True)

    t0 = time.perf_counter()
    with open(os.path.join(args.data_dir, "meta.json")) as f:
        meta = json.load(f)
    tasks = meta["tasks"]
    weights = [float(w) for w in args.task_weights.split(",")]
    assert len(weights) == len(tasks), f"--task-weights: {len(weights)} weights for {len(tasks)} tasks"
    if args.float64:
        torch.set_default_dtype(torch.float64)
    train, val, test = (load_split(args.data_dir, s, torch.get_default_dtype()) for s in ("train", "val", "test"))
    dense_dim = train["dense"].shape[1] if train["dense"] is not None else 0
    assert args.batch <= rows(train), f"--batch {args.batch} exceeds the {rows(train)} training rows"
    model = Twin(meta, args, dense_dim).to(torch.get_default_dtype())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    print(f"  {args.model}, {args.gate} gate, n = {args.experts}, k = {args.k}; {rows(train)} / {rows(val)} / "
          f"{rows(test)} rows; batch {args.batch}, Adam lr {args.lr:g}, up to {args.epochs} epochs "
          f"(patience {args.patience}); {sum(p.numel() for p in model.parameters())} parameters", flush=True)

    if args.load_comet:
        load_comet(model, args.load_comet)
        test_eval = evaluate(model, test, tasks, weights)
        print(f"comet weights {args.load_comet} | test{metrics_line(test_eval)}", flush=True)
        if args.out:
            with open(args.out, "w") as f:
                json.dump({"test": test_eval, "load_comet": args.load_comet}, f, indent=1)
        return

    if args.init_comet:
        load_comet(model, args.init_comet)

    def snapshot():
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    v = evaluate(model, val, tasks, weights)
    print(f"epoch  0 (init) | val{metrics_line(v)}", flush=True)
    best_epoch, best_loss, best_state = 0, v["loss"], snapshot()
    best_val, stopped_early = v, False
    batches = rows(train) // args.batch
    for epoch in range(1, args.epochs + 1):
        if epoch - best_epoch > args.patience:
            stopped_early = True
            break
        te = time.perf_counter()
        model.train()
        order = comet_permutation(args.seed + 2, (epoch - 1) * rows(train), rows(train)) if args.comet_order \
            else torch.randperm(rows(train))
        total = 0.0
        for b in range(batches):
            batch = part(train, order[b * args.batch:(b + 1) * args.batch])
            preds = model(batch["ids"], batch["dense"])
            loss = sum(w * l for w, (l, _) in zip(weights, task_losses(tasks, preds, batch["targets"], batch["mask"])))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss)
        v = evaluate(model, val, tasks, weights)
        star = ""
        if v["loss"] < best_loss:
            best_epoch, best_loss, best_state, best_val, star = epoch, v["loss"], snapshot(), v, " *"
        print(f"epoch {epoch:2d} train {total / batches:.4f} | val{metrics_line(v)} | "
              f"{time.perf_counter() - te:.1f} s{star}", flush=True)
    model.load_state_dict(best_state)
    if args.save_npz:
        np.savez(args.save_npz, **{k: v.numpy() for k, v in best_state.items()})
    test_eval = evaluate(model, test, tasks, weights)
    seconds = time.perf_counter() - t0
    print(f"best epoch {best_epoch}{' (stopped early)' if stopped_early else ''} | test{metrics_line(test_eval)} | "
          f"{seconds:.1f} s", flush=True)
    if args.out:
        summary = {"best_epoch": best_epoch, "stopped_early": stopped_early, "val": best_val, "test": test_eval,
                   "seconds": seconds, "torch_version": torch.__version__, "blas": loaded_blas(),
                   "threads": torch.get_num_threads(), "config": vars(args)}
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
