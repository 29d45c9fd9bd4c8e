#!/usr/bin/env python3
"""Tiny random BERT and RoBERTa checkpoints with reference outputs from an independent PyTorch
implementation of Hugging Face's BertForSequenceClassification / RobertaForSequenceClassification
(eval mode), for plmkit's parity tests.

Run: /usr/bin/python3 scripts/make_parity_fixtures.py test/fixtures/models  (Debian python3 with python3-torch)
Needs only PyTorch (Debian: apt-get install python3-torch). Writes, per model, a Hugging Face layout
directory (config.json, model.safetensors with HF names and [out, in] linear weights) and
reference.json (inputs, logits, every hidden state).
"""
import json
import math
import os
import struct
import sys

import torch

torch.manual_seed(1234)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
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


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def make_params(cfg, kind):
    h, i, std = cfg["hidden_size"], cfg["intermediate_size"], 0.2
    p = {}

    def rnd(*shape):
        return torch.randn(*shape) * std

    e = f"{kind}.embeddings"
    p[f"{e}.word_embeddings.weight"] = rnd(cfg["vocab_size"], h)
    p[f"{e}.position_embeddings.weight"] = rnd(cfg["max_position_embeddings"], h)
    p[f"{e}.token_type_embeddings.weight"] = rnd(cfg["type_vocab_size"], h)
    p[f"{e}.LayerNorm.weight"] = 1 + rnd(h)
    p[f"{e}.LayerNorm.bias"] = rnd(h)
    for l in range(cfg["num_hidden_layers"]):
        q = f"{kind}.encoder.layer.{l}"
        for n in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
            p[f"{q}.{n}.weight"] = rnd(h, h)
            p[f"{q}.{n}.bias"] = rnd(h)
        p[f"{q}.attention.output.LayerNorm.weight"] = 1 + rnd(h)
        p[f"{q}.attention.output.LayerNorm.bias"] = rnd(h)
        p[f"{q}.intermediate.dense.weight"] = rnd(i, h)
        p[f"{q}.intermediate.dense.bias"] = rnd(i)
        p[f"{q}.output.dense.weight"] = rnd(h, i)
        p[f"{q}.output.dense.bias"] = rnd(h)
        p[f"{q}.output.LayerNorm.weight"] = 1 + rnd(h)
        p[f"{q}.output.LayerNorm.bias"] = rnd(h)
    n = cfg["num_labels"]
    if kind == "bert":
        p["bert.pooler.dense.weight"] = rnd(h, h)
        p["bert.pooler.dense.bias"] = rnd(h)
        p["classifier.weight"] = rnd(n, h)
        p["classifier.bias"] = rnd(n)
    else:
        p["classifier.dense.weight"] = rnd(h, h)
        p["classifier.dense.bias"] = rnd(h)
        p["classifier.out_proj.weight"] = rnd(n, h)
        p["classifier.out_proj.bias"] = rnd(n)
    return p


def forward(p, cfg, kind, ids, mask, types):
    h, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    dh = h // heads
    B, S = ids.shape
    if kind == "bert":
        pos = torch.arange(S).unsqueeze(0).expand(B, S)
    else:
        pad = cfg["pad_token_id"]
        real = (ids != pad).long()
        pos = torch.cumsum(real, 1) * real + pad
    e = f"{kind}.embeddings"
    x = p[f"{e}.word_embeddings.weight"][ids] + p[f"{e}.position_embeddings.weight"][pos]
    x = x + p[f"{e}.token_type_embeddings.weight"][types]
    x = layer_norm(x, p[f"{e}.LayerNorm.weight"], p[f"{e}.LayerNorm.bias"], eps)
    states = [x]
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for l in range(cfg["num_hidden_layers"]):
        q = f"{kind}.encoder.layer.{l}"

        def split(t):
            return t.view(B, S, heads, dh).transpose(1, 2)

        qh = split(linear(x, p, f"{q}.attention.self.query"))
        kh = split(linear(x, p, f"{q}.attention.self.key"))
        vh = split(linear(x, p, f"{q}.attention.self.value"))
        scores = qh @ kh.transpose(-1, -2) / math.sqrt(dh) + bias
        ctx = (torch.softmax(scores, -1) @ vh).transpose(1, 2).reshape(B, S, h)
        a = layer_norm(
            linear(ctx, p, f"{q}.attention.output.dense") + x,
            p[f"{q}.attention.output.LayerNorm.weight"],
            p[f"{q}.attention.output.LayerNorm.bias"],
            eps,
        )
        f = linear(gelu(linear(a, p, f"{q}.intermediate.dense")), p, f"{q}.output.dense")
        x = layer_norm(f + a, p[f"{q}.output.LayerNorm.weight"], p[f"{q}.output.LayerNorm.bias"], eps)
        states.append(x)
    cls = x[:, 0]
    if kind == "bert":
        logits = linear(torch.tanh(linear(cls, p, "bert.pooler.dense")), p, "classifier")
    else:
        logits = linear(torch.tanh(linear(cls, p, "classifier.dense")), p, "classifier.out_proj")
    return logits, states


def config(kind):
    base = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "vocab_size": 99,
    }
    if kind == "bert":
        return {**base, "model_type": "bert", "architectures": ["BertForSequenceClassification"],
                "max_position_embeddings": 64, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
                "pad_token_id": 0, "id2label": {"0": "a", "1": "b", "2": "c"},
                "label2id": {"a": 0, "b": 1, "c": 2}, "num_labels": 3}
    return {**base, "model_type": "roberta", "architectures": ["RobertaForSequenceClassification"],
            "max_position_embeddings": 66, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
            "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
            "id2label": {"0": "negative", "1": "positive"}, "label2id": {"negative": 0, "positive": 1}, "num_labels": 2}


def main(out):
    for kind in ["bert", "roberta"]:
        cfg = config(kind)
        p = make_params(cfg, kind)
        pad = cfg["pad_token_id"]
        B, S = 3, 7
        ids = torch.randint(3, cfg["vocab_size"], (B, S))
        lengths = [7, 5, 3]
        mask = torch.zeros(B, S, dtype=torch.long)
        for r, n in enumerate(lengths):
            mask[r, :n] = 1
            ids[r, n:] = pad
        types = torch.zeros(B, S, dtype=torch.long)
        if kind == "bert":
            types[0, 4:] = 1  # a sentence pair in the first row
        with torch.no_grad():
            logits, states = forward(p, cfg, kind, ids, mask, types)
        d = os.path.join(out, f"tiny-{kind}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        write_safetensors(os.path.join(d, "model.safetensors"), p)
        ref = {
            "input_ids": ids.flatten().tolist(),
            "attention_mask": mask.flatten().tolist(),
            "token_type_ids": types.flatten().tolist(),
            "batch": B,
            "seq": S,
            "logits": logits.flatten().tolist(),
            "hidden_states": [s.flatten().tolist() for s in states],
        }
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f)
        print("wrote", d)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/models")
