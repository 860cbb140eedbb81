#!/usr/bin/env python3
"""Turns criterion results into BENCHMARKS.md.

usage: bench_report.py DEFAULT_DIR [NATIVE_DIR [COMPILE_COST_MD [PARALLEL_DIR]]]

Each DIR is a criterion output directory (CRITERION_HOME). Every benchmark's throughput is
its flop count, so GFLOP/s = flops / time. The peak is the fastest `peak/*` benchmark of
the same run (the fastest `f64/peak/*` for the `f64/*` benchmarks, reported in their own
table per build); ratios compare implementations measured in the same run.
"""
import json
import os
import platform
import subprocess
import sys

IMPLS = ["nn", "nn_1thread", "nn_optim", "hand", "dyn", "nalgebra_static", "matrixmultiply"]
# The row that only reads a network's weights from L2 (batch-1 inference groups).
FLOOR = "weights_from_l2"
# The FMA peak measured inside a group with a share-of-peak target (the batched groups and
# the 64x64 dense+tanh layer), right after `nn` and the other impls (benches/peak.rs,
# `bench_beside`): the peak under the load of that moment.
BESIDE = "peak"


def load(root):
    """{group: {function: (seconds, flops)}} from a criterion directory."""
    res = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        secs = est["median"]["point_estimate"] * 1e-9
        tp = meta.get("throughput") or {}
        flops = tp.get("Elements") or tp.get("elements") or 0
        res.setdefault(meta["group_id"], {})[meta["function_id"]] = (secs, flops)
    return res


def fmt_time(s):
    for unit, k in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= k:
            return f"{s / k:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def cpu():
    model, flags = platform.processor() or "?", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("?", "", "x86_64"):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    break
    except OSError:
        pass
    keep = [x for x in flags if x in ("sse2", "avx", "avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq")]
    return model, keep


def caches():
    """The data caches of one core, as `L1d 48K, L2 2048K, ...` (from sysfs), or "?"."""
    out = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for idx in sorted(os.listdir(base)):
            d = os.path.join(base, idx)
            if not idx.startswith("index"):
                continue
            with open(os.path.join(d, "type")) as f:
                kind = f.read().strip()
            if kind == "Instruction":
                continue
            with open(os.path.join(d, "level")) as f:
                level = f.read().strip()
            with open(os.path.join(d, "size")) as f:
                size = f.read().strip()
            out.append(f"L{level}{'d' if kind == 'Data' else ''} {size}")
    except OSError:
        return "?"
    return ", ".join(out) or "?"


def order(group):
    # Peak first, then kernels, networks, RTNeural shapes, in a readable order.
    kinds = ["peak", "forward", "input_grad", "weight_grad", "net", "dense_tanh"]
    head = group.split("/")[0]
    return (kinds.index(head) if head in kinds else 99, group)


def peaks_of(res, groups):
    """{isa: best GFLOP/s} over the peak groups of a run."""
    peaks = {}
    for grp in groups:
        for k, v in res.get(grp, {}).items():
            if v[0] > 0:
                peaks[k] = max(peaks.get(k, 0.0), v[1] / v[0] / 1e9)
    return peaks


def beside_peaks(res):
    """GFLOP/s of every peak measured inside a batched group (the widest instruction set)."""
    return [fns[BESIDE][1] / fns[BESIDE][0] / 1e9 for g, fns in res.items()
            if not g.startswith("peak") and BESIDE in fns and fns[BESIDE][0] > 0]


def run_peak(res):
    """The run's peak: the best of every peak measurement (start, end, beside the cells)."""
    return max(list(peaks_of(res, ("peak", "peak_end")).values()) + beside_peaks(res), default=None)


def table(res, prefix="", kind=""):
    """The peak line and the table of one float type. `res` holds that type's groups with
    `prefix` (e.g. "f64/") removed from their names; `kind` names the type in the peak line."""
    lines = []
    peaks = peaks_of(res, ("peak", "peak_end"))
    beside = beside_peaks(res)
    peak = run_peak(res)
    if peaks:
        lines.append(f"Measured one-core {kind}peak (GFLOP/s, best of the start and the end of the run): " +
                     ", ".join(f"{k} {v:.1f}" for k, v in sorted(peaks.items(), key=lambda kv: -kv[1])) +
                     (f"; beside the cells with a share-of-peak target {min(beside):.1f} to {max(beside):.1f}" if beside else "") +
                     f". Fractions of peak below use {peak:.1f}, the best of all.")
        lines.append("")
    lines.append("| benchmark | impl | time | GFLOP/s | % of peak | hand / impl (speed-up of impl over hand) |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for group in sorted(res, key=order):
        if group.startswith("peak"):
            continue
        fns = res[group]
        hand = fns.get("hand")
        names = [n for n in IMPLS if n in fns] + sorted(n for n in fns if n not in IMPLS)
        for n in names:
            secs, flops = fns[n]
            if n == FLOOR:
                # Not an implementation: the time to read the weights once from L2.
                lines.append(f"| {prefix}{group} | {n} | {fmt_time(secs)} |  |  | (read only) |")
                continue
            if n == BESIDE:
                # Not an implementation: the core's peak at that moment, against the run's.
                gf = flops / secs / 1e9 if secs > 0 else 0.0
                pct = f"{100 * gf / peak:.0f}%" if peak and gf else ""
                lines.append(f"| {prefix}{group} | {n} (beside nn) | {fmt_time(secs)} | {gf:.1f} | {pct} | (FMA peak) |")
                continue
            gf = flops / secs / 1e9 if secs > 0 and flops else 0.0
            pct = f"{100 * gf / peak:.0f}%" if peak and gf else ""
            ratio = f"{hand[0] / secs:.2f}x" if hand and n != "hand" else ""
            lines.append(f"| {prefix}{group} | {n} | {fmt_time(secs)} | {gf:.1f} | {pct} | {ratio} |")
    lines.append("")
    return lines


def share(v, beside, peak):
    """The share of peak of the result `v` (seconds, flops): against the peak measured
    beside it (`beside`, same load) where the group has one, else against the run's
    `peak`. Returns the percentage and its text for the targets table, or None when
    neither peak is usable."""
    gf = v[1] / v[0] / 1e9
    if beside and beside[0] > 0:
        at = beside[1] / beside[0] / 1e9
        pct = 100 * gf / at
        got = f"{pct:.0f}% of {at:.0f} measured beside it"
        if peak:
            got += f" ({100 * gf / peak:.0f}% of the run's {peak:.0f})"
        return pct, got
    if not peak:
        return None
    pct = 100 * gf / peak
    return pct, f"{pct:.0f}%"


def targets(res):
    """The issue's targets for the f32 results of one build, each with the measured value
    and whether it is met (ratios within this run)."""
    peak = run_peak(res)
    rows = []

    def t(group, fn):
        return res.get(group, {}).get(fn)

    # 1. Never slower than the hand loops.
    worst = None
    for group, fns in res.items():
        if group.startswith("peak") or "nn" not in fns or "hand" not in fns:
            continue
        r = fns["hand"][0] / fns["nn"][0]
        if worst is None or r < worst[0]:
            worst = (r, group)
    if worst:
        rows.append(("nn at least as fast as hand in every cell", "1x",
                     f"slowest: {worst[0]:.2f}x ({worst[1]})", worst[0] >= 1.0))
    # 2. Batched: at least 70% of the one-core peak, the peak measured beside the cell
    # (under the same load) where the group has it, else the run's.
    for shape in ("784-128-10", "64-256-256-10"):
        for task in ("infer/b64", "train/b32"):
            group = f"net/{shape}/{task}"
            v, beside = t(group, "nn"), t(group, BESIDE)
            got = share(v, beside, peak) if v else None
            if not got:
                continue
            pct, got = got
            rows.append((f"{shape} {task}: % of peak", "70%", got, pct >= 70))
    # 3. Batch 1: 2x the hand loops, 5x the dyn network, 35% of peak at 64x64 dense+tanh.
    for group in ["net/2-50-4/infer/b1", "net/2-50-4/train/b1"] + \
            [f"dense_tanh/{n}x{n}/b1" for n in (4, 8, 16, 32, 64)]:
        nn, hand = t(group, "nn"), t(group, "hand")
        if nn and hand:
            r = hand[0] / nn[0]
            rows.append((f"{group}: hand / nn", "2x", f"{r:.2f}x", r >= 2))
    for shape in ("2-50-4", "784-16-16-10"):
        for task in ("infer/b1", "train/b1"):
            group = f"net/{shape}/{task}"
            nn, d = t(group, "nn"), t(group, "dyn")
            if nn and d:
                r = d[0] / nn[0]
                rows.append((f"{group}: dyn / nn", "5x", f"{r:.2f}x", r >= 5))
    group = "dense_tanh/64x64/b1"
    v, beside = t(group, "nn"), t(group, BESIDE)
    got = share(v, beside, peak) if v else None
    if got:
        pct, got = got
        rows.append((f"{group}: % of peak", "35%", got, pct >= 35))
    if not rows:
        return []
    lines = ["### Targets (issue 6), this build", "",
             "| target | wanted | measured | met |", "|---|---|---|---|"]
    for name, want, got, ok in rows:
        lines.append(f"| {name} | {want} | {got} | {'yes' if ok else '**no**'} |")
    lines.append("")
    return lines


def section(title, res, where):
    """One build: the f32 table, then the f64 table (groups named `f64/...`, against the
    f64 peak of the same run). A build or a float type without results gets a note."""
    lines = [f"## {title}", ""]
    if not res:
        return lines + [f"(no results: `{where}` holds no criterion results; this build was not benchmarked)", ""]
    f32 = {g: v for g, v in res.items() if not g.startswith("f64/")}
    f64 = {g[len("f64/"):]: v for g, v in res.items() if g.startswith("f64/")}
    lines += targets(f32)
    lines += table(f32) if f32 else ["(no f32 results in this run)", ""]
    lines += ["### f64", ""]
    lines += table(f64, "f64/", "f64 ") if f64 else ["(no f64 results in this run: `benches/f64.rs` was not run)", ""]
    return lines


def parallel_section(res, where):
    """The `parallel` feature's run: `nn` (products split over the threads of rayon's
    global pool) against `nn_1thread` (the same call inside `kernels::sequential`) and the
    hand loops, all in that run."""
    lines = ["## The `parallel` feature (default build, batched cells)", ""]
    if not res:
        return lines + [f"(no results: `{where}` holds no criterion results; this build was not benchmarked)", ""]
    peak = run_peak(res)
    lines += [
        "Built with `--features parallel`: batched products of at least 8Mi multiply-adds are",
        f"split by columns over the threads of rayon's global pool ({os.cpu_count()} logical CPUs here;",
        "the machine is shared, so the second core is not always free). `nn_1thread` is the",
        "same call inside `nn::kernels::sequential` (one thread), measured in the same run; the",
        "results of both are bitwise equal. The products of 784-128-10 and 64-256-256-10 are",
        "below the threshold and stay on one thread (the ratio shows what the check costs);",
        "1024-1024-1024-10 at batch 128 is split. The one-core peak of this run"
        + (f" was {peak:.1f} GFLOP/s." if peak else " was not measured."),
        "",
        "| benchmark | nn (parallel) | nn_1thread | speed-up | nn GFLOP/s | hand | hand / nn |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group in sorted(res, key=order):
        fns = res[group]
        if "nn" not in fns or "nn_1thread" not in fns:
            continue
        (t, flops), (t1, _) = fns["nn"], fns["nn_1thread"]
        hand = fns.get("hand")
        gf = flops / t / 1e9 if t > 0 and flops else 0.0
        lines.append(
            f"| {group} | {fmt_time(t)} | {fmt_time(t1)} | {t1 / t:.2f}x | {gf:.1f} | "
            + (f"{fmt_time(hand[0])} | {hand[0] / t:.2f}x |" if hand else " |  |"))
    lines.append("")
    return lines


def main():
    dirs = sys.argv[1:]
    model, flags = cpu()
    try:
        rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "?"
    out = [
        "# Benchmarks",
        "",
        "Generated by `scripts/bench.sh` (criterion, `benches/kernels.rs`, `benches/networks.rs` and",
        "`benches/f64.rs`); do not edit by hand. f32 (f64 in the tables headed f64, against the f64",
        "peak), one core, release profile. Every time is criterion's median.",
        "Throughput counts 2 flops per multiply-add of the work the benchmark must do (a",
        "training step counts forward, weight gradients and the input gradients of every layer",
        "but the first).",
        "",
        f"- Machine: {model}; CPU features: {' '.join(flags)}; caches (per core unless shared): {caches()}",
        f"- Compiler: {rustc}",
        "- `nn`: the library (kernels chosen at run time: AVX-512F, else AVX2+FMA, else portable);",
        "  `hand`: hand-written loops over fixed-size arrays (benches/hand.rs, handnet.rs);",
        "  `dyn`: `Vec<Box<dyn Layer>>` over `DMatrix` (benches/dynnet.rs);",
        "  `nalgebra_static`: `SMatrix` products; `matrixmultiply`: `DMatrix::gemm` (which calls",
        "  the `matrixmultiply` crate).",
        "- The machine is shared with other jobs: compare ratios within one table, not across runs;",
        "  the run's peak is the best of a measurement at the start and at the end of each bench",
        "  target and of those beside the cells with a share-of-peak target. Each batched group",
        "  and the 64x64 dense+tanh group also measure `peak` right after `nn`, under the load of",
        "  that moment: those targets' share of peak is against that measurement (the share of",
        "  the run's peak is shown next to it).",
        "",
        "- `nn` in a training group is the fused `sgd_step` (the update applied as each gradient",
        "  is computed); `nn_optim` is `loss_and_gradients_into` then `Sgd::step` (what the",
        "  `Trainer` does). `weights_from_l2` (batch-1 inference of networks with more than",
        "  32 KiB of weights) only sums that many bytes, on a cache line, with an unrolled AVX-512",
        "  loop: the cost of streaming the weights once from wherever they stay between calls,",
        "  which any implementation that reads its weights once per call pays in some form (a",
        "  reference point, not a strict bound).",
        "",
        "What a user gets by default: `nn` detects AVX-512F / AVX2+FMA at run time, so a default",
        "build (no `-C target-cpu`) runs the same vector kernels as a native build; products",
        "below 512 multiply-adds run as static code over the const dimensions instead (for one",
        "sample a loop with interleaved partial sums and the bias and ReLU fused; for batches",
        "nalgebra's unrolled product).",
        "",
        "Crates evaluated for the products: `matrixmultiply` (used by `DMatrix::gemm`, measured",
        "below) allocates its packing buffers on the heap on every call (the kernels must not",
        "allocate), and its transposed product through nalgebra (`gemm_tr`) packs nothing; the",
        "`gemm` crate (one thread) is measured against `nn`'s kernels on the networks' products in",
        "`benches/peers/RESULTS.md` and also allocates and packs per call. `pulp` would only",
        "replace the vector abstraction of `kernels/simd.rs` and was not measured. Peer libraries",
        "(dfdx, candle, burn) are compared in `benches/peers/RESULTS.md`.",
        "",
    ]
    titles = ["Default build (no target flags)", "RUSTFLAGS=-Ctarget-cpu=native"]
    for title, d in zip(titles, dirs[:2]):
        out += section(title, load(d) if os.path.isdir(d) else {}, d)
    if len(dirs) > 3:
        out += parallel_section(load(dirs[3]) if os.path.isdir(dirs[3]) else {}, dirs[3])
    if len(dirs) > 2 and os.path.isfile(dirs[2]):
        out += ["## Compile cost (scripts/compile_cost.sh, 784-128-10 network)", ""]
        with open(dirs[2]) as f:
            out += [f.read().strip(), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
