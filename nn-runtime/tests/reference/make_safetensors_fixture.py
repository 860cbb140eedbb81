#!/usr/bin/env python3
"""Reference data for nn-runtime's safetensors loader (nn-runtime/src/io).

Writes nn-runtime/tests/fixtures/sequential.safetensors: what
`safetensors.torch.save_file(model.state_dict(), path)` writes for

    model = nn.Sequential(nn.Linear(2, 3), nn.PReLU(), nn.Linear(3, 2))

with known float32 values, built with numpy and the `safetensors` package
(torch itself is not needed: a torch state_dict holds exactly these names,
shapes and row-major [out, in] data):

    k.weight[r, c] = 10 * (k + 1) + r + c / 10     (Linear layers k = 0, 2)
    k.bias[r]      = -(k + 1) - r / 10
    1.weight       = [0.25]                         (PReLU slope, shape [1])

    pip install numpy safetensors
    python3 nn-runtime/tests/reference/make_safetensors_fixture.py

With `--check FILE`, instead reads a file saved by the Rust side from a network
holding these same values and checks names, shapes, metadata and values (F32
or F64 data). The ignored Rust test `write_files_for_python_check` writes such
files (the fixture loaded into a `network!`-generated network, saved as F32
and as F64):

    NN_IO_PY_CHECK_DIR=/tmp/nncheck cargo test -p nn-runtime --lib \
        io::tests::write_files_for_python_check -- --ignored
    python3 nn-runtime/tests/reference/make_safetensors_fixture.py --check /tmp/nncheck/f32.safetensors
    python3 nn-runtime/tests/reference/make_safetensors_fixture.py --check /tmp/nncheck/f64.safetensors
"""

import os
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "sequential.safetensors")


def linear(k, out_features, in_features):
    r = np.arange(out_features, dtype=np.float64)[:, None]
    c = np.arange(in_features, dtype=np.float64)[None, :]
    weight = (10.0 * (k + 1) + r + c / 10.0).astype(np.float32)
    bias = (-(k + 1) - np.arange(out_features) / 10.0).astype(np.float32)
    return {f"{k}.weight": weight, f"{k}.bias": bias}


def state_dict():
    sd = {}
    sd.update(linear(0, 3, 2))  # nn.Linear(2, 3): weight [3, 2]
    sd["1.weight"] = np.array([0.25], dtype=np.float32)  # nn.PReLU()
    sd.update(linear(2, 2, 3))  # nn.Linear(3, 2): weight [2, 3]
    return sd


def check(path):
    expected = state_dict()
    with safe_open(path, framework="numpy") as f:
        assert f.metadata() == {"format": "pt"}, f.metadata()
    got = load_file(path)
    assert sorted(got) == sorted(expected), sorted(got)
    for name, want in expected.items():
        have = got[name]
        assert have.shape == want.shape, (name, have.shape, want.shape)
        assert np.array_equal(have.astype(np.float32), want), (name, have, want)
        print(f"{name}: {have.dtype} {list(have.shape)} ok")
    print(f"{path}: all {len(expected)} tensors match")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    save_file(state_dict(), FIXTURE, metadata={"format": "pt"})
    check(FIXTURE)


if __name__ == "__main__":
    main()
