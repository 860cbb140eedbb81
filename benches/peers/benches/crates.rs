//! `nn`'s kernels against the `gemm` crate (0.19, single-threaded), the candidate the
//! issue names for the products, on the products of the benchmark networks. Benchmark ids
//! are `crates/<product>/<lib>`; `report.py` adds them to `RESULTS.md`.
//!
//! Both sides compute the same column-major f32 product into a preallocated output, on
//! operands that start on a cache line (as a network's weights do):
//! - `forward`: `y = W x` (W `O×I`, x `I×B`), `nn::kernels::dense_forward` without bias;
//! - `input_grad`: `dx = Wᵀ dy`, `nn::kernels::dense_input_grad`;
//! - `weight_grad`: `dw = dy xᵀ` (overwriting), `nn::kernels::dense_weight_grad_scaled`.
//!
//! `gemm::gemm` computes `dst = alpha·dst + beta·lhs·rhs` with any strides; here `alpha` is
//! 0 with `read_dst = false` (dst overwritten) and `beta` is 1, with
//! `Parallelism::None`. It is a well-made general kernel; what it cannot do is know the
//! shapes at compile time.

use criterion::{criterion_group, criterion_main, Criterion};
use nn::nalgebra::SMatrix;
use std::hint::black_box;
use std::time::Duration;

/// A value on a cache line.
#[repr(C, align(64))]
struct Aligned<T>(T);

fn mat<const R: usize, const C: usize>(seed: u32) -> Box<Aligned<SMatrix<f32, R, C>>> {
    let mut b: Box<core::mem::MaybeUninit<Aligned<SMatrix<f32, R, C>>>> = Box::new_uninit();
    // Deterministic values in [-1, 1).
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let m = SMatrix::<f32, R, C>::from_fn(|_, _| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    });
    b.write(Aligned(m));
    // SAFETY: written just above.
    unsafe { b.assume_init() }
}

/// The largest absolute difference between two equally long slices.
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// One call of `gemm::gemm`: `dst (m×n, column-major, leading dimension m) = lhs · rhs`,
/// `lhs` `m×k` and `rhs` `k×n` given by pointer, column stride and row stride.
struct GemmCall {
    m: usize,
    n: usize,
    k: usize,
    lhs: (*const f32, isize, isize),
    rhs: (*const f32, isize, isize),
}

impl GemmCall {
    /// # Safety
    /// `lhs` and `rhs` must describe `m×k` and `k×n` matrices inside live allocations,
    /// and `dst` an `m×n` column-major matrix that overlaps neither.
    unsafe fn run(&self, dst: *mut f32) {
        let ((a, acs, ars), (b, bcs, brs)) = (self.lhs, self.rhs);
        // SAFETY: the caller's contract; alpha = 0 with read_dst = false overwrites dst.
        unsafe {
            gemm::gemm(
                self.m,
                self.n,
                self.k,
                dst,
                self.m as isize,
                1,
                false,
                a,
                acs,
                ars,
                b,
                bcs,
                brs,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            )
        }
    }
}

/// Checks that `nn_run` and `call` compute the same `R×C` product (to `tol`), then
/// benchmarks both as `crates/<name>/{nn,gemm}`.
///
/// # Safety
/// `call` must satisfy [`GemmCall::run`]'s contract for an `R×C` output, for as long as
/// this runs.
unsafe fn compare<const R: usize, const C: usize>(
    c: &mut Criterion,
    name: &str,
    tol: f32,
    call: GemmCall,
    mut nn_run: impl FnMut(&mut SMatrix<f32, R, C>),
) {
    assert_eq!((call.m, call.n), (R, C));
    let (mut y, mut y2) = (mat::<R, C>(3), mat::<R, C>(4));
    nn_run(&mut y.0);
    // SAFETY: the caller's contract; y2 is a separate R×C allocation.
    unsafe { call.run(y2.0.as_mut_ptr()) };
    let diff = max_diff(y.0.as_slice(), y2.0.as_slice());
    assert!(diff <= tol, "{name}: the two products differ by {diff}");
    let mut g = c.benchmark_group(format!("crates/{name}"));
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.sample_size(20);
    g.bench_function("nn", |b| b.iter(|| nn_run(black_box(&mut y.0))));
    g.bench_function("gemm", |b| {
        // SAFETY: as above.
        b.iter(|| unsafe { call.run(black_box(y2.0.as_mut_ptr())) })
    });
    g.finish();
}

/// `y = W x`: W `O×I` (column stride O, row stride 1), x `I×B`.
fn forward<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let (w, x) = (mat::<O, I>(1), mat::<I, B>(2));
    let call = GemmCall {
        m: O,
        n: B,
        k: I,
        lhs: (w.0.as_ptr(), O as isize, 1),
        rhs: (x.0.as_ptr(), I as isize, 1),
    };
    // SAFETY: `call` describes w and x, which live until the end of this function.
    unsafe {
        compare(
            c,
            &format!("forward/{O}x{I}/b{B}"),
            1e-3 * (I as f32).sqrt(),
            call,
            |y| nn::kernels::dense_forward(black_box(&w.0), None, black_box(&x.0), y),
        )
    }
}

/// `dx = Wᵀ dy`: Wᵀ `I×O` (column stride 1, row stride O), dy `O×B`.
fn input_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let (w, dy) = (mat::<O, I>(1), mat::<O, B>(2));
    let call = GemmCall {
        m: I,
        n: B,
        k: O,
        lhs: (w.0.as_ptr(), 1, O as isize),
        rhs: (dy.0.as_ptr(), O as isize, 1),
    };
    // SAFETY: `call` describes w and dy, which live until the end of this function.
    unsafe {
        compare(
            c,
            &format!("input_grad/{O}x{I}/b{B}"),
            1e-3 * (O as f32).sqrt(),
            call,
            |dx| nn::kernels::dense_input_grad(black_box(&w.0), black_box(&dy.0), dx),
        )
    }
}

/// `dw = dy xᵀ` (overwritten): dy `O×B` (column stride O, row stride 1), xᵀ `B×I`
/// (column stride 1, row stride I).
fn weight_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let (dy, x) = (mat::<O, B>(1), mat::<I, B>(2));
    let call = GemmCall {
        m: O,
        n: I,
        k: B,
        lhs: (dy.0.as_ptr(), O as isize, 1),
        rhs: (x.0.as_ptr(), 1, I as isize),
    };
    // SAFETY: `call` describes dy and x, which live until the end of this function.
    unsafe {
        compare(
            c,
            &format!("weight_grad/{O}x{I}/b{B}"),
            1e-3 * (B as f32).sqrt(),
            call,
            |dw| {
                nn::kernels::dense_weight_grad_scaled(
                    black_box(&dy.0),
                    black_box(&x.0),
                    dw,
                    1.0,
                    false,
                )
            },
        )
    }
}

fn crates(c: &mut Criterion) {
    // The products of 784-128-10 and 64-256-256-10: inference batches, training batches,
    // one sample.
    forward::<128, 784, 64>(c);
    forward::<256, 256, 64>(c);
    forward::<10, 128, 64>(c);
    forward::<128, 784, 1>(c);
    forward::<256, 256, 1>(c);
    input_grad::<256, 256, 32>(c);
    input_grad::<10, 128, 32>(c);
    weight_grad::<128, 784, 32>(c);
    weight_grad::<256, 256, 32>(c);
    weight_grad::<256, 256, 1>(c);
}

criterion_group!(benches, crates);
criterion_main!(benches);
