#!/usr/bin/env python3
"""Writes benches/peers/RESULTS.md from criterion's output of the peer benchmarks.

Reads every `criterion/*/*/new/benchmark.json` under the target directory (CARGO_TARGET_DIR,
or benches/peers/target when unset) whose group is `peers/<shape>/<task>`, takes the median
of the matching `estimates.json`, and writes one table per shape and task with the median
time of each library and its ratio to `nn`, plus the machine, the peer versions and the
date. Python 3 standard library only.

Usage: report.py [--target-dir DIR] [--out FILE]
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = ["2-50-4", "784-16-16-10", "784-128-10", "64-256-256-10"]
SHAPE_NOTES = {
    "2-50-4": "relu, softmax; cross-entropy",
    "784-16-16-10": "sigmoid, sigmoid, softmax; cross-entropy",
    "784-128-10": "relu, softmax; cross-entropy",
    "64-256-256-10": "relu, relu, no final activation; mean squared error",
}
TASKS = ["infer-b1", "infer-b64", "train-b1", "train-b32"]
LIBS = ["nn", "dfdx", "candle", "burn"]
PEER_CRATES = ["dfdx", "candle-core", "candle-nn", "burn", "burn-ndarray", "criterion"]
# The target: nn at least this much faster than every peer on these cells.
TARGET_RATIO = 10.0
TARGET_CELLS = [(s, t) for s in ("2-50-4", "784-16-16-10") for t in ("infer-b1", "train-b1")]


def fmt_time(ns):
    for unit, scale in (("ns", 1.0), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)):
        if ns < scale * 1000 or unit == "s":
            v = ns / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    raise AssertionError


def fmt_ratio(peer_ns, nn_ns):
    r = peer_ns / nn_ns
    if r >= 1:
        return f"{r:.3g}x slower" if r < 100 else f"{r:.0f}x slower"
    return f"**{1 / r:.3g}x faster**"


def load(target_dir):
    root = os.path.join(target_dir, "criterion")
    results = {}
    if not os.path.isdir(root):
        sys.exit(f"no criterion output under {root}: run the benchmarks first")
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        parts = bench.get("group_id", "").split("/")
        if len(parts) == 3 and parts[0] == "peers":
            key = (parts[1], parts[2], bench["function_id"])
        elif len(parts) == 4 and parts[0] == "crates":
            # crates/<product>/<shape>/<batch>: nn's kernels against the gemm crate.
            key = ("crates", "/".join(parts[1:]), bench["function_id"])
        else:
            continue
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        results[key] = (est["median"]["point_estimate"], os.path.getmtime(os.path.join(dirpath, "estimates.json")))
    return results


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return ", ".join(x for x in ("avx2", "fma", "avx512f") if x in flags) or "none of avx2/fma/avx512f"
    except OSError:
        pass
    return "unknown"


def versions():
    """Versions of the peer crates as resolved in benches/peers/Cargo.lock."""
    found = {}
    try:
        with open(os.path.join(HERE, "Cargo.lock")) as f:
            lock = f.read()
    except OSError:
        return found
    for block in lock.split("[[package]]"):
        name = re.search(r'^name = "([^"]+)"', block, re.M)
        ver = re.search(r'^version = "([^"]+)"', block, re.M)
        if name and ver and name.group(1) in PEER_CRATES:
            found.setdefault(name.group(1), []).append(ver.group(1))
    return found


def rustc_version():
    try:
        return subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def nn_revision():
    """The commit of the `nn` measured: the repository that holds this package."""
    try:
        rev = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--", "../../nn-runtime", "../../nn-macros"], capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" with uncommitted changes to nn-runtime/nn-macros" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target")))
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--nn", default=None, help="what `nn` is (default: this repository's commit)")
    args = ap.parse_args()

    res = load(args.target_dir)
    if not res:
        sys.exit("no peers/* benchmark results found")
    newest = max(t for _, t in res.values())
    run_date = datetime.datetime.fromtimestamp(newest, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    vers = versions()

    out = []
    w = out.append
    w("# `nn` against peer libraries")
    w("")
    w("Generated by `benches/peers/report.py` from the criterion run of `benches/peers/run.sh`;")
    w("do not edit by hand. Median time per call (inference) or per training step (forward,")
    w("backward, SGD update), f32, release build with default flags, one thread")
    w("(`RAYON_NUM_THREADS=1`; burn's ndarray backend built without `multi-threads`). The")
    w("ratio is the library's median over `nn`'s, measured in the same run.")
    w("")
    w(f"- Date of the run: {run_date}")
    loadavg = "/".join(f"{x:.1f}" for x in os.getloadavg())
    w(f"- Machine: {cpu_model()} ({cpu_flags()}), {os.cpu_count()} logical CPUs, shared with other jobs "
      f"(load average {loadavg} over 1/5/15 min when the report was written)")
    w(f"- `nn`: {args.nn or 'commit ' + nn_revision()}")
    w(f"- Compiler: {rustc_version()}")
    w("- Crates: " + ", ".join(f"{k} {'/'.join(vers[k])}" for k in PEER_CRATES if k in vers))
    w("")

    # Target check first: the cells the issue sets a 10x target for.
    w(f"## Target: `nn` at least {TARGET_RATIO:g}x faster than every peer on 2-50-4 and 784-16-16-10 at batch 1")
    w("")
    w("| shape | task | slowest-to-beat peer | its ratio to nn | met | ratio to nn_grads (training without the fused step) |")
    w("|---|---|---|---|---|---|")
    all_met = True
    for shape, task in TARGET_CELLS:
        nn = res.get((shape, task, "nn"))
        peers = [(res[(shape, task, lib)][0], lib) for lib in LIBS[1:] if (shape, task, lib) in res]
        if nn is None or not peers:
            w(f"| {shape} | {task} | missing | | |")
            all_met = False
            continue
        best_ns, best_lib = min(peers)
        ratio = best_ns / nn[0]
        met = ratio >= TARGET_RATIO
        all_met &= met
        grads = res.get((shape, task, "nn_grads"))
        alt = f"{best_ns / grads[0]:.3g}x" if grads else ""
        w(f"| {shape} | {task} | {best_lib} | {ratio:.3g}x | {'yes' if met else '**no**'} | {alt} |")
    w("")
    w(f"Target {'met in every cell' if all_met else 'NOT met in every cell'}.")
    w("")

    # Summary: one row per cell, one column per library.
    w("## Summary (median; ratio to nn)")
    w("")
    w("`nn`'s training step is the generated `sgd_step` (the SGD update applied inside the")
    w("backward pass); `nn_grads`, in the per-cell tables below, is the same step as gradients")
    w("then a separate update.")
    w("")
    w("| shape | task | " + " | ".join(LIBS) + " |")
    w("|---|---|" + "---|" * len(LIBS))
    for shape in SHAPES:
        for task in TASKS:
            nn = res.get((shape, task, "nn"))
            if nn is None and not any((shape, task, lib) in res for lib in LIBS):
                continue
            cells = []
            for lib in LIBS:
                r = res.get((shape, task, lib))
                if r is None:
                    cells.append("—")
                elif lib == "nn" or nn is None:
                    cells.append(fmt_time(r[0]))
                else:
                    cells.append(f"{fmt_time(r[0])} ({r[0] / nn[0]:.3g}x)")
            w(f"| {shape} | {task} | " + " | ".join(cells) + " |")
    w("")

    # One table per shape and task.
    for shape in SHAPES:
        if not any(k[0] == shape for k in res):
            continue
        w(f"## {shape} ({SHAPE_NOTES[shape]})")
        w("")
        for task in TASKS:
            nn = res.get((shape, task, "nn"))
            rows = [(lib, res[(shape, task, lib)][0]) for lib in LIBS if (shape, task, lib) in res]
            rows += sorted((k[2], v[0]) for k, v in res.items() if k[:2] == (shape, task) and k[2] not in LIBS)
            if not rows:
                continue
            w(f"### {task}")
            w("")
            w("| library | median | vs nn |")
            w("|---|---|---|")
            for lib, ns in rows:
                if lib == "nn":
                    rel = "—"
                elif nn is None:
                    rel = "no nn result"
                else:
                    rel = f"{lib} {fmt_ratio(ns, nn[0])}"
                w(f"| {lib} | {fmt_time(ns)} | {rel} |")
            w("")

    # nn's kernels against the gemm crate (benches/crates.rs).
    products = sorted({k[1] for k in res if k[0] == "crates"})
    if products:
        w("## `nn`'s kernels against the `gemm` crate")
        w("")
        w("The products of the benchmark networks, f32, one thread (`gemm::Parallelism::None`),")
        w("operands on a cache line, output overwritten (`benches/crates.rs`): `forward` is")
        w("`y = W x`, `input_grad` `dx = Wᵀ dy`, `weight_grad` `dw = dy xᵀ`; the shape is W's.")
        w("")
        w("| product | nn | gemm | gemm / nn |")
        w("|---|---|---|---|")
        for prod in products:
            nn = res.get(("crates", prod, "nn"))
            gm = res.get(("crates", prod, "gemm"))
            if nn is None or gm is None:
                continue
            w(f"| {prod} | {fmt_time(nn[0])} | {fmt_time(gm[0])} | {gm[0] / nn[0]:.3g}x |")
        w("")

    with open(args.out, "w") as f:
        f.write("\n".join(out))
    print(f"wrote {args.out} ({len(res)} results)")


if __name__ == "__main__":
    main()
