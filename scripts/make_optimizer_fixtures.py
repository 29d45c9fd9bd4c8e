#!/usr/bin/env python3
"""Reference optimizer trajectories from PyTorch for plmkit's optimizer tests.

A toy loss over four parameters named as plmkit's models name them (a dense weight and bias, a LayerNorm
weight, an embedding table looked up with repeated rows), with a term nonlinear in the weight, trained for
6 steps at changing learning rates by torch.optim.AdamW (Hugging Face Trainer's parameter groups: no
weight decay for biases and LayerNorm weights) and torch.optim.SGD, with and without
torch.nn.utils.clip_grad_norm_. The inputs are drawn here and stored with the results.

Run: /usr/bin/python3 scripts/make_optimizer_fixtures.py  (Debian python3 with python3-torch)
Writes test/fixtures/optimizer/torch-trajectories.json (then `npx prettier --write test/fixtures/optimizer`).
"""
import json
import os
import random

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "optimizer", "torch-trajectories.json")

SHAPES = {"dense.weight": [4, 3], "dense.bias": [3], "encoder.LayerNorm.weight": [3], "embeddings.weight": [6, 3]}
LRS = [0.01, 0.02, 0.03, 0.025, 0.015, 0.005]
# name -> (optimizer, its options, clip norm or None)
CASES = {
    "adamw-clip": ("adamw", {"weight_decay": 0.01}, 1.0),
    "adamw-decay-eps": ("adamw", {"weight_decay": 0.3, "eps": 1e-3}, None),
    "sgd-momentum-clip": ("sgd", {"momentum": 0.9, "weight_decay": 0.01}, 1.0),
    "sgd": ("sgd", {}, None),
}


def uniform(n, scale=1.0):
    return [random.uniform(-scale, scale) for _ in range(n)]


def loss_of(p, b):
    w, bias, ln, emb = (p[k] for k in SHAPES)
    x = {k: torch.tensor(v) for k, v in b.items() if k != "ids"}
    return (
        (w * x["w"].reshape(4, 3)).sum()
        + (bias * x["bias"]).sum()
        + (ln * x["ln"]).sum()
        + (emb[torch.tensor(b["ids"])] * x["emb"].reshape(5, 3)).sum()
        + 0.5 * (w * w).sum()
    )


def trajectory(init, batches, kind, options, clip):
    p = {k: torch.tensor(v, dtype=torch.float32).reshape(SHAPES[k]).requires_grad_() for k, v in init.items()}
    if kind == "adamw":
        no_decay = [v for k, v in p.items() if k.endswith("bias") or "LayerNorm" in k]
        decay = [v for k, v in p.items() if not (k.endswith("bias") or "LayerNorm" in k)]
        wd = options.get("weight_decay", 0.0)
        groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=0.0, eps=options.get("eps", 1e-8))
    else:
        opt = torch.optim.SGD(list(p.values()), lr=0.0, **options)
    losses, norms = [], []
    for lr, b in zip(LRS, batches):
        opt.zero_grad()
        loss = loss_of(p, b)
        loss.backward()
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(list(p.values()), clip)
        else:
            norm = torch.sqrt(sum((v.grad**2).sum() for v in p.values()))
        losses.append(float(loss))
        norms.append(float(norm))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
    return {"losses": losses, "grad_norms": norms, "params": {k: v.detach().reshape(-1).tolist() for k, v in p.items()}}


def main():
    random.seed(1)
    init = {
        "dense.weight": uniform(12),
        "dense.bias": uniform(3),
        "encoder.LayerNorm.weight": [1 + x for x in uniform(3, 0.2)],
        "embeddings.weight": uniform(18),
    }
    batches = [
        {"w": uniform(12, 3), "bias": uniform(3, 3), "ln": uniform(3, 3), "ids": [random.randrange(6) for _ in range(5)], "emb": uniform(15, 3)}
        for _ in LRS
    ]
    batches[0]["ids"] = [1, 1, 4, 1, 0]  # repeated rows: their gradients add up
    cases = {}
    for name, (kind, options, clip) in CASES.items():
        cases[name] = {"optimizer": kind, "options": options, "clip_norm": clip, **trajectory(init, batches, kind, options, clip)}
    out = {"torch": torch.__version__, "lrs": LRS, "init": init, "batches": batches, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
