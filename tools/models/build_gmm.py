"""Build the exact Gaussian-mixture denoisers as ONNX graphs (no training) and their model cards.

    /usr/bin/python3 tools/models/build_gmm.py

Writes models/gmm-denoiser.onnx (+ .json) and the test fixtures in
tests/GenerativePaths.Tests/Fixtures/onnx/ (gmm-*.onnx + .json). With --cases DIR it also writes, per
graph, DIR/NAME.json with test inputs and the outputs of an independent NumPy oracle (used to check the
graphs in ONNX Runtime; not shipped).

The mixture (isotropic, D = 3): weights [0.2, 0.5, 0.3], means [[-2, 0, 1], [1.5, 1, -0.5], [0, -1.5, 0.5]],
stds [0.3, 0.5, 0.4]. Every graph casts its inputs to float64, decodes its time input into (alpha, sigma)
by the card's path, computes the exact posterior mean of x0 given x = alpha x0 + sigma eps,

    v_k    = alpha^2 s_k^2 + sigma^2
    log r_k = log w_k - D/2 log v_k - |x - alpha mu_k|^2 / (2 v_k)       (normalised by log-sum-exp)
    x0hat  = sum_k r_k (mu_k + alpha s_k^2 / v_k (x - alpha mu_k)),

converts it to the card's prediction (eps = (x - alpha x0hat)/sigma, v = alpha eps - sigma x0hat,
score = -(x - alpha x0hat)/sigma^2, flow velocity x0hat - eps or eps - x0hat, EDM F = (x0hat - c_skip x)/c_out)
and casts the result back to the sample's dtype. A class input c (where present) restricts the mixture
to component c; c = 3 is the full mixture.

The discrete-VP graphs compute alphas_cumprod in float64 from the betas inside the graph (diffusers
computes it in float32; the two differ by about 1e-7 relatively). A float time is clipped to [0, T-1]; an int64 time is
clamped to [0, T-1] as well. Times where sigma = 0 (t = 0 on a continuous VP or flow path) make the eps,
score and velocity outputs non-finite: the graphs do not guard against them.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import common

MIXTURE = {
    "weights": [0.2, 0.5, 0.3],
    "means": [[-2.0, 0.0, 1.0], [1.5, 1.0, -0.5], [0.0, -1.5, 0.5]],
    "stds": [0.3, 0.5, 0.4],
}
D = 3
K = 3

VE = {"kind": "ve", "sigma_min": 0.002, "sigma_max": 80.0}
EDM = {"kind": "edm", "sigma_data": 0.5, "sigma_min": 0.002, "sigma_max": 80.0}
VP_EPS = {"kind": "discrete_vp", "scheduler_config": dict(common.DDPM_SCHEDULER_CONFIG)}
VP_V = {"kind": "discrete_vp", "scheduler_config": dict(common.DDPM_SCHEDULER_CONFIG, prediction_type="v_prediction")}
FLOW_N1 = {"kind": "rectified_flow", "time": "noise_at_1", "time_scale": 1000.0}
FLOW_N0 = {"kind": "rectified_flow", "time": "noise_at_0", "time_scale": 1.0}
CVP = {"kind": "continuous_vp", "beta_min": 0.1, "beta_max": 20.0, "time_scale": 1000.0}

F32, F16, F64, I64 = TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.INT64

# name, path, prediction, velocity, sample dtype, time dtype, (sample, time, output) names, class input
SPECS = [
    ("gmm-ve-x0", VE, "x0", None, F32, F32, ("x", "t", "x0"), False),
    ("gmm-ve-score", VE, "score", None, F32, F32, ("x", "t", "score"), False),
    ("gmm-edm-F", EDM, "edm_F", None, F32, F32, ("x", "t", "F"), False),
    ("gmm-vp-eps", VP_EPS, "epsilon", None, F32, F32, ("x", "t", "eps"), False),
    ("gmm-vp-v", VP_V, "v", None, F32, I64, ("x", "t", "v"), False),
    ("gmm-flow-n1", FLOW_N1, "flow_velocity", "noise_minus_data", F32, F32, ("x", "t", "v"), False),
    ("gmm-flow-n0", FLOW_N0, "flow_velocity", "data_minus_noise", F32, F32, ("x", "t", "v"), False),
    ("gmm-cvp-eps", CVP, "epsilon", None, F32, F32, ("x", "t", "eps"), False),
    ("gmm-ve-x0-fp16", VE, "x0", None, F16, F16, ("x", "t", "x0"), False),
    ("gmm-ve-x0-named", VE, "x0", None, F32, F32, ("latent", "sigma_in", "denoised"), False),
]
SHIPPED = ("gmm-denoiser", VE, "x0", None, F32, F32, ("x", "t", "x0"), True)


class G:
    """A small helper that appends nodes with fresh names."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def fresh(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, value, dtype=np.float64, name="c"):
        arr = np.asarray(value, dtype=dtype)
        n = self.fresh(name)
        self.inits.append(numpy_helper.from_array(arr, n))
        return n

    def op(self, op_type, *inputs, name=None, **attrs):
        out = name or self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=self.fresh("n_" + op_type), **attrs))
        return out

    def f(self, v):
        return self.const(v, np.float64, "k")


def decode_time(g, path, t, x_in):
    """-> (alpha [B,1] or [1,1], sigma [B,1], x [B,D]) in float64; t is float64 [B] (int64 [B] for int VP)."""
    kind = path["kind"]
    ax1 = g.const([1], np.int64, "axes")
    if kind == "ve":
        return g.f([[1.0]]), g.op("Unsqueeze", t, ax1), x_in
    if kind == "edm":
        sd = path["sigma_data"]
        sigma = g.op("Exp", g.op("Mul", t, g.f(4.0)))
        sigma = g.op("Unsqueeze", sigma, ax1)
        # the input is c_in x: x = input * sqrt(sigma^2 + sigma_data^2)
        x = g.op("Mul", x_in, g.op("Sqrt", g.op("Add", g.op("Mul", sigma, sigma), g.f(sd * sd))))
        return g.f([[1.0]]), sigma, x
    if kind == "rectified_flow":
        s = g.op("Div", t, g.f(path["time_scale"]))
        if path["time"] == "noise_at_0":
            s = g.op("Sub", g.f(1.0), s)
        s = g.op("Unsqueeze", s, ax1)
        return g.op("Sub", g.f(1.0), s), s, x_in
    if kind == "continuous_vp":
        bmin, bmax = path["beta_min"], path["beta_max"]
        tt = g.op("Div", t, g.f(path["time_scale"]))
        la = g.op("Sub", g.op("Mul", g.op("Mul", tt, tt), g.f(-0.25 * (bmax - bmin))), g.op("Mul", tt, g.f(0.5 * bmin)))
        alpha = g.op("Exp", la)
        sigma = g.op("Sqrt", g.op("Sub", g.f(1.0), g.op("Mul", alpha, alpha)))
        return g.op("Unsqueeze", alpha, ax1), g.op("Unsqueeze", sigma, ax1), x_in
    if kind == "discrete_vp":
        # alphas_cumprod from the betas, in the graph (cumprod as exp(cumsum(log))) so the file stays small
        cfg = path["scheduler_config"]
        T = cfg["num_train_timesteps"]
        b0, b1 = cfg["beta_start"], cfg["beta_end"]
        i = g.op("Range", g.f(0.0), g.f(float(T)), g.f(1.0))
        if cfg["beta_schedule"] == "scaled_linear":
            r = g.op("Add", g.op("Mul", i, g.f((b1 ** 0.5 - b0 ** 0.5) / (T - 1))), g.f(b0 ** 0.5))
            betas = g.op("Mul", r, r)
        elif cfg["beta_schedule"] == "linear":
            betas = g.op("Add", g.op("Mul", i, g.f((b1 - b0) / (T - 1))), g.f(b0))
        else:
            raise ValueError(cfg["beta_schedule"])
        one_minus_acp_log = g.op("Log", g.op("Sub", g.f(1.0), betas))
        acp = g.op("Exp", g.op("CumSum", one_minus_acp_log, g.const(0, np.int64, "axis")))
        one_minus_acp = g.op("Sub", g.f(1.0), acp)
        a_tab = g.op("Sqrt", acp)
        s_tab = g.op("Sqrt", one_minus_acp)
        if t.endswith("@int"):
            ti = g.op("Max", g.op("Min", t[:-4], g.const(T - 1, np.int64, "tmax")), g.const(0, np.int64, "tmin"))
            alpha = g.op("Gather", a_tab, ti, axis=0)
            sigma = g.op("Gather", s_tab, ti, axis=0)
            return g.op("Unsqueeze", alpha, ax1), g.op("Unsqueeze", sigma, ax1), x_in
        lr_tab = g.op("Mul", g.op("Sub", g.op("Log", one_minus_acp), g.op("Log", acp)), g.f(0.5))
        tc = g.op("Clip", t, g.f(0.0), g.f(float(T - 1)))
        fl = g.op("Floor", tc)
        lo = g.op("Min", fl, g.f(float(T - 2)))
        w = g.op("Sub", tc, lo)
        lo_i = g.op("Cast", lo, to=I64)
        hi_i = g.op("Add", lo_i, g.const(1, np.int64, "one"))
        l0 = g.op("Gather", lr_tab, lo_i, axis=0)
        l1 = g.op("Gather", lr_tab, hi_i, axis=0)
        s = g.op("Exp", g.op("Add", g.op("Mul", g.op("Sub", g.f(1.0), w), l0), g.op("Mul", w, l1)))
        alpha_i = g.op("Reciprocal", g.op("Sqrt", g.op("Add", g.f(1.0), g.op("Mul", s, s))))
        sigma_i = g.op("Mul", s, alpha_i)
        # at an integer t, alpha = sqrt(acp[t]) and sigma = sqrt(1 - acp[t]) exactly
        is_int = g.op("Equal", tc, fl)
        fl_i = g.op("Cast", fl, to=I64)
        alpha = g.op("Where", is_int, g.op("Gather", a_tab, fl_i, axis=0), alpha_i)
        sigma = g.op("Where", is_int, g.op("Gather", s_tab, fl_i, axis=0), sigma_i)
        return g.op("Unsqueeze", alpha, ax1), g.op("Unsqueeze", sigma, ax1), x_in
    raise ValueError(kind)


def build(spec, out_dir):
    name, path, prediction, velocity, sdt, tdt, (xn, tn, on), conditional = spec
    g = G()
    inputs = [helper.make_tensor_value_info(xn, sdt, ["batch", D]), helper.make_tensor_value_info(tn, tdt, ["batch"])]
    if conditional:
        inputs.append(helper.make_tensor_value_info("c", I64, ["batch"]))
    outputs = [helper.make_tensor_value_info(on, sdt, ["batch", D])]

    w = np.array(MIXTURE["weights"], np.float64)
    mu = np.array(MIXTURE["means"], np.float64)
    s2 = np.array(MIXTURE["stds"], np.float64) ** 2

    x_in = g.op("Cast", xn, to=F64)
    if tdt == I64:
        t = tn + "@int"
    else:
        t = g.op("Cast", tn, to=F64)
    alpha, sigma, x = decode_time(g, path, t, x_in)

    ax1 = g.const([1], np.int64, "axes")
    ax2 = g.const([2], np.int64, "axes")
    # log weights [B,K] or [1,K]
    if conditional:
        big_neg = -1e300  # finite, so that exp(log r - max) is 0 without inf - inf
        table = np.full((K + 1, K), big_neg)
        for k in range(K):
            table[k, k] = 0.0
        table[K] = np.log(w)
        logw = g.op("Gather", g.const(table, np.float64, "log_weights_by_class"), "c", axis=0)
    else:
        logw = g.f(np.log(w)[None, :])
    sig2 = g.op("Mul", sigma, sigma)                                              # [B,1]
    v = g.op("Add", g.op("Mul", g.op("Mul", alpha, alpha), g.f(s2[None, :])), sig2)  # [B,K]
    amu = g.op("Mul", g.op("Unsqueeze", alpha, ax2), g.f(mu[None, :, :]))         # [.,K,D]
    diff = g.op("Sub", g.op("Unsqueeze", x, ax1), amu)                            # [B,K,D]
    sq = g.op("ReduceSum", g.op("Mul", diff, diff), ax2, keepdims=0)              # [B,K]
    logr = g.op("Sub", g.op("Sub", logw, g.op("Mul", g.op("Log", v), g.f(D / 2.0))),
                g.op("Div", sq, g.op("Mul", v, g.f(2.0))))
    m = g.op("ReduceMax", logr, axes=[1], keepdims=1)
    e = g.op("Exp", g.op("Sub", logr, m))
    r = g.op("Div", e, g.op("ReduceSum", e, ax1, keepdims=1))                      # [B,K]
    gain = g.op("Div", g.op("Mul", alpha, g.f(s2[None, :])), v)                   # [B,K]
    ek = g.op("Add", g.f(mu[None, :, :]), g.op("Mul", g.op("Unsqueeze", gain, ax2), diff))  # [B,K,D]
    x0 = g.op("ReduceSum", g.op("Mul", g.op("Unsqueeze", r, ax2), ek), ax1, keepdims=0)     # [B,D]

    resid = g.op("Sub", x, g.op("Mul", alpha, x0))  # x - alpha x0hat = sigma eps
    if prediction == "x0":
        y = x0
    elif prediction == "epsilon":
        y = g.op("Div", resid, sigma)
    elif prediction == "score":
        y = g.op("Neg", g.op("Div", resid, sig2))
    elif prediction == "v":
        y = g.op("Sub", g.op("Mul", alpha, g.op("Div", resid, sigma)), g.op("Mul", sigma, x0))
    elif prediction == "flow_velocity":
        eps = g.op("Div", resid, sigma)
        y = g.op("Sub", x0, eps) if velocity == "data_minus_noise" else g.op("Sub", eps, x0)
    elif prediction == "edm_F":
        sd2 = path["sigma_data"] ** 2
        tot = g.op("Add", sig2, g.f(sd2))
        c_skip = g.op("Div", g.f(sd2), tot)
        c_out = g.op("Div", g.op("Mul", sigma, g.f(path["sigma_data"])), g.op("Sqrt", tot))
        y = g.op("Div", g.op("Sub", x0, g.op("Mul", c_skip, x)), c_out)
    else:
        raise ValueError(prediction)
    g.op("Cast", y, to=sdt, name=on)

    graph = helper.make_graph(g.nodes, name.replace("-", "_"), inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", common.OPSET)],
                              producer_name="GenerativePaths tools/models/build_gmm.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    out = os.path.join(out_dir, name + ".onnx")
    onnx.save(model, out)

    card = {"format": "gpaths-model/1", "kind": "denoiser", "inputs": {"sample": xn, "time": tn}}
    if conditional:
        card["inputs"]["class"] = "c"
    card["output"] = on
    card["prediction"] = prediction
    if velocity:
        card["velocity"] = velocity
    card["path"] = path
    card["sample_shape"] = [D]
    if conditional:
        card["classes"] = K
        card["unconditional_class"] = K
    card["mixture"] = MIXTURE
    common.write_json(out + ".json", card)
    return out


# ---------------------------------------------------------------------------------------------
# An independent oracle that reads only the card, for checking the graphs in ONNX Runtime.

def oracle(card, x_in, t_in, c=None):
    """float64 reference from the card: x_in [B,D], t_in [B] as fed to the graph."""
    path, pred = card["path"], card["prediction"]
    mix = card["mixture"]
    B = len(t_in)
    t = np.asarray(t_in, np.float64)
    x = np.asarray(x_in, np.float64).copy()
    if path["kind"] == "ve":
        alpha, sigma = np.ones(B), t.copy()
    elif path["kind"] == "edm":
        sigma = np.exp(4.0 * t)
        alpha = np.ones(B)
        x = x * np.sqrt(sigma ** 2 + path["sigma_data"] ** 2)[:, None]
    elif path["kind"] == "rectified_flow":
        s = t / path["time_scale"]
        if path["time"] == "noise_at_0":
            s = 1.0 - s
        alpha, sigma = 1.0 - s, s
    elif path["kind"] == "continuous_vp":
        tt = t / path["time_scale"]
        la = -0.25 * tt ** 2 * (path["beta_max"] - path["beta_min"]) - 0.5 * tt * path["beta_min"]
        alpha = np.exp(la)
        sigma = np.sqrt(1.0 - alpha ** 2)
    elif path["kind"] == "discrete_vp":
        alpha, sigma = common.discrete_vp_alpha_sigma(common.alphas_cumprod(path["scheduler_config"]), t)
    else:
        raise ValueError(path["kind"])
    out = np.zeros_like(x)
    for b in range(B):
        ws = np.array(mix["weights"], np.float64)
        ks = range(len(ws))
        if c is not None and c[b] != card["unconditional_class"]:
            ks = [int(c[b])]
        logr, means = [], []
        for k in ks:
            mu = np.array(mix["means"][k], np.float64)
            s2 = mix["stds"][k] ** 2
            v = alpha[b] ** 2 * s2 + sigma[b] ** 2
            d = x[b] - alpha[b] * mu
            logr.append(np.log(ws[k]) - len(mu) / 2 * np.log(v) - d @ d / (2 * v))
            means.append(mu + alpha[b] * s2 / v * d)
        logr = np.array(logr)
        r = np.exp(logr - logr.max())
        r /= r.sum()
        x0 = sum(ri * mi for ri, mi in zip(r, means))
        a, s = alpha[b], sigma[b]
        eps = (x[b] - a * x0) / s if s > 0 else np.full(len(x0), np.nan)
        if pred == "x0":
            y = x0
        elif pred == "epsilon":
            y = eps
        elif pred == "score":
            y = -eps / s
        elif pred == "v":
            y = a * eps - s * x0
        elif pred == "flow_velocity":
            y = x0 - eps if card["velocity"] == "data_minus_noise" else eps - x0
        elif pred == "edm_F":
            sd = path["sigma_data"]
            y = (x0 - sd ** 2 / (s ** 2 + sd ** 2) * x[b]) / (s * sd / np.sqrt(s ** 2 + sd ** 2))
        out[b] = y
    return out


def test_points(card, rng, n, conditional):
    """Inputs (x, t[, c]) as the graph is fed them, spread over the path."""
    path = card["path"]
    mix = card["mixture"]
    k = rng.choice(3, size=n, p=mix["weights"])
    x0 = np.array(mix["means"])[k] + np.array(mix["stds"])[k][:, None] * rng.standard_normal((n, D))
    eps = rng.standard_normal((n, D))
    kind = path["kind"]
    if kind in ("ve", "edm"):
        sigma = np.exp(rng.uniform(np.log(0.002), np.log(80.0), n))
        if n >= 8:
            sigma[:2] = [0.002, 80.0]
        alpha = np.ones(n)
    if kind == "ve":
        t = sigma
    elif kind == "edm":
        t = np.log(sigma) / 4.0
    elif kind == "rectified_flow":
        s = rng.uniform(0.001, 1.0, n)
        if n >= 8:
            s[:2] = [0.001, 1.0]
        alpha, sigma = 1 - s, s
        t = path["time_scale"] * (s if path["time"] == "noise_at_1" else 1 - s)
    elif kind == "continuous_vp":
        tt = rng.uniform(0.001, 1.0, n)
        if n >= 8:
            tt[:2] = [0.001, 1.0]
        la = -0.25 * tt ** 2 * (path["beta_max"] - path["beta_min"]) - 0.5 * tt * path["beta_min"]
        alpha = np.exp(la)
        sigma = np.sqrt(1 - alpha ** 2)
        t = path["time_scale"] * tt
    elif kind == "discrete_vp":
        t = rng.uniform(0, 999, n)
        if n >= 8:
            t[:6] = [0, 1, 500, 998, 999, 998.5]
        if card["name_time_int"]:
            t = np.round(t)
        alpha, sigma = common.discrete_vp_alpha_sigma(common.alphas_cumprod(path["scheduler_config"]), t)
    x = alpha[:, None] * x0 + sigma[:, None] * eps
    if kind == "edm":
        x = x / np.sqrt(sigma ** 2 + path["sigma_data"] ** 2)[:, None]
    c = None
    if conditional:
        c = rng.integers(0, 4, n)
        if n >= 8:
            c[:4] = [0, 1, 2, 3]
    return x, t, c


def write_cases(spec, onnx_path, cases_dir, seed):
    name, path, prediction, velocity, sdt, tdt, (xn, tn, on), conditional = spec
    card = json.load(open(onnx_path + ".json"))
    card["name_time_int"] = tdt == I64
    rng = np.random.default_rng(seed)
    npdt = {F32: np.float32, F16: np.float16, I64: np.int64}
    cases = []
    for n in (1, 16):
        x, t, c = test_points(card, rng, n, conditional)
        x = x.astype(npdt[sdt])
        t = t.astype(npdt[tdt])
        y = oracle(card, x, t, c).astype(npdt[sdt])
        inputs = [(xn, x), (tn, t)] + ([("c", c.astype(np.int64))] if conditional else [])
        cases.append((inputs, [(on, y, 2e-3 if sdt == F16 else 2e-6)]))
    common.write_check_cases(cases_dir, onnx_path, cases)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", help="also write ONNX Runtime check cases to this folder")
    a = ap.parse_args()
    os.makedirs(common.FIXTURES, exist_ok=True)
    os.makedirs(common.MODELS, exist_ok=True)
    built = [(SHIPPED, build(SHIPPED, common.MODELS))]
    for spec in SPECS:
        built.append((spec, build(spec, common.FIXTURES)))
    for spec, p in built:
        print(f"wrote {os.path.relpath(p, common.ROOT)} ({os.path.getsize(p)} bytes)")
    if a.cases:
        os.makedirs(a.cases, exist_ok=True)
        for i, (spec, p) in enumerate(built):
            write_cases(spec, p, a.cases, seed=100 + i)
        print("wrote check cases to", a.cases)


if __name__ == "__main__":
    sys.exit(main())
