#!/usr/bin/env bash
# Runs the criterion benchmarks twice (default build, then RUSTFLAGS=-Ctarget-cpu=native),
# then the batched network cells once more with the `parallel` feature, and regenerates
# BENCHMARKS.md from criterion's estimates.json files.
#
#   scripts/bench.sh            # both builds, all bench targets (kernels, networks, f64)
#   scripts/bench.sh --report   # only regenerate BENCHMARKS.md from existing results
#   BENCH_FILTER=net/ scripts/bench.sh   # a criterion filter (regex) for a quicker run
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
out_default="$target/criterion-default"
out_native="$target/criterion-native"
out_parallel="$target/criterion-parallel"
filter="${BENCH_FILTER:-}"

if [[ "${1:-}" != "--report" ]]; then
    CRITERION_HOME="$out_default" cargo bench --bench kernels --bench networks --bench f64 -- --noplot $filter
    CRITERION_HOME="$out_native" RUSTFLAGS="${RUSTFLAGS:-} -Ctarget-cpu=native" \
        CARGO_TARGET_DIR="$target/native" \
        cargo bench --bench kernels --bench networks --bench f64 -- --noplot $filter
    # The `parallel` feature: the batched cells of the two large networks (below its
    # threshold: they must not get slower), a network it splits, and the peak.
    CRITERION_HOME="$out_parallel" cargo bench --features parallel --bench networks -- --noplot \
        "${BENCH_FILTER:-^(peak|net/(784-128-10|64-256-256-10)/(infer/b64|train/b32)|net/1024-1024-1024-10)}"
fi
if [[ "${1:-}" != "--report" ]]; then
    scripts/compile_cost.sh > "$target/compile-cost.md"
fi
python3 scripts/bench_report.py "$out_default" "$out_native" "$target/compile-cost.md" "$out_parallel" > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
