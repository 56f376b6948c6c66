"""Shared pieces of the model-building scripts in tools/models/.

Everything here is deterministic: `seed_everything` fixes the seeds of Python, NumPy and torch and
pins torch to one CPU thread, so a script run twice on the same machine writes the same files.
(Bit-identical weights across different CPUs or torch builds are not promised; the checks in each
script are what the shipped files are held to.)

Requirements: Python 3 with torch (1.13 or later; export uses the classic `torch.onnx.export`,
opset 17), numpy, scikit-learn (for its bundled copy of the UCI digits) and onnx.
"""

import hashlib
import json
import os
import random
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "models")
FIXTURES = os.path.join(ROOT, "tests", "GenerativePaths.Tests", "Fixtures", "onnx")
OPSET = 17

IMAGE = {"height": 8, "width": 8, "channels": 1, "range": [-1, 1]}

# The DDIM configuration the digits epsilon model is trained on (Stable Diffusion's betas).
DDPM_SCHEDULER_CONFIG = {
    "_class_name": "DDIMScheduler",
    "num_train_timesteps": 1000,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "prediction_type": "epsilon",
    "timestep_spacing": "trailing",
    "steps_offset": 0,
    "set_alpha_to_one": False,
    "clip_sample": False,
}


def seed_everything(seed):
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load_digits_pixels():
    """scikit-learn's bundled 8x8 digits (1797 images, in load_digits order) as float32 [N, 64] in [-1, 1]
    (pixel v in 0..16 maps to v/16*2-1) and int64 labels [N]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data.astype(np.float64) / 16.0 * 2.0 - 1.0).astype(np.float32)
    y = d.target.astype(np.int64)
    return x, y


def write_json(path, obj):
    """One top-level key a line, each value compact."""
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in obj.items()) + "\n}\n")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.seconds = time.perf_counter() - self.t0


# ---------------------------------------------------------------------------------------------
# Discrete VP path (diffusers conventions), computed in float64.

def alphas_cumprod(config):
    T = config["num_train_timesteps"]
    b0, b1 = config["beta_start"], config["beta_end"]
    if config["beta_schedule"] == "scaled_linear":
        betas = np.linspace(b0 ** 0.5, b1 ** 0.5, T, dtype=np.float64) ** 2
    elif config["beta_schedule"] == "linear":
        betas = np.linspace(b0, b1, T, dtype=np.float64)
    else:
        raise ValueError(config["beta_schedule"])
    return np.cumprod(1.0 - betas)


def discrete_vp_alpha_sigma(acp, t):
    """(alpha, sigma) at diffusers timesteps t (float, fractional allowed): at an integer t
    alpha = sqrt(acp[t]), sigma = sqrt(1 - acp[t]); in between, log(sigma/alpha) is interpolated linearly."""
    t = np.asarray(t, dtype=np.float64)
    T = len(acp)
    log_ratio = 0.5 * (np.log1p(-acp) - np.log(acp))
    lo = np.minimum(np.floor(t).astype(np.int64), T - 2)
    w = t - lo
    s = np.exp((1.0 - w) * log_ratio[lo] + w * log_ratio[lo + 1])
    alpha = 1.0 / np.sqrt(1.0 + s * s)
    sigma = s * alpha
    integer = t == np.floor(t)
    ti = np.clip(np.floor(t).astype(np.int64), 0, T - 1)
    alpha = np.where(integer, np.sqrt(acp[ti]), alpha)
    sigma = np.where(integer, np.sqrt(1.0 - acp[ti]), sigma)
    return alpha, sigma


# ---------------------------------------------------------------------------------------------
# The MLP denoiser shared by the digits flow and epsilon models, and the judge.

def make_denoiser(time_multiplier, classes=10, hidden=256, cond=128, freqs=32):
    """x [B,64], t [B], c [B] -> [B,64].

    t is multiplied by `time_multiplier` and embedded sinusoidally (`freqs` cosines and sines, periods
    up to 10000), then through a 2-layer MLP; the class (0..classes, `classes` meaning unconditional) has
    a learned embedding added to it. The sample and the conditioning enter the first layer together; three
    hidden layers of `hidden` SiLU units (the last two residual) lead to a linear output layer.
    """
    import math
    import torch
    from torch import nn

    class Denoiser(nn.Module):
        def __init__(self):
            super().__init__()
            f = torch.exp(-math.log(10000.0) * torch.arange(freqs, dtype=torch.float32) / freqs)
            self.register_buffer("freqs", f * float(time_multiplier))
            self.time_mlp = nn.Sequential(nn.Linear(2 * freqs, cond), nn.SiLU(), nn.Linear(cond, cond))
            self.class_emb = nn.Embedding(classes + 1, cond)
            self.inp_x = nn.Linear(64, hidden)
            self.inp_c = nn.Linear(cond, hidden, bias=False)
            self.h1 = nn.Linear(hidden, hidden)
            self.h2 = nn.Linear(hidden, hidden)
            self.out = nn.Linear(hidden, 64)
            self.act = nn.SiLU()

        def forward(self, x, t, c):
            a = t[:, None] * self.freqs[None, :]
            temb = self.time_mlp(torch.cat([torch.cos(a), torch.sin(a)], dim=1))
            e = self.act(temb + self.class_emb(c))
            h = self.act(self.inp_x(x) + self.inp_c(e))
            h = h + self.act(self.h1(h))
            h = h + self.act(self.h2(h))
            return self.out(h)

    return Denoiser()


def make_judge():
    import torch
    from torch import nn

    class Judge(nn.Module):
        """64 -> 256 -> 128 -> 10 (ReLU); returns (logits, features), features the 128 penultimate activations."""

        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(64, 256)
            self.l2 = nn.Linear(256, 128)
            self.l3 = nn.Linear(128, 10)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            h = torch.relu(self.l1(x))
            f = torch.relu(self.l2(self.drop(h)))
            return self.l3(self.drop(f)), f

    return Judge()


def count_params(model):
    return int(sum(p.numel() for p in model.parameters()))


class Ema:
    def __init__(self, model, decay):
        import copy

        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def update(self, model):
        import torch

        with torch.no_grad():
            for pe, p in zip(self.model.parameters(), model.parameters()):
                pe.mul_(self.decay).add_(p, alpha=1.0 - self.decay)


def export_denoiser(model, path, output="v"):
    import torch

    model = model.eval()
    x = torch.zeros(2, 64)
    t = torch.zeros(2)
    c = torch.zeros(2, dtype=torch.int64)
    torch.onnx.export(
        model, (x, t, c), path, opset_version=OPSET,
        input_names=["x", "t", "c"], output_names=[output],
        dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "c": {0: "batch"}, output: {0: "batch"}},
        do_constant_folding=True)
    check_onnx(path)


def check_onnx(path):
    import onnx

    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)


def load_judge_torch():
    """The shipped judge, rebuilt in torch from the weights stored in models/digits-judge.onnx."""
    import onnx
    import torch
    from onnx import numpy_helper

    m = onnx.load(os.path.join(MODELS, "digits-judge.onnx"))
    w = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    judge = make_judge().eval()
    sd = judge.state_dict()
    for k in sd:
        sd[k] = torch.from_numpy(np.array(w[k]))
    judge.load_state_dict(sd)
    return judge


def judge_accuracy(judge, samples, labels):
    import torch

    with torch.no_grad():
        logits, _ = judge(torch.as_tensor(samples, dtype=torch.float32))
    pred = logits.argmax(1).numpy()
    return float((pred == np.asarray(labels)).mean())


def save_grid_png(samples, path, rows=10):
    """samples [N, 64] in [-1, 1] -> a PNG grid (for looking at, not shipped)."""
    from PIL import Image

    s = np.clip((np.asarray(samples).reshape(-1, 8, 8) + 1) / 2, 0, 1)
    n = len(s)
    cols = (n + rows - 1) // rows
    grid = np.ones((rows * 9 + 1, cols * 9 + 1))
    for i in range(n):
        r, c = i % rows, i // rows
        grid[1 + r * 9:1 + r * 9 + 8, 1 + c * 9:1 + c * 9 + 8] = s[i]
    img = Image.fromarray((255 * (1 - grid)).astype(np.uint8)).resize((grid.shape[1] * 6, grid.shape[0] * 6), Image.NEAREST)
    img.save(path)


# ---------------------------------------------------------------------------------------------
# Check cases for ONNX Runtime: inputs and the outputs the Python side computed, one JSON file a graph.

_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float16): "float16", np.dtype(np.int64): "int64"}


def write_check_cases(cases_dir, onnx_path, cases):
    """cases: [(inputs [(name, array)], outputs [(name, array, tolerance)])] -> cases_dir/NAME.json,
    the format the ONNX Runtime checker reads (|got - expected| <= tol + tol |expected| elementwise)."""
    os.makedirs(cases_dir, exist_ok=True)

    def t(name, a):
        a = np.asarray(a)
        return {"name": name, "dtype": _DTYPES[a.dtype], "shape": list(a.shape),
                "data": a.astype(np.float64).ravel().tolist()}

    out = {"model": os.path.abspath(onnx_path), "cases": [
        {"inputs": [t(n, a) for n, a in ins],
         "outputs": [dict(t(n, a), rtol=tol, atol=tol) for n, a, tol in outs]} for ins, outs in cases]}
    name = os.path.basename(onnx_path)[: -len(".onnx")]
    write_json(os.path.join(cases_dir, name + ".json"), out)


def denoiser_check_cases(model, t_low, t_high, out_name, seed=7):
    """Inputs over the model's time range (batches of 1 and 32, every class and the unconditional one)
    with the torch model's outputs."""
    import torch

    rng = np.random.default_rng(seed)
    cases = []
    for n in (1, 32):
        x = rng.standard_normal((n, 64)).astype(np.float32)
        t = rng.uniform(t_low, t_high, n).astype(np.float32)
        if n >= 4:
            t[:2] = [t_low, t_high]
        c = rng.integers(0, 11, n).astype(np.int64)
        with torch.no_grad():
            y = model.eval()(torch.from_numpy(x), torch.from_numpy(t), torch.from_numpy(c)).numpy()
        cases.append(([("x", x), ("t", t), ("c", c)], [(out_name, y, 1e-4)]))
    return cases


def cases_arg():
    """--cases DIR on the command line of the build scripts (where to write ONNX Runtime check cases)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", help="also write ONNX Runtime check cases (inputs and expected outputs) to this folder")
    return ap.parse_args().cases


def judge_features(judge, samples):
    import torch

    with torch.no_grad():
        return judge(torch.as_tensor(samples, dtype=torch.float32))[1].numpy().astype(np.float64)


def frechet_distance(f1, f2):
    """Frechet distance between Gaussians fitted to two feature sets [N, F] (float64)."""
    from scipy import linalg

    m1, m2 = f1.mean(0), f2.mean(0)
    c1, c2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(c1 @ c2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(c1 + c2 - 2 * covmean))


def report_guided_quality(model, x, sample, sampler_name, step_counts, grid_path, guidances=(1.0, 2.0)):
    """Prints, for each step count and guidance scale, the judge's accuracy on 100 samples per digit drawn by
    `sample(model, labels, steps, w)` and their Frechet distance to the data in the judge's features (beside the
    distance between two random halves of the data, for scale); saves a grid of the last step count at the last
    guidance to `grid_path`."""
    judge = load_judge_torch()
    labels = np.repeat(np.arange(10), 100)
    real = judge_features(judge, x)
    half = np.random.default_rng(0).permutation(len(x))
    print(f"reference: Frechet distance (judge features) between two random halves of the data "
          f"{frechet_distance(real[half[:898]], real[half[898:]]):.3f}")
    for steps in step_counts:
        for w in guidances:
            s = sample(model, labels, steps, w)
            print(f"{sampler_name} {steps} steps, guidance {w}: judge accuracy {judge_accuracy(judge, s, labels):.4f}, "
                  f"FD to the data {frechet_distance(judge_features(judge, s), real):.3f}, "
                  f"pixels outside [-1.5, 1.5]: {float((np.abs(s) > 1.5).mean()):.4f}")
            if steps == step_counts[-1] and w == guidances[-1]:
                save_grid_png(s[::10], grid_path)
