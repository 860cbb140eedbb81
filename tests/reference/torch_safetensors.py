"""Writes tests/fixtures/quadrants_torch.safetensors with PyTorch itself and prints the
outputs the Rust test expects (tests/test_safetensors.rs).

    python3 tests/reference/torch_safetensors.py

With `--check FILE`, loads a file written by this library into the same nn.Sequential
with `load_state_dict(strict=True)` and prints its outputs, to verify the other direction.
"""
import sys
import torch
import torch.nn as nn
from safetensors.torch import save_file, load_file

torch.manual_seed(7)
model = nn.Sequential(nn.Linear(2, 50), nn.ReLU(), nn.Linear(50, 4), nn.Softmax(dim=1)).float()
x = torch.tensor([[2.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])

if len(sys.argv) == 3 and sys.argv[1] == "--check":
    model.load_state_dict(load_file(sys.argv[2]), strict=True)
    print(model(x).detach().tolist())
    sys.exit(0)

save_file(model.state_dict(), "tests/fixtures/quadrants_torch.safetensors")
out = model(x).detach().reshape(-1).tolist()
print("const TORCH_OUT: [f32; 16] = [" + ", ".join(repr(v) for v in out) + "];")
