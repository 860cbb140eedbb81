"""Golden numbers for nn-runtime/tests/optim_reference.rs, computed with PyTorch (float64).

Run from the repository root:
    python3 nn-runtime/tests/reference/optim_reference.py > nn-runtime/tests/reference/optim_values.rs
(requires torch; the output is committed, the tests never run Python).

Optimizers: torch.optim.{SGD, Adagrad, RMSprop, Adam, AdamW} themselves (foreach=False,
the single-tensor reference loops). AdaBound is not part of torch: `adabound_step` below
is a transcription of the update rule of the authors' reference implementation
(`adabound.AdaBound`, Luo et al. 2019) written with torch tensor operations, because the
published package uses an argument order that current torch no longer accepts.

The problem: parameters W (2x3) and b (2); at step k the loss is
    0.5 * ||W x_k + b - y_k||^2
with fixed (x_k, y_k), so the gradients depend on the parameters. Every case records the
parameters after each step. Rust stores W column-major (element (o, i) at i*2 + o), so the
constants list W in Fortran order, then b.

Schedules: torch.optim.lr_scheduler itself, on a dummy SGD optimizer, recording
param_groups[0]["lr"] at epochs 0..n.
"""
import math
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)

STEPS = 6
X = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.5], [-1.2, 0.4, 2.0],
              [2.5, -0.7, 0.1], [0.05, 1.1, -0.3], [-0.9, -1.6, 0.75]])
Y = np.array([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.9], [0.0, 2.0], [-1.0, -0.4], [0.7, 0.1]])
W0 = np.array([[0.2, -0.4, 0.7], [-0.6, 0.3, 0.1]])
B0 = np.array([0.05, -0.25])


def fmt(v):
    return repr(float(v))


def emit_vec(name, v):
    v = list(v)
    print(f"pub const {name}: [f64; {len(v)}] = [{', '.join(fmt(x) for x in v)}];")


def emit_mat(name, rows):
    n = len(rows[0])
    print(f"pub const {name}: [[f64; {n}]; {len(rows)}] = [")
    for r in rows:
        print(f"    [{', '.join(fmt(x) for x in r)}],")
    print("];")


def flat(W, b):
    return list(W.detach().numpy().flatten(order="F")) + list(b.detach().numpy())


def params():
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    return W, b


def grads_at(W, b, k):
    W.grad = None
    b.grad = None
    x = torch.tensor(X[k])
    y = torch.tensor(Y[k])
    loss = 0.5 * ((W @ x + b - y) ** 2).sum()
    loss.backward()


def run_torch(make, lr_changes=None):
    """`make(W, b)` builds the optimizer; `lr_changes`: {step index: new lr} applied before it."""
    W, b = params()
    opt = make(W, b)
    out = []
    for k in range(STEPS):
        if lr_changes and k in lr_changes:
            for g in opt.param_groups:
                g["lr"] = lr_changes[k]
        grads_at(W, b, k)
        opt.step()
        out.append(flat(W, b))
    return out


def weights_only(W, b, wd):
    """PyTorch parameter groups giving the library's default: decay the weight only."""
    return [{"params": [W], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]


def adabound_run(lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                 weight_decay=0.0, amsbound=False, decay_bias=True, lr_changes=None):
    W, b = params()
    base_lr = lr
    state = {}
    clamped = [0, 0]
    out = []
    for k in range(STEPS):
        if lr_changes and k in lr_changes:
            lr = lr_changes[k]
        grads_at(W, b, k)
        with torch.no_grad():
            for p in (W, b):
                grad = p.grad.clone()
                st = state.setdefault(id(p), {"step": 0, "exp_avg": torch.zeros_like(p),
                                              "exp_avg_sq": torch.zeros_like(p),
                                              "max_exp_avg_sq": torch.zeros_like(p)})
                st["step"] += 1
                wd = weight_decay if (p is W or decay_bias) else 0.0
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                beta1, beta2 = betas
                st["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                st["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if amsbound:
                    torch.max(st["max_exp_avg_sq"], st["exp_avg_sq"], out=st["max_exp_avg_sq"])
                    denom = st["max_exp_avg_sq"].sqrt().add_(eps)
                else:
                    denom = st["exp_avg_sq"].sqrt().add_(eps)
                bc1 = 1 - beta1 ** st["step"]
                bc2 = 1 - beta2 ** st["step"]
                step_size = lr * math.sqrt(bc2) / bc1
                flr = final_lr * lr / base_lr
                lower = flr * (1 - 1 / (gamma * st["step"] + 1))
                upper = flr * (1 + 1 / (gamma * st["step"]))
                rate = torch.full_like(denom, step_size).div_(denom)
                clamped[0] += int((rate < lower).sum())
                clamped[1] += int((rate > upper).sum())
                rate.clamp_(lower, upper).mul_(st["exp_avg"])
                p.add_(-rate)
        out.append(flat(W, b))
    return out, clamped


O = torch.optim
print("// @generated by nn-runtime/tests/reference/optim_reference.py with torch", torch.__version__)
print("// Do not edit: rerun the script.")
print()
print(f"pub const STEPS: usize = {STEPS};")
emit_mat("X", X)
emit_mat("Y", Y)
emit_vec("W0_COLUMN_MAJOR", W0.flatten(order="F"))
emit_vec("B0", B0)
print()

cases = {
    "SGD_PLAIN": lambda W, b: O.SGD([W, b], lr=0.1, foreach=False),
    "SGD_MOMENTUM": lambda W, b: O.SGD([W, b], lr=0.05, momentum=0.9, foreach=False),
    "SGD_DAMPENING": lambda W, b: O.SGD([W, b], lr=0.05, momentum=0.8, dampening=0.3, foreach=False),
    "SGD_NESTEROV": lambda W, b: O.SGD([W, b], lr=0.05, momentum=0.9, nesterov=True, foreach=False),
    "SGD_WD_ALL": lambda W, b: O.SGD([W, b], lr=0.05, momentum=0.5, weight_decay=0.2, foreach=False),
    "SGD_WD_WEIGHTS": lambda W, b: O.SGD(weights_only(W, b, 0.2), lr=0.05, momentum=0.5, foreach=False),
    "ADAGRAD_DEFAULT": lambda W, b: O.Adagrad([W, b], lr=0.1, foreach=False),
    "ADAGRAD_OPTIONS": lambda W, b: O.Adagrad([W, b], lr=0.2, lr_decay=0.05, initial_accumulator_value=0.1, eps=1e-6, foreach=False),
    "ADAGRAD_WD_ALL": lambda W, b: O.Adagrad([W, b], lr=0.1, weight_decay=0.3, foreach=False),
    "ADAGRAD_WD_WEIGHTS": lambda W, b: O.Adagrad(weights_only(W, b, 0.3), lr=0.1, foreach=False),
    "RMSPROP_DEFAULT": lambda W, b: O.RMSprop([W, b], lr=0.01, foreach=False),
    "RMSPROP_MOMENTUM": lambda W, b: O.RMSprop([W, b], lr=0.01, alpha=0.9, momentum=0.5, foreach=False),
    "RMSPROP_CENTERED": lambda W, b: O.RMSprop([W, b], lr=0.01, centered=True, eps=1e-6, foreach=False),
    "RMSPROP_CENTERED_MOMENTUM_WD_ALL": lambda W, b: O.RMSprop([W, b], lr=0.01, alpha=0.95, centered=True, momentum=0.7, weight_decay=0.1, foreach=False),
    "RMSPROP_WD_WEIGHTS": lambda W, b: O.RMSprop(weights_only(W, b, 0.1), lr=0.01, foreach=False),
    "ADAM_DEFAULT": lambda W, b: O.Adam([W, b], lr=0.01, foreach=False),
    "ADAM_AMSGRAD": lambda W, b: O.Adam([W, b], lr=0.01, amsgrad=True, foreach=False),
    "ADAM_OPTIONS_WD_ALL": lambda W, b: O.Adam([W, b], lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False),
    "ADAM_WD_WEIGHTS": lambda W, b: O.Adam(weights_only(W, b, 0.1), lr=0.02, betas=(0.8, 0.99), eps=1e-6, foreach=False),
    "ADAMW_DEFAULT_ALL": lambda W, b: O.AdamW([W, b], lr=0.01, foreach=False),
    "ADAMW_WD_WEIGHTS": lambda W, b: O.AdamW(weights_only(W, b, 0.01), lr=0.01, foreach=False),
    "ADAMW_AMSGRAD_WD_ALL": lambda W, b: O.AdamW([W, b], lr=0.05, weight_decay=0.3, amsgrad=True, foreach=False),
}
for name, make in cases.items():
    emit_mat(name, run_torch(make))

# set_lr between steps (what a schedule does): lr halves before step 3 and again before step 5.
LR_CHANGES = {3: 0.005, 5: 0.0025}
emit_mat("ADAM_LR_CHANGES", run_torch(lambda W, b: O.Adam([W, b], lr=0.01, foreach=False), LR_CHANGES))
emit_mat("SGD_LR_CHANGES", run_torch(lambda W, b: O.SGD([W, b], lr=0.01, momentum=0.9, foreach=False), LR_CHANGES))

ab_cases = {
    "ADABOUND_DEFAULT": dict(lr=1e-3),
    "ADABOUND_BOUNDS": dict(lr=0.01, final_lr=0.05, gamma=0.5),
    "AMSBOUND_WD_ALL": dict(lr=0.01, betas=(0.8, 0.99), final_lr=0.05, gamma=0.5, eps=1e-6, weight_decay=0.1, amsbound=True),
    "ADABOUND_WD_WEIGHTS": dict(lr=0.01, final_lr=0.05, gamma=0.5, weight_decay=0.1, decay_bias=False),
    "ADABOUND_LR_CHANGES": dict(lr=0.01, final_lr=0.05, gamma=0.5, lr_changes=LR_CHANGES),
}
for name, kw in ab_cases.items():
    out, clamped = adabound_run(**kw)
    print(f"// {name}: elements clamped to the lower bound {clamped[0]} times, to the upper bound {clamped[1]} times")
    emit_mat(name, out)

print()


def lrs(make_sched, epochs, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = O.SGD([p], lr=0.1)
    sched = make_sched(opt)
    out = [opt.param_groups[0]["lr"]]
    for e in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
        out.append(opt.param_groups[0]["lr"])
    return out


S = O.lr_scheduler
emit_vec("SCHED_STEP", lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12))
emit_vec("SCHED_STEP_DEFAULT_GAMMA", lrs(lambda o: S.StepLR(o, step_size=2), 7))
emit_vec("SCHED_EXPONENTIAL", lrs(lambda o: S.ExponentialLR(o, gamma=0.9), 10))
emit_vec("SCHED_COSINE", lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 25))
emit_vec("SCHED_WARM_RESTARTS", lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01), 25))
emit_vec("SCHED_WARM_RESTARTS_T_MULT_1", lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4), 10))
emit_vec("SCHED_LINEAR_DEFAULT", lrs(lambda o: S.LinearLR(o), 8))
emit_vec("SCHED_LINEAR", lrs(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=4), 8))
emit_vec("SCHED_SEQUENTIAL", lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=10)], milestones=[5]), 20))
emit_vec("SCHED_SEQUENTIAL_3", lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.8), S.StepLR(o, step_size=2, gamma=0.5)], milestones=[3, 8]), 14))

PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69995, 0.7, 0.7, 0.5, 0.6, 0.6, 0.6, 0.6]
emit_vec("PLATEAU_METRICS", PLATEAU_METRICS)
emit_vec("SCHED_PLATEAU_PATIENCE_2", lrs(lambda o: S.ReduceLROnPlateau(o, patience=2), 20, PLATEAU_METRICS))
emit_vec("SCHED_PLATEAU_COOLDOWN", lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=2), 20, PLATEAU_METRICS))
emit_vec("SCHED_PLATEAU_ABS_MIN_LR", lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.2, patience=0, threshold=0.05, threshold_mode="abs", min_lr=0.003), 20, PLATEAU_METRICS))
FLAT = [1.0] * 3 + [0.99995] * 27
emit_vec("PLATEAU_FLAT", FLAT)
emit_vec("SCHED_PLATEAU_DEFAULTS", lrs(lambda o: S.ReduceLROnPlateau(o), 30, FLAT))
ACC = [0.5, 0.6, 0.6, 0.61, 0.6, 0.6, 0.7, 0.7, 0.69, 0.7, 0.72, 0.72]
emit_vec("PLATEAU_ACCURACY", ACC)
emit_vec("SCHED_PLATEAU_MAX", lrs(lambda o: S.ReduceLROnPlateau(o, mode="max", patience=1, threshold=0.02), 12, ACC))
emit_vec("SCHED_PLATEAU_MAX_ABS_EPS", lrs(lambda o: S.ReduceLROnPlateau(o, mode="max", patience=0, threshold=0.0, threshold_mode="abs", factor=0.5, eps=0.02), 12, ACC))

print()
# Gradient clipping: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ on (W.grad, b.grad).
G_W = np.array([[0.3, -1.2, 0.8], [2.0, -0.1, 0.05]])
G_B = np.array([-0.7, 1.4])
emit_vec("CLIP_G", list(G_W.flatten(order="F")) + list(G_B))
for name, max_norm in [("CLIP_NORM_1", 1.0), ("CLIP_NORM_LARGE", 10.0)]:
    W, b = params()
    W.grad = torch.tensor(G_W)
    b.grad = torch.tensor(G_B)
    total = torch.nn.utils.clip_grad_norm_([W, b], max_norm)
    print(f"pub const {name}_TOTAL: f64 = {fmt(total)};")
    emit_vec(name, list(W.grad.numpy().flatten(order="F")) + list(b.grad.numpy()))
W, b = params()
W.grad = torch.tensor(G_W)
b.grad = torch.tensor(G_B)
torch.nn.utils.clip_grad_value_([W, b], 0.5)
emit_vec("CLIP_VALUE_HALF", list(W.grad.numpy().flatten(order="F")) + list(b.grad.numpy()))
