#!/usr/bin/env python3
"""Model directories written by Hugging Face transformers itself (save_pretrained), with the logits and token
ids transformers computes for a few texts, for plmkit's test that it loads what transformers writes
(test/io/hf-written.test.ts). Tiny random BERT and RoBERTa sequence classifiers, saved as one fp32 file, as
fp16 shards with model.safetensors.index.json, and as bf16; tokenizers from test/fixtures/tokenizers saved by
transformers' fast tokenizers.

Run with a Python that has torch and transformers (here: transformers 5.18.0, torch 2.13.0+cpu, installed
offline from the machine's wheel directories, see results/interop/README.md):
  python scripts/make_hf_fixtures.py test/fixtures/hf-written
"""
import json
import os
import sys

import torch
import transformers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertTokenizerFast,
    RobertaConfig,
    RobertaForSequenceClassification,
    RobertaTokenizerFast,
)

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZERS = os.path.join(HERE, "..", "test", "fixtures", "tokenizers")

# In-vocabulary words, unknown words, accents, case, punctuation, and one sentence pair.
TEXTS = [
    ["The quick brown fox jumps over the lazy dog.", None],
    ["hello world! I love Paris, it is very unaffable", None],
    ["Café playing?", None],
    ["what time is it now", "this sentence is short"],
    ["zebra xylophone", None],
    ["first text pair token ##izer - new york", "second"],
]


def reference(model, tok, kind):
    texts = [t for t, _ in TEXTS]
    pairs = [p for _, p in TEXTS]
    rows = []
    model.eval()
    with torch.no_grad():
        for text, pair in zip(texts, pairs):
            enc = tok(text, pair, return_tensors="pt")
            out = model(**enc)
            rows.append(
                {
                    "text": text,
                    "text_pair": pair,
                    "input_ids": enc["input_ids"][0].tolist(),
                    "logits": out.logits[0].tolist(),
                }
            )
    return rows


def randomize(model):
    """Weights large enough that logits differ between texts (the default init of std 0.02 makes them
    nearly constant), LayerNorm scales around 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    return model


def save(model, tok, out, name, dtype, shard=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    stored = model.to(dtype)
    kw = {"max_shard_size": shard} if shard else {}
    stored.save_pretrained(d, safe_serialization=True, **kw)
    tok.save_pretrained(d)
    # The reference is what transformers computes from the saved directory, in fp32.
    cls = type(model)
    loaded = cls.from_pretrained(d, dtype=torch.float32)
    ref = {
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "stored_dtype": str(dtype).replace("torch.", ""),
        "rows": reference(loaded, tok, name),
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    model.to(torch.float32)
    print(name, sorted(os.listdir(d)))


def save_lora(tok, out, name):
    """A LoRA module saved by PEFT's save_pretrained for the model saved as "bert" (its base)."""
    import peft

    d = os.path.join(out, name)
    model = BertForSequenceClassification.from_pretrained(os.path.join(out, "bert"), dtype=torch.float32)
    config = peft.LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"])
    lora = peft.get_peft_model(model, config)
    with torch.no_grad():  # lora_B starts at zero; random values make the module change the logits
        for n, p in lora.named_parameters():
            if "lora_" in n or "modules_to_save" in n:
                p.copy_(0.3 * torch.randn_like(p))
    lora.save_pretrained(d)
    os.remove(os.path.join(d, "README.md"))  # PEFT's empty model card
    ref = {
        "transformers_version": transformers.__version__,
        "peft_version": peft.__version__,
        "base": "bert",
        "rows": reference(lora, tok, name),
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(name, sorted(os.listdir(d)))


def main(out):
    torch.manual_seed(4321)
    # from_pretrained reads vocab.txt (lower-casing per the fixture's tokenizer_config.json); in
    # transformers 5 the constructor's vocab_file argument no longer loads a vocabulary.
    bert_tok = BertTokenizerFast.from_pretrained(os.path.join(TOKENIZERS, "bert-wordpiece"))
    bert = randomize(BertForSequenceClassification(
        BertConfig(
            vocab_size=len(bert_tok),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=64,
            id2label={0: "negative", 1: "neutral", 2: "positive"},
            label2id={"negative": 0, "neutral": 1, "positive": 2},
        )
    ))
    save(bert, bert_tok, out, "bert", torch.float32)
    save(bert, bert_tok, out, "bert-fp16-sharded", torch.float16, shard="20KB")
    save_lora(bert_tok, out, "bert-lora-peft")

    rob_tok = RobertaTokenizerFast.from_pretrained(os.path.join(TOKENIZERS, "roberta-bpe"))
    roberta = randomize(RobertaForSequenceClassification(
        RobertaConfig(
            vocab_size=len(rob_tok),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=66,
            type_vocab_size=1,
            num_labels=2,
        )
    ))
    save(roberta, rob_tok, out, "roberta", torch.float32)
    save(roberta, rob_tok, out, "roberta-bf16", torch.bfloat16)


if __name__ == "__main__":
    main(sys.argv[1])
