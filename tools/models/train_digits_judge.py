"""Train the digits judge: an MLP classifier 64-256-128-10 on scikit-learn's bundled 8x8 digits.

Writes models/digits-judge.onnx and models/digits-judge.onnx.json.

    /usr/bin/python3 tools/models/train_digits_judge.py

Inputs x float32 [B, 64] (pixels in [-1, 1]); outputs logits float32 [B, 10] and features float32 [B, 128]
(the penultimate ReLU activations, for Frechet distances).

Training (seed 0, one CPU thread): Adam (lr 2e-3, cosine decay, weight decay 1e-4), batch 128, dropout
0.1, with light augmentation: each image shifted by -1, 0 or +1 pixel in each direction (background
-1 filling in) and Gaussian noise of standard deviation 0.1 added. First a stratified 80/20 split is trained
and the held-out accuracy printed; then the same recipe is run again on all 1797 images, and that model
is the one exported.
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

import common

STEPS = 6000
BATCH = 128
SEED = 0


def augment(x, gen):
    b = x.shape[0]
    img = F.pad(x.view(b, 8, 8), (1, 1, 1, 1), value=-1.0)
    dy = torch.randint(0, 3, (b,), generator=gen)
    dx = torch.randint(0, 3, (b,), generator=gen)
    ar = torch.arange(8)
    rows = (dy[:, None] + ar[None, :])[:, :, None].expand(b, 8, 8)
    cols = (dx[:, None] + ar[None, :])[:, None, :].expand(b, 8, 8)
    out = img[torch.arange(b)[:, None, None], rows, cols].reshape(b, 64)
    return out + 0.1 * torch.randn(out.shape, generator=gen)


def train(x, y, seed):
    common.seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    model = common.make_judge()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, STEPS)
    x = torch.from_numpy(x)
    y = torch.from_numpy(y)
    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, len(x), (BATCH,), generator=gen)
        logits, _ = model(augment(x[idx], gen))
        loss = F.cross_entropy(logits, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


def main():
    from sklearn.model_selection import train_test_split

    cases = common.cases_arg()
    x, y = common.load_digits_pixels()
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)
    with common.Timer() as t_split:
        m = train(xtr, ytr, SEED)
    acc = common.judge_accuracy(m, xte, yte)
    gen = torch.Generator().manual_seed(123)
    with torch.no_grad():
        acc_aug = float((m(augment(torch.from_numpy(xte), gen))[0].argmax(1).numpy() == yte).mean())
    print(f"held-out accuracy (80/20 split, {len(xte)} images): {acc:.4f}; on augmented held-out images: {acc_aug:.4f}; "
          f"train time {t_split.seconds:.1f} s")

    with common.Timer() as t_all:
        m = train(x, y, SEED)
    print(f"all-data model: training accuracy {common.judge_accuracy(m, x, y):.4f}, train time {t_all.seconds:.1f} s, "
          f"{common.count_params(m)} parameters")

    path = f"{common.MODELS}/digits-judge.onnx"
    torch.onnx.export(
        m, (torch.zeros(2, 64),), path, opset_version=common.OPSET,
        input_names=["x"], output_names=["logits", "features"],
        dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
        do_constant_folding=True)
    common.check_onnx(path)
    common.write_json(path + ".json", {
        "format": "gpaths-model/1", "kind": "classifier",
        "inputs": {"sample": "x"}, "output": "logits", "features": "features",
        "classes": 10, "sample_shape": [64], "image": common.IMAGE,
    })
    # Verify the reload from ONNX reproduces the torch model.
    j = common.load_judge_torch()
    with torch.no_grad():
        d = (j(torch.from_numpy(x))[0] - m(torch.from_numpy(x))[0]).abs().max().item()
    assert d == 0.0, d
    print("wrote", path)
    if cases:
        rng = np.random.default_rng(7)
        check = []
        for idx in (rng.choice(len(x), 1), rng.choice(len(x), 64, replace=False)):
            xs = x[idx] + rng.normal(0, 0.05, (len(idx), 64)).astype(np.float32)
            with torch.no_grad():
                lo, fe = m(torch.from_numpy(xs))
            check.append(([("x", xs)], [("logits", lo.numpy(), 1e-4), ("features", fe.numpy(), 1e-4)]))
        common.write_check_cases(cases, path, check)


if __name__ == "__main__":
    sys.exit(main())
