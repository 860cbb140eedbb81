#!/usr/bin/env bash
# Builds and runs the peer benchmarks (nn vs dfdx, candle, burn; nn's kernels vs the gemm
# crate), then writes RESULTS.md.
# Not part of the normal build, test or CI run. Extra arguments go to criterion, e.g.
# `benches/peers/run.sh 2-50-4` runs only the cells whose id contains "2-50-4".
# Uses CARGO_TARGET_DIR when set (the report reads criterion's output there), otherwise
# benches/peers/target.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# One thread for every library (main() also sets it when unset).
export RAYON_NUM_THREADS=1
cargo bench --no-run
cargo bench --bench peers -- "$@"
cargo bench --bench crates -- "$@"
python3 report.py --target-dir "$CARGO_TARGET_DIR"
