"""Train the digits rectified-flow model: a class-conditional MLP velocity field on scikit-learn's 8x8 digits.

Writes models/digits-flow.onnx and models/digits-flow.onnx.json. Needs models/digits-judge.onnx
(train_digits_judge.py) for the sample check at the end.

    /usr/bin/python3 tools/models/train_digits_flow.py

Graph: x float32 [B, 64], t float32 [B], c int64 [B] -> v float32 [B, 64].
Path: x = (1 - s) x0 + s eps with noise level s in [0, 1]; the time input is t = 1 - s (noise at t = 0,
data at t = 1, the facebookresearch/flow_matching convention) and the output the velocity x0 - eps,
so dx/dt = v carries noise (t = 0) to data (t = 1). c is the digit 0..9 or 10 for unconditional.

Training (seed 0, one CPU thread): s uniform in [0, 1], MSE to x0 - eps, labels replaced by 10 with
probability 0.15 (classifier-free guidance), AdamW lr 1e-3 with cosine decay, batch 256, EMA of the
weights (decay 0.999) exported. The check samples 100 images per class with Euler steps from t = 0 to 1 and
guidance v = v_u + w (v_c - v_u), all in float32, and prints the judge's accuracy on them.
"""

import sys

import torch

import common

STEPS = 10000
BATCH = 256
SEED = 0
P_UNCOND = 0.15


def train(x, y):
    common.seed_everything(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = common.make_denoiser(time_multiplier=1000.0)
    ema = common.Ema(model, 0.999)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, STEPS)
    x = torch.from_numpy(x)
    y = torch.from_numpy(y)
    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, len(x), (BATCH,), generator=gen)
        x0 = x[idx]
        c = torch.where(torch.rand(BATCH, generator=gen) < P_UNCOND, torch.full_like(y[idx], 10), y[idx])
        eps = torch.randn(x0.shape, generator=gen)
        s = torch.rand(BATCH, generator=gen)
        xt = (1 - s[:, None]) * x0 + s[:, None] * eps
        loss = ((model(xt, 1 - s, c) - (x0 - eps)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        ema.update(model)
        if step % 5000 == 0 or step == STEPS - 1:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
    return ema.model


def sample(model, labels, steps, guidance, seed=1):
    """Euler from t = 0 (noise) to t = 1 (data), float32, guided."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.as_tensor(labels)
    n = len(labels)
    x = torch.randn(n, 64, generator=gen)
    unc = torch.full_like(labels, 10)
    dt = 1.0 / steps
    with torch.no_grad():
        for i in range(steps):
            t = torch.full((n,), i * dt)
            vc = model(x, t, labels)
            v = vc if guidance == 1.0 else model(x, t, unc) + guidance * (vc - model(x, t, unc))
            x = x + dt * v
    return x.numpy()


def main():
    cases = common.cases_arg()
    x, y = common.load_digits_pixels()
    with common.Timer() as tt:
        model = train(x, y)
    print(f"trained {STEPS} steps in {tt.seconds:.1f} s, {common.count_params(model)} parameters")
    path = f"{common.MODELS}/digits-flow.onnx"
    common.export_denoiser(model, path)
    common.write_json(path + ".json", {
        "format": "gpaths-model/1", "kind": "denoiser",
        "inputs": {"sample": "x", "time": "t", "class": "c"},
        "output": "v",
        "prediction": "flow_velocity",
        "velocity": "data_minus_noise",
        "path": {"kind": "rectified_flow", "time": "noise_at_0", "time_scale": 1.0},
        "sample_shape": [64],
        "classes": 10, "unconditional_class": 10,
        "image": common.IMAGE,
    })
    print("wrote", path)
    if cases:
        common.write_check_cases(cases, path, common.denoiser_check_cases(model, 0.0, 1.0, "v"))

    common.report_guided_quality(model, x, sample, "Euler", (10, 20), "/tmp/digits-flow-samples.png")

if __name__ == "__main__":
    sys.exit(main())
