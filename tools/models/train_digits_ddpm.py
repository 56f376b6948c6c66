"""Train the digits epsilon model: a class-conditional MLP on scikit-learn's 8x8 digits on a discrete VP path.

Writes models/digits-ddpm.onnx and models/digits-ddpm.onnx.json. Needs models/digits-judge.onnx
(train_digits_judge.py) for the sample check at the end.

    /usr/bin/python3 tools/models/train_digits_ddpm.py

Graph: x float32 [B, 64], t float32 [B], c int64 [B] -> eps float32 [B, 64] (the predicted noise).
Path: diffusers' DDIM configuration with Stable Diffusion's betas (scaled_linear 0.00085..0.012, 1000
steps); x = sqrt(acp[t]) x0 + sqrt(1 - acp[t]) eps at the diffusers timestep t in [0, 999]. Fractional
timesteps are trained as well: t is drawn uniformly from [0, 999] and, between integers, log(sigma/alpha)
is interpolated linearly (the rule of diffusers' Euler-family schedulers), so the model is valid there too.
c is the digit 0..9 or 10 for unconditional.

Training (seed 0, one CPU thread): MSE to eps, labels replaced by 10 with probability 0.15
(classifier-free guidance), AdamW lr 1e-3 with cosine decay, batch 256, EMA of the weights (decay 0.999)
exported. The check samples 100 images per class with deterministic DDIM (eta 0, trailing spacing,
final alpha acp[0] as set_alpha_to_one=false says) and guidance eps = eps_u + w (eps_c - eps_u), all in
float32, and prints the judge's accuracy on them.
"""

import sys

import numpy as np
import torch

import common

STEPS = 10000
BATCH = 256
SEED = 0
P_UNCOND = 0.15
CONFIG = common.DDPM_SCHEDULER_CONFIG


def train(x, y):
    common.seed_everything(SEED)
    gen = torch.Generator().manual_seed(SEED)
    acp = common.alphas_cumprod(CONFIG)
    T = CONFIG["num_train_timesteps"]
    model = common.make_denoiser(time_multiplier=1.0)
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
        t = torch.rand(BATCH, generator=gen, dtype=torch.float64) * (T - 1)
        a, s = common.discrete_vp_alpha_sigma(acp, t.numpy())
        a = torch.from_numpy(a).float()[:, None]
        s = torch.from_numpy(s).float()[:, None]
        xt = a * x0 + s * eps
        loss = ((model(xt, t.float(), c) - eps) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        ema.update(model)
        if step % 5000 == 0 or step == STEPS - 1:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
    return ema.model


def ddim_timesteps(steps):
    T = CONFIG["num_train_timesteps"]
    ts = (np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1)
    prev = ts - T // steps
    return ts, prev


def sample(model, labels, steps, guidance, seed=1):
    """Deterministic DDIM (trailing spacing), float32, guided."""
    acp = common.alphas_cumprod(CONFIG).astype(np.float32)
    final = acp[0]  # set_alpha_to_one = false
    gen = torch.Generator().manual_seed(seed)
    labels = torch.as_tensor(labels)
    n = len(labels)
    x = torch.randn(n, 64, generator=gen)
    unc = torch.full_like(labels, 10)
    ts, prev = ddim_timesteps(steps)
    with torch.no_grad():
        for t, tp in zip(ts, prev):
            tt = torch.full((n,), float(t))
            ec = model(x, tt, labels)
            e = ec if guidance == 1.0 else model(x, tt, unc) + guidance * (ec - model(x, tt, unc))
            a = float(acp[t])
            ap = float(acp[tp]) if tp >= 0 else float(final)
            x0 = (x - (1 - a) ** 0.5 * e) / a ** 0.5
            x = ap ** 0.5 * x0 + (1 - ap) ** 0.5 * e
    return x.numpy()


def main():
    cases = common.cases_arg()
    x, y = common.load_digits_pixels()
    with common.Timer() as tt:
        model = train(x, y)
    print(f"trained {STEPS} steps in {tt.seconds:.1f} s, {common.count_params(model)} parameters")
    path = f"{common.MODELS}/digits-ddpm.onnx"
    common.export_denoiser(model, path, output="eps")
    common.write_json(path + ".json", {
        "format": "gpaths-model/1", "kind": "denoiser",
        "inputs": {"sample": "x", "time": "t", "class": "c"},
        "output": "eps",
        "prediction": "epsilon",
        "path": {"kind": "discrete_vp", "scheduler_config": CONFIG},
        "sample_shape": [64],
        "classes": 10, "unconditional_class": 10,
        "image": common.IMAGE,
    })
    print("wrote", path)
    if cases:
        common.write_check_cases(cases, path, common.denoiser_check_cases(model, 0.0, 999.0, "eps"))

    common.report_guided_quality(model, x, sample, "DDIM", (25, 50), "/tmp/digits-ddpm-samples.png")

if __name__ == "__main__":
    sys.exit(main())
