"""Train charlm-licenses: a small character-level GPT on the licence texts every Debian machine ships.

Writes models/charlm-licenses.onnx, models/charlm-licenses.onnx.json (the card, kind causal_lm) and
models/charlm-licenses.vocab.json ({"vocab": [...]}, index i is token i, one character each).

    /usr/bin/python3 tools/models/train_charlm.py [--cases DIR]

Data: the regular files in /usr/share/common-licenses/ (symbolic links such as GPL -> GPL-3 are skipped so no
text is counted twice), read as UTF-8 in sorted name order and joined with a blank line. Nothing is downloaded.
The vocabulary is the sorted set of characters of that text.

Model (Radford et al. 2019 style, pre-norm): token and learned position embeddings (d = 96, context 64), two
blocks of causal self-attention (4 heads) and a 4x GELU MLP, a final LayerNorm and an untied linear head to the
vocabulary; about 246k parameters. Graph: `idx` int64 [batch, seq] (seq <= 64) -> `logits` float32
[batch, seq, vocab], both axes dynamic; position j's logits depend only on tokens 0..j (the causal mask is
sliced from a 64x64 buffer), so right padding does not change the logits of real positions.

Training (seed 0, one CPU thread, deterministic algorithms): AdamW (lr 3e-3 with 100 warm-up steps and cosine
decay, weight decay 0.01, betas 0.9/0.99), batches of 32 random windows of 65 characters, STEPS steps,
gradient clipping at 1. The model is meant to memorise much of its text: that is what makes retrieval and
prompt-lookup candidates from the same text pay off in the decoding benchmarks.
"""

import math
import os
import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

import common

LICENSES = "/usr/share/common-licenses"
CONTEXT = 64
D = 96
HEADS = 4
LAYERS = 2
STEPS = 1400
BATCH = 32
SEED = 0
NAME = "charlm-licenses"


def load_text():
    parts = []
    for name in sorted(os.listdir(LICENSES)):
        p = os.path.join(LICENSES, name)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8") as f:
            parts.append(f.read())
    return "\n\n".join(parts)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln2 = nn.LayerNorm(D)
        self.fc = nn.Linear(D, 4 * D)
        self.out = nn.Linear(4 * D, D)
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT, CONTEXT, dtype=torch.bool)))

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        hd = D // HEADS
        q = q.reshape(b, t, HEADS, hd).transpose(1, 2)
        k = k.reshape(b, t, HEADS, hd).transpose(1, 2)
        v = v.reshape(b, t, HEADS, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~self.mask[:t, :t], float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, D))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class CharGpt(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D)
        self.pos = nn.Parameter(torch.zeros(CONTEXT, D))
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln = nn.LayerNorm(D)
        self.head = nn.Linear(D, vocab)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos[:t][None]
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x))


def greedy(model, ids, n):
    ids = list(ids)
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([ids[-CONTEXT:]]))[0, -1]
            ids.append(int(torch.argmax(logits)))
    return ids


def main():
    cases = common.cases_arg()
    common.seed_everything(SEED)
    text = load_text()
    vocab = sorted(set(text))
    stoi = {c: i for i, c in enumerate(vocab)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.int64)
    print(f"{len(text)} characters, vocabulary {len(vocab)}")
    gen = torch.Generator().manual_seed(SEED)
    model = CharGpt(len(vocab))
    print(f"{common.count_params(model)} parameters")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.99), weight_decay=0.01)
    lr = lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / STEPS))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr)
    model.train()
    with common.Timer() as t_train:
        for step in range(STEPS):
            start = torch.randint(0, len(data) - CONTEXT - 1, (BATCH,), generator=gen)
            win = torch.stack([data[s:s + CONTEXT + 1] for s in start.tolist()])
            logits = model(win[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, len(vocab)), win[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 100 == 0 or step == STEPS - 1:
                print(f"step {step} loss {loss.item():.3f}", flush=True)
    model.eval()
    with torch.no_grad():
        ev = torch.arange(0, len(data) - CONTEXT - 1, 997)
        win = torch.stack([data[s:s + CONTEXT + 1] for s in ev.tolist()])
        full = F.cross_entropy(model(win[:, :-1]).reshape(-1, len(vocab)), win[:, 1:].reshape(-1)).item()
    print(f"train time {t_train.seconds:.1f} s; loss on {len(ev)} windows of the text {full:.3f} nats/char")
    prompt = "This program is free software; "
    out = greedy(model, [stoi[c] for c in prompt], 32)
    print("greedy:", repr("".join(vocab[i] for i in out)))

    path = f"{common.MODELS}/{NAME}.onnx"
    torch.onnx.export(
        model, (torch.zeros(2, 8, dtype=torch.int64),), path, opset_version=common.OPSET,
        input_names=["idx"], output_names=["logits"],
        dynamic_axes={"idx": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
        do_constant_folding=True)
    common.check_onnx(path)
    common.write_json(f"{common.MODELS}/{NAME}.vocab.json", {"vocab": vocab})
    common.write_json(path + ".json", {
        "format": "gpaths-model/1", "kind": "causal_lm",
        "inputs": {"tokens": "idx"}, "output": "logits",
        "vocabulary": f"{NAME}.vocab.json", "context": CONTEXT,
    })
    print("wrote", path, os.path.getsize(path), "bytes")
    if cases:
        rng = np.random.default_rng(1)
        check = []
        for b, t in ((1, 5), (3, CONTEXT)):
            idx = rng.integers(0, len(vocab), (b, t)).astype(np.int64)
            with torch.no_grad():
                lo = model(torch.from_numpy(idx)).numpy()
            check.append(([("idx", idx)], [("logits", lo, 1e-4)]))
        common.write_check_cases(cases, path, check)


if __name__ == "__main__":
    sys.exit(main())
