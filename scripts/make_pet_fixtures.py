#!/usr/bin/env python3
"""A LoRA adapter in Hugging Face PEFT's saved format on top of test/fixtures/models/tiny-bert, with
reference logits, for plmkit's PET tests. No peft package is needed: LoRA is implemented here per PEFT's
semantics (peft/tuners/lora/layer.py: result = base(x) + lora_B(lora_A(dropout(x))) * lora_alpha / r;
lora_A kaiming_uniform_(a=sqrt(5)), lora_B zeros at init, here random as after training) and the files
follow peft/utils/save_and_load.py (adapter name removed from the keys; the modules_to_save classifier
saved as base_model.model.classifier.*) and PeftModel.save_pretrained (inference_mode true).

Run: /usr/bin/python3 scripts/make_pet_fixtures.py  (Debian python3 with python3-torch)
Writes test/fixtures/pet/tiny-bert-lora/{adapter_config.json, adapter_model.safetensors, reference.json}
(then `npx prettier --write test/fixtures/pet`, as for the other JSON fixtures).
"""
import json
import math
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_parity_fixtures as mpf  # noqa: E402  (the independent BERT forward pass)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BASE = os.path.join(ROOT, "test", "fixtures", "models", "tiny-bert")
OUT = os.path.join(ROOT, "test", "fixtures", "pet", "tiny-bert-lora")

R, ALPHA, DROPOUT = 4, 8, 0.1
TARGETS = ["query", "value", "intermediate.dense"]
PATHS = {"query": "attention.self.query", "value": "attention.self.value", "intermediate.dense": "intermediate.dense"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
        out[name] = t.clone()
    return out


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(4321)
    with open(os.path.join(BASE, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(BASE, "reference.json")) as f:
        base_ref = json.load(f)
    p = read_safetensors(os.path.join(BASE, "model.safetensors"))
    h, inter, n_labels = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_labels"]
    dims = {"query": (h, h), "value": (h, h), "intermediate.dense": (h, inter)}

    lora = {}  # module path -> (A [r, in], B [out, r])
    for l in range(cfg["num_hidden_layers"]):
        for t in TARGETS:
            fan_in, fan_out = dims[t]
            a = torch.empty(R, fan_in)
            torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
            b = torch.randn(fan_out, R) * 0.2  # nonzero, as after training
            lora[f"bert.encoder.layer.{l}.{PATHS[t]}"] = (a, b)
    # The task head (PEFT's modules_to_save copy of the classifier), trained: random here.
    head = {"classifier.weight": torch.randn(n_labels, h) * 0.2, "classifier.bias": torch.randn(n_labels) * 0.2}

    base_linear = mpf.linear
    scaling = ALPHA / R

    def lora_linear(x, params, name):
        y = base_linear(x, params, name)
        if name in lora:
            a, b = lora[name]
            y = y + (x @ a.T) @ b.T * scaling  # eval mode: lora_dropout is the identity
        return y

    mpf.linear = lora_linear
    params = {**p, **head}
    B, S = base_ref["batch"], base_ref["seq"]
    ids = torch.tensor(base_ref["input_ids"]).reshape(B, S)
    mask = torch.tensor(base_ref["attention_mask"]).reshape(B, S)
    types = torch.tensor(base_ref["token_type_ids"]).reshape(B, S)
    with torch.no_grad():
        logits, _ = mpf.forward(params, cfg, "bert", ids, mask, types)
    mpf.linear = base_linear

    os.makedirs(OUT, exist_ok=True)
    tensors = {}
    for path, (a, b) in lora.items():
        tensors[f"base_model.model.{path}.lora_A.weight"] = a
        tensors[f"base_model.model.{path}.lora_B.weight"] = b
    for k, v in head.items():
        tensors[f"base_model.model.{k}"] = v
    write_safetensors(os.path.join(OUT, "adapter_model.safetensors"), tensors, {"format": "pt"})
    adapter_config = {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": "test/fixtures/models/tiny-bert",
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": ALPHA,
        "lora_dropout": DROPOUT,
        "modules_to_save": ["classifier", "score"],
        "peft_type": "LORA",
        "r": R,
        "rank_pattern": {},
        "revision": None,
        "target_modules": TARGETS,
        "task_type": "SEQ_CLS",
        "use_dora": False,
        "use_rslora": False,
    }
    with open(os.path.join(OUT, "adapter_config.json"), "w") as f:
        json.dump(adapter_config, f, indent=2, sort_keys=True)
        f.write("\n")
    ref = {k: base_ref[k] for k in ["input_ids", "attention_mask", "token_type_ids", "batch", "seq"]}
    ref["logits"] = logits.flatten().tolist()
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
