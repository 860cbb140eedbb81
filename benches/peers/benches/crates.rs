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

/// `dst (m×n, column-major, leading dimension m) = lhs · rhs`, with the given strides
/// (column stride, row stride) of `lhs` and `rhs`.
///
/// # Safety
/// The pointers and strides must describe `m×k`, `k×n` and `m×n` matrices inside their
/// allocations; `dst` must not overlap the others.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_crate(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    lhs: *const f32,
    lhs_cs: isize,
    lhs_rs: isize,
    rhs: *const f32,
    rhs_cs: isize,
    rhs_rs: isize,
) {
    // SAFETY: the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            m as isize,
            1,
            false,
            lhs,
            lhs_cs,
            lhs_rs,
            rhs,
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

fn forward<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("crates/forward/{O}x{I}/b{B}"));
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.sample_size(20);
    let (w, x) = (mat::<O, I>(1), mat::<I, B>(2));
    let mut y = mat::<O, B>(3);
    let mut y2 = mat::<O, B>(3);
    nn::kernels::dense_forward(&w.0, None, &x.0, &mut y.0);
    // SAFETY: W is O×I column-major (column stride O, row stride 1), x I×B (stride I, 1),
    // y O×B; y2 is a separate allocation.
    unsafe {
        gemm_crate(
            O,
            B,
            I,
            y2.0.as_mut_ptr(),
            w.0.as_ptr(),
            O as isize,
            1,
            x.0.as_ptr(),
            I as isize,
            1,
        )
    };
    assert!(
        max_diff(y.0.as_slice(), y2.0.as_slice()) <= 1e-3 * (I as f32).sqrt(),
        "the two products differ"
    );
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_forward(black_box(&w.0), None, black_box(&x.0), &mut y.0))
    });
    g.bench_function("gemm", |b| {
        b.iter(|| unsafe {
            // SAFETY: as above.
            gemm_crate(
                O,
                B,
                I,
                y2.0.as_mut_ptr(),
                black_box(w.0.as_ptr()),
                O as isize,
                1,
                x.0.as_ptr(),
                I as isize,
                1,
            )
        })
    });
    g.finish();
}

fn input_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("crates/input_grad/{O}x{I}/b{B}"));
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.sample_size(20);
    let (w, dy) = (mat::<O, I>(1), mat::<O, B>(2));
    let mut dx = mat::<I, B>(3);
    let mut dx2 = mat::<I, B>(3);
    nn::kernels::dense_input_grad(&w.0, &dy.0, &mut dx.0);
    // SAFETY: Wᵀ is I×O with column stride 1 and row stride O; dy O×B (stride O, 1); dx
    // I×B; dx2 is a separate allocation.
    unsafe {
        gemm_crate(
            I,
            B,
            O,
            dx2.0.as_mut_ptr(),
            w.0.as_ptr(),
            1,
            O as isize,
            dy.0.as_ptr(),
            O as isize,
            1,
        )
    };
    assert!(
        max_diff(dx.0.as_slice(), dx2.0.as_slice()) <= 1e-3 * (O as f32).sqrt(),
        "the two products differ"
    );
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_input_grad(black_box(&w.0), black_box(&dy.0), &mut dx.0))
    });
    g.bench_function("gemm", |b| {
        b.iter(|| unsafe {
            // SAFETY: as above.
            gemm_crate(
                I,
                B,
                O,
                dx2.0.as_mut_ptr(),
                black_box(w.0.as_ptr()),
                1,
                O as isize,
                dy.0.as_ptr(),
                O as isize,
                1,
            )
        })
    });
    g.finish();
}

fn weight_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("crates/weight_grad/{O}x{I}/b{B}"));
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.sample_size(20);
    let (dy, x) = (mat::<O, B>(1), mat::<I, B>(2));
    let mut dw = mat::<O, I>(3);
    let mut dw2 = mat::<O, I>(3);
    nn::kernels::dense_weight_grad_scaled(&dy.0, &x.0, &mut dw.0, 1.0, false);
    // SAFETY: dy is O×B (column stride O, row stride 1); xᵀ is B×I with column stride 1
    // and row stride I; dw O×I; dw2 is a separate allocation.
    unsafe {
        gemm_crate(
            O,
            I,
            B,
            dw2.0.as_mut_ptr(),
            dy.0.as_ptr(),
            O as isize,
            1,
            x.0.as_ptr(),
            1,
            I as isize,
        )
    };
    assert!(
        max_diff(dw.0.as_slice(), dw2.0.as_slice()) <= 1e-3 * (B as f32).sqrt(),
        "the two products differ"
    );
    g.bench_function("nn", |b| {
        b.iter(|| {
            nn::kernels::dense_weight_grad_scaled(
                black_box(&dy.0),
                black_box(&x.0),
                &mut dw.0,
                1.0,
                false,
            )
        })
    });
    g.bench_function("gemm", |b| {
        b.iter(|| unsafe {
            // SAFETY: as above.
            gemm_crate(
                O,
                I,
                B,
                dw2.0.as_mut_ptr(),
                black_box(dy.0.as_ptr()),
                O as isize,
                1,
                x.0.as_ptr(),
                1,
                I as isize,
            )
        })
    });
    g.finish();
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
