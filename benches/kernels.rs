//! Kernel-level benchmarks: one dense-layer product at a time, `nn`'s kernels side by side
//! with hand-written loops, nalgebra's static product and nalgebra's `DMatrix` product
//! (which calls the `matrixmultiply` crate). f32, one core. The throughput of every
//! benchmark is its flop count (2 per multiply-add), so `BENCHMARKS.md` can show GFLOP/s.

#[path = "hand.rs"]
mod hand;
#[path = "peak.rs"]
mod peak;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use nn::nalgebra::{DMatrix, SMatrix};
use std::hint::black_box;
use std::time::Duration;

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(200));
    g.measurement_time(Duration::from_millis(700));
    g.sample_size(20);
    g
}

fn smat<const R: usize, const C: usize>(seed: u64) -> Box<hand::Aligned<SMatrix<f32, R, C>>> {
    let mut m = hand::aligned_zeroed::<SMatrix<f32, R, C>>();
    hand::fill(m.as_mut_slice(), seed, 1.0);
    m
}

fn arr<const N: usize, const M: usize>(seed: u64) -> Box<hand::Aligned<[[f32; N]; M]>> {
    let mut a = hand::aligned_zeroed::<[[f32; N]; M]>();
    hand::fill(hand::flat_mut(&mut a), seed, 1.0);
    a
}

fn forward<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("forward/{O}x{I}/b{B}"));
    g.throughput(Throughput::Elements((2 * O * I * B) as u64));
    let (w, x, bias) = (smat::<O, I>(1), smat::<I, B>(2), smat::<O, 1>(3));
    let bias = bias.column(0).into_owned();
    let mut y = smat::<O, B>(4);
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_forward(black_box(&*w), Some(&bias), black_box(&*x), &mut y))
    });
    let (wh, xh, bh) = (arr::<O, I>(1), arr::<I, B>(2), [0.5f32; O]);
    let mut yh = arr::<O, B>(4);
    g.bench_function("hand", |b| {
        b.iter(|| hand::forward(black_box(&*wh), &bh, black_box(&*xh), &mut yh))
    });
    g.bench_function("nalgebra_static", |b| {
        b.iter(|| black_box(&*w).mul_to(black_box(&*x), &mut *y))
    });
    let (wd, xd) = (
        DMatrix::from_column_slice(O, I, w.as_slice()),
        DMatrix::from_column_slice(I, B, x.as_slice()),
    );
    let mut yd = DMatrix::<f32>::zeros(O, B);
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| yd.gemm(1.0, black_box(&wd), black_box(&xd), 0.0))
    });
    g.finish();
}

fn input_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("input_grad/{O}x{I}/b{B}"));
    g.throughput(Throughput::Elements((2 * O * I * B) as u64));
    let (w, dy) = (smat::<O, I>(1), smat::<O, B>(2));
    let mut dx = smat::<I, B>(4);
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_input_grad(black_box(&*w), black_box(&*dy), &mut dx))
    });
    let (wh, dyh) = (arr::<O, I>(1), arr::<O, B>(2));
    let mut dxh = arr::<I, B>(4);
    g.bench_function("hand", |b| {
        b.iter(|| hand::input_grad(black_box(&*wh), black_box(&*dyh), &mut dxh))
    });
    g.bench_function("nalgebra_static", |b| {
        b.iter(|| black_box(&*w).tr_mul_to(black_box(&*dy), &mut *dx))
    });
    let (wd, dyd) = (
        DMatrix::from_column_slice(O, I, w.as_slice()),
        DMatrix::from_column_slice(O, B, dy.as_slice()),
    );
    let mut dxd = DMatrix::<f32>::zeros(I, B);
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| dxd.gemm_tr(1.0, black_box(&wd), black_box(&dyd), 0.0))
    });
    g.finish();
}

fn weight_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("weight_grad/{O}x{I}/b{B}"));
    g.throughput(Throughput::Elements((2 * O * I * B) as u64));
    let (dy, x) = (smat::<O, B>(1), smat::<I, B>(2));
    let mut dw = smat::<O, I>(4);
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_weight_grad(black_box(&*dy), black_box(&*x), &mut dw))
    });
    let (dyh, xh) = (arr::<O, B>(1), arr::<I, B>(2));
    let mut dwh = arr::<O, I>(4);
    let mut dbh = [0f32; O];
    g.bench_function("hand", |b| {
        b.iter(|| hand::param_grad(black_box(&*dyh), black_box(&*xh), &mut dwh, &mut dbh))
    });
    let (dyd, xd) = (
        DMatrix::from_column_slice(O, B, dy.as_slice()),
        DMatrix::from_column_slice(I, B, x.as_slice()),
    );
    let mut dwd = DMatrix::<f32>::zeros(O, I);
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| dwd.gemm(1.0, black_box(&dyd), &black_box(&xd).transpose(), 1.0))
    });
    g.finish();
}

/// Element-wise activations on one layer's outputs (batch 1): the vectorised `tanh` and
/// `exp` against the standard library's.
fn activations<const N: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("act/{N}"));
    let mut x = [0.0f32; N];
    hand::fill(&mut x, 5, 3.0);
    g.bench_function("nn_tanh", |b| {
        b.iter(|| {
            let mut v = black_box(x);
            nn::kernels::vmath::tanh_inplace(&mut v);
            v
        })
    });
    g.bench_function("std_tanh", |b| {
        b.iter(|| {
            let mut v = black_box(x);
            v.iter_mut().for_each(|e| *e = e.tanh());
            v
        })
    });
    g.bench_function("nn_exp", |b| {
        b.iter(|| {
            let mut v = black_box(x);
            nn::kernels::vmath::exp_inplace(&mut v);
            v
        })
    });
    g.bench_function("std_exp", |b| {
        b.iter(|| {
            let mut v = black_box(x);
            v.iter_mut().for_each(|e| *e = e.exp());
            v
        })
    });
    g.finish();
}

fn kernels(c: &mut Criterion) {
    activations::<4>(c);
    activations::<64>(c);
    forward::<4, 4, 1>(c);
    forward::<16, 16, 1>(c);
    peak::bench_peak(c, "peak");
    forward::<128, 784, 64>(c);
    forward::<256, 256, 64>(c);
    forward::<10, 128, 64>(c);
    forward::<64, 64, 1>(c);
    forward::<256, 256, 1>(c);
    // The products of a training step at batch 32 (784-128-10 and 64-256-256-10).
    forward::<128, 784, 32>(c);
    forward::<256, 64, 32>(c);
    forward::<64, 48, 48>(c);
    forward::<32, 256, 48>(c);
    forward::<256, 256, 32>(c);
    weight_grad::<256, 64, 32>(c);
    input_grad::<10, 256, 32>(c);
    forward::<10, 256, 32>(c);
    weight_grad::<10, 256, 32>(c);
    weight_grad::<16, 256, 32>(c);
    forward::<16, 256, 32>(c);
    input_grad::<256, 256, 32>(c);
    input_grad::<10, 128, 32>(c);
    input_grad::<256, 256, 1>(c);
    weight_grad::<128, 784, 32>(c);
    weight_grad::<256, 256, 32>(c);
    weight_grad::<256, 256, 1>(c);
    weight_grad::<128, 48, 1>(c);
    weight_grad::<256, 24, 1>(c);
    peak::bench_peak(c, "peak_end");
}

criterion_group!(benches, kernels);
criterion_main!(benches);
