#!/usr/bin/env python3
"""Does Python's Hugging Face stack load what plmkit writes, and compute the same thing from it?

Makes, with plmkit's CLI, a fully fine-tuned BERT classifier (from the bundled model), a fully fine-tuned
RoBERTa classifier (from the transformers-written fixture test/fixtures/hf-written/roberta) and a LoRA module
in PEFT's format; loads each with transformers (AutoTokenizer, AutoModelForSequenceClassification) or PEFT
(PeftModel.from_pretrained on the bundled model), and compares the logits with `plmkit predict` on the first
64 sentences of data/sst2-sentence/dev.jsonl. Also loads the bundled model as BertForMaskedLM. Writes
OUT/hf-interop.json and prints a Markdown table.

Run from the repository root with a Python that has torch, transformers and peft:
  python scripts/check_hf_interop.py results/interop [WORK_DIR]
"""
import json
import os
import subprocess
import sys
import tempfile

import peft
import torch
import transformers
from peft import PeftModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForMaskedLM

BUNDLED = "models/plmkit-bert-mini"
DATA = "data/sst2-sentence"
N_TEXTS = 64


def plmkit(*args):
    env = {**os.environ, "PLMKIT_THREADS": "1"}
    r = subprocess.run(["node", "bin/plmkit.js", *args], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"plmkit {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def plmkit_logits(texts_file, model, adapter=None):
    args = ["predict", "--model", model, "--data", texts_file, "--json"]
    if adapter:
        args += ["--adapter", adapter]
    return [json.loads(line)["logits"] for line in plmkit(*args).splitlines() if line.strip()]


def hf_logits(model, tok, texts):
    model.eval()
    # plmkit cuts texts to the position table (RoBERTa's starts after padding_idx); transformers needs
    # max_length for that, as these tokenizers' model_max_length is unset.
    cfg = model.config
    limit = cfg.max_position_embeddings - (cfg.pad_token_id + 1 if cfg.model_type == "roberta" else 0)
    out = []
    with torch.no_grad():
        for t in texts:
            enc = tok(t, return_tensors="pt", truncation=True, max_length=min(512, limit))
            out.append(model(**enc).logits[0].tolist())
    return out


def compare(name, written, loaded_with, ours, theirs, info=None):
    diff = max(abs(a - b) for r, s in zip(ours, theirs) for a, b in zip(r, s))
    agree = sum(
        max(range(len(r)), key=r.__getitem__) == max(range(len(s)), key=s.__getitem__)
        for r, s in zip(ours, theirs)
    )
    row = {
        "check": name,
        "written_by": written,
        "loaded_with": loaded_with,
        "texts": len(ours),
        "max_abs_logit_diff": diff,
        "same_argmax": agree,
    }
    if info is not None:
        row["loading_info"] = {k: sorted(map(str, v)) for k, v in info.items() if k != "error_msgs"}
    return row


def main(out, work=None):
    os.makedirs(out, exist_ok=True)
    # plmkit's runs resume, so a work directory given again is reused.
    work = work or tempfile.mkdtemp(prefix="plmkit-interop-")
    os.makedirs(work, exist_ok=True)
    rows = [json.loads(l) for l in open(os.path.join(DATA, "dev.jsonl"))][:N_TEXTS]
    texts = [r["text"] for r in rows]
    texts_file = os.path.join(work, "texts.jsonl")
    with open(texts_file, "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    budget = ["--data", DATA, "--limit-train", "320", "--epochs", "1", "--batch-size", "32",
              "--max-length", "64", "--keep", "last", "--seed", "0"]
    results = []

    # 1. A BERT classifier fine-tuned (all weights) and written by plmkit.
    bert_dir = os.path.join(work, "bert-full")
    plmkit("finetune", "--out", bert_dir, *budget)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        os.path.join(bert_dir, "last"), output_loading_info=True)
    tok = AutoTokenizer.from_pretrained(os.path.join(bert_dir, "last"))
    results.append(compare("BERT classifier, full fine-tuning", "plmkit finetune", type(model).__name__,
                           plmkit_logits(texts_file, os.path.join(bert_dir, "last")),
                           hf_logits(model, tok, texts), info))

    # 2. A RoBERTa classifier written by plmkit (base: a transformers-written tiny RoBERTa).
    rob_dir = os.path.join(work, "roberta-full")
    plmkit("finetune", "--model", "test/fixtures/hf-written/roberta", "--out", rob_dir, *budget)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        os.path.join(rob_dir, "last"), output_loading_info=True)
    tok = AutoTokenizer.from_pretrained(os.path.join(rob_dir, "last"))
    results.append(compare("RoBERTa classifier, full fine-tuning", "plmkit finetune", type(model).__name__,
                           plmkit_logits(texts_file, os.path.join(rob_dir, "last")),
                           hf_logits(model, tok, texts), info))

    # 3. A LoRA module (PEFT's format) on the bundled model.
    lora_dir = os.path.join(work, "lora")
    plmkit("finetune", "--out", lora_dir, "--pet", '{"method": "lora", "r": 8}', *budget)
    base = AutoModelForSequenceClassification.from_pretrained(BUNDLED, num_labels=2)
    model = PeftModel.from_pretrained(base, os.path.join(lora_dir, "last"))
    tok = AutoTokenizer.from_pretrained(BUNDLED)
    results.append(compare("LoRA module on the bundled model", "plmkit finetune --pet lora",
                           "PeftModel.from_pretrained",
                           plmkit_logits(texts_file, BUNDLED, os.path.join(lora_dir, "last")),
                           hf_logits(model, tok, texts)))

    # 4. The bundled model as a masked language model.
    mlm, info = BertForMaskedLM.from_pretrained(BUNDLED, output_loading_info=True)
    tok = AutoTokenizer.from_pretrained(BUNDLED)
    enc = tok("the movie was [MASK] and the acting was great .", return_tensors="pt")
    with torch.no_grad():
        logits = mlm(**enc).logits[0]
    at = enc["input_ids"][0].tolist().index(tok.mask_token_id)
    top = tok.convert_ids_to_tokens(logits[at].topk(5).indices.tolist())
    results.append({"check": "bundled model as a masked LM", "written_by": "plmkit pretrain (bundle script)",
                    "loaded_with": "BertForMaskedLM",
                    "loading_info": {k: sorted(map(str, v)) for k, v in info.items() if k != "error_msgs"},
                    "fill_mask": {"text": "the movie was [MASK] and the acting was great .", "top5": top}})

    report = {"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__,
              "command": "python scripts/check_hf_interop.py " + out, "results": results}
    path = os.path.join(out, "hf-interop.json")
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("| check | loaded with | texts | max abs logit diff | same argmax | keys missing / unexpected |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        li = r.get("loading_info", {})
        keys = f"{len(li.get('missing_keys', []))} / {len(li.get('unexpected_keys', []))}" if li else "-"
        if "texts" in r:
            print(f"| {r['check']} | {r['loaded_with']} | {r['texts']} | {r['max_abs_logit_diff']:.2e} | "
                  f"{r['same_argmax']}/{r['texts']} | {keys} |")
        else:
            print(f"| {r['check']} | {r['loaded_with']} | - | - | - | {keys} (top 5 for [MASK]: "
                  f"{', '.join(r['fill_mask']['top5'])}) |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
