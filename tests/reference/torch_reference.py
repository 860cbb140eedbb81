"""Golden numbers for tests/test_reference.rs, computed with PyTorch (float64).

Run from the repository root:  python3 tests/reference/torch_reference.py > tests/reference/torch_reference.rs
(requires `pip install torch numpy`; the output is committed, the tests never run Python).

Each case builds an nn.Sequential with torch's default initialisation from a fixed seed,
runs a batch, computes the loss and every gradient with autograd, and prints Rust
constants: parameters, input, targets, outputs, loss and gradients, all row-major as
PyTorch stores them.
"""
import torch
import torch.nn as nn

torch.manual_seed(20261125)
torch.set_default_dtype(torch.float64)


def emit(name, t):
    flat = t.detach().reshape(-1).tolist()
    body = ", ".join(repr(float(v)) for v in flat)
    print(f"pub const {name}: [f64; {len(flat)}] = [{body}];")


def case(prefix, model, logits_upto, loss_fn, x, y, loss_on_logits):
    """`logits_upto`: number of modules whose output feeds the loss when loss_on_logits."""
    x = x.clone().requires_grad_(True)
    out = model(x)
    if loss_on_logits:
        logits = model[:logits_upto](x)
        loss = loss_fn(logits, y)
    else:
        loss = loss_fn(out, y)
    loss.backward()
    for name, p in model.state_dict().items():
        emit(f"{prefix}_P_{name.replace('.', '_').upper()}", p)
    for name, p in model.named_parameters():
        emit(f"{prefix}_G_{name.replace('.', '_').upper()}", p.grad)
    emit(f"{prefix}_X", x)
    emit(f"{prefix}_Y", y)
    emit(f"{prefix}_OUT", out)
    emit(f"{prefix}_LOSS", loss.reshape(1))
    emit(f"{prefix}_GX", x.grad)


B = 4
# Case A: tanh, leaky ReLU, softmax + cross-entropy (PyTorch: CrossEntropyLoss on logits).
a = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.LeakyReLU(0.2), nn.Linear(4, 3), nn.Softmax(dim=1))
xa = torch.randn(B, 3)
ya = torch.nn.functional.one_hot(torch.tensor([2, 0, 1, 2]), 3).double()
case("A", a, 5, nn.CrossEntropyLoss(), xa, ya, True)

# Case B: PReLU, ELU, GELU, softplus, SiLU, sigmoid + BCE.
b = nn.Sequential(
    nn.Linear(3, 6), nn.PReLU(), nn.Linear(6, 6), nn.ELU(), nn.Linear(6, 5), nn.GELU(),
    nn.Linear(5, 4), nn.Softplus(), nn.Linear(4, 4), nn.SiLU(), nn.Linear(4, 2), nn.Sigmoid(),
)
xb = torch.randn(B, 3)
yb = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
case("B", b, 12, nn.BCELoss(), xb, yb, False)

# Case C: ReLU, sigmoid, a bias-free layer, MSE.
c = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 2, bias=False))
xc = torch.randn(B, 3)
yc = torch.randn(B, 2)
case("C", c, 5, nn.MSELoss(), xc, yc, False)

# Case D: the same network as C with L1 (MAE).
d = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 2, bias=False))
d.load_state_dict(c.state_dict())
case("D", d, 5, nn.L1Loss(), xc, yc, False)
