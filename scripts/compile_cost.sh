#!/usr/bin/env bash
# Compile cost of a 784-128-10 network: a scratch binary crate (in the target directory)
# that depends on nn-runtime by path. Prints a markdown table for BENCHMARKS.md:
# the crate's own clean debug and release builds (dependencies already built), the
# incremental debug rebuild after touching the file and after editing the declaration,
# and the size of the macro's expansion (via -Zunpretty=expanded, RUSTC_BOOTSTRAP=1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
dir="$target/compile-cost"
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "compile-cost"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
nn = { package = "nn-runtime", path = "$root/nn-runtime", default-features = false }
[workspace]
TOML
write_main() {
    cat > "$dir/src/main.rs" <<RS
nn::network! {
    /// 784-128-10.
    pub struct Mnist { input: 784, dense($1), relu, dense(10), softmax }
}
fn main() {
    let net = Mnist::<f32>::boxed_seeded(1);
    let x = nn::SVector::<f32, 784>::from_element(0.5);
    println!("{}", net.forward(&x).sum());
}
RS
}
export CARGO_TARGET_DIR="$dir/target"
cd "$dir"
write_main 128
secs() {
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    printf '%.2f' "$(echo "$t1 - $t0" | bc)"
}
cargo build -q && cargo build -q --release   # dependencies
touch src/main.rs; cargo clean -q -p compile-cost; cargo clean -q -p compile-cost --release
clean_dbg=$(secs cargo build)
clean_rel=$(secs cargo build --release)
touch src/main.rs
touched=$(secs cargo build)
write_main 127
edited=$(secs cargo build)
write_main 128
cargo build -q
exp=$(RUSTC_BOOTSTRAP=1 cargo rustc -q -- -Zunpretty=expanded 2>/dev/null)
echo "| measurement | value |"
echo "|---|---|"
echo "| clean debug build of the crate (deps built) | ${clean_dbg} s |"
echo "| clean release build of the crate (deps built) | ${clean_rel} s |"
echo "| incremental debug rebuild after touching the file | ${touched} s |"
echo "| incremental debug rebuild after editing the declaration (128 -> 127) | ${edited} s |"
echo "| macro expansion of the file | $(echo "$exp" | wc -l) lines, $(echo "$exp" | wc -c) bytes |"
