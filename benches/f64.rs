//! f64 benchmarks (issue 6: "f64 gets the same treatment"): the batched dense-layer
//! products and whole networks of the f32 targets (`kernels.rs`, `networks.rs`) in f64,
//! `nn` side by side with hand-written loops over fixed-size arrays (the f64 copies in
//! `hand.rs` and `handnet.rs`) and, for the products, nalgebra's `DMatrix` product (which
//! calls the `matrixmultiply` crate). One core. The throughput of every benchmark is the
//! flop count of the work it must do (2 per multiply-add; a training step counts forward,
//! weight gradients and the input gradients of every layer but the first), and every
//! group is named `f64/...` so the report puts them in their own table, against the f64
//! peak measured at the start and the end of this target.

#[path = "hand.rs"]
mod hand;
#[path = "handnet.rs"]
mod handnet;
#[path = "peak.rs"]
mod peak;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use hand::f64s as h;
use handnet::f64s::{Net2, Net3};
use handnet::Act;
use nn::nalgebra::{DMatrix, SMatrix};
use nn::prelude::*;
use std::hint::black_box;
use std::time::Duration;

nn::network! {
    /// 784-128-10.
    pub struct Mnist { input: 784, dense(128), relu, dense(10), softmax }
}
nn::network! {
    /// 64-256-256-10.
    pub struct Deep { input: 64, dense(256), relu, dense(256), relu, dense(10) }
}

const LR: f64 = 1e-3;

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

/// A heap-allocated matrix filled with deterministic values in [-scale, scale).
/// On a cache line, as a network's weights are (see `hand::Aligned`).
fn smat<const R: usize, const C: usize>(
    seed: u64,
    scale: f64,
) -> Box<hand::Aligned<SMatrix<f64, R, C>>> {
    let mut m = hand::aligned_zeroed::<SMatrix<f64, R, C>>();
    h::fill(m.as_mut_slice(), seed, scale);
    m
}

/// The same values as a hand-loop array (column-major matrix = array of columns).
fn as_arr<const R: usize, const C: usize>(
    m: &SMatrix<f64, R, C>,
) -> Box<hand::Aligned<[[f64; R]; C]>> {
    let mut a = hand::aligned_zeroed::<[[f64; R]; C]>();
    h::flat_mut(&mut a).copy_from_slice(m.as_slice());
    a
}

/// The same values as a `DMatrix`.
fn dmat<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> DMatrix<f64> {
    DMatrix::from_column_slice(R, C, m.as_slice())
}

fn forward<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("f64/forward/{O}x{I}/b{B}"));
    g.throughput(Throughput::Elements((2 * O * I * B) as u64));
    let (w, x) = (smat::<O, I>(1, 1.0), smat::<I, B>(2, 1.0));
    let bias = smat::<O, 1>(3, 1.0).column(0).into_owned();
    let mut y = smat::<O, B>(4, 1.0);
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_forward(black_box(&*w), Some(&bias), black_box(&*x), &mut y))
    });
    let (wh, xh, bh) = (as_arr(&w), as_arr(&x), [0.5f64; O]);
    let mut yh = as_arr(&y);
    g.bench_function("hand", |b| {
        b.iter(|| h::forward(black_box(&*wh), &bh, black_box(&*xh), &mut yh))
    });
    let (wd, xd) = (dmat(&w), dmat(&x));
    let mut yd = DMatrix::<f64>::zeros(O, B);
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| yd.gemm(1.0, black_box(&wd), black_box(&xd), 0.0))
    });
    g.finish();
}

fn input_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("f64/input_grad/{O}x{I}/b{B}"));
    g.throughput(Throughput::Elements((2 * O * I * B) as u64));
    let (w, dy) = (smat::<O, I>(1, 1.0), smat::<O, B>(2, 1.0));
    let mut dx = smat::<I, B>(4, 1.0);
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_input_grad(black_box(&*w), black_box(&*dy), &mut dx))
    });
    let (wh, dyh) = (as_arr(&w), as_arr(&dy));
    let mut dxh = as_arr(&dx);
    g.bench_function("hand", |b| {
        b.iter(|| h::input_grad(black_box(&*wh), black_box(&*dyh), &mut dxh))
    });
    let (wd, dyd) = (dmat(&w), dmat(&dy));
    let mut dxd = DMatrix::<f64>::zeros(I, B);
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| dxd.gemm_tr(1.0, black_box(&wd), black_box(&dyd), 0.0))
    });
    g.finish();
}

fn weight_grad<const O: usize, const I: usize, const B: usize>(c: &mut Criterion) {
    let mut g = group(c, &format!("f64/weight_grad/{O}x{I}/b{B}"));
    g.throughput(Throughput::Elements((2 * O * I * B) as u64));
    let (dy, x) = (smat::<O, B>(1, 1.0), smat::<I, B>(2, 1.0));
    let mut dw = smat::<O, I>(4, 1.0);
    g.bench_function("nn", |b| {
        b.iter(|| nn::kernels::dense_weight_grad(black_box(&*dy), black_box(&*x), &mut dw))
    });
    let (dyh, xh) = (as_arr(&dy), as_arr(&x));
    let mut dwh = as_arr(&dw);
    let mut dbh = [0f64; O];
    g.bench_function("hand", |b| {
        b.iter(|| h::param_grad(black_box(&*dyh), black_box(&*xh), &mut dwh, &mut dbh))
    });
    let (dyd, xd) = (dmat(&dy), dmat(&x));
    let mut dwd = DMatrix::<f64>::zeros(O, I);
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| dwd.gemm(1.0, black_box(&dyd), &black_box(&xd).transpose(), 1.0))
    });
    g.finish();
}

/// Flops of a forward pass over layers `(outputs, inputs)` for `b` samples.
fn fwd_flops(layers: &[(usize, usize)], b: usize) -> u64 {
    layers.iter().map(|&(o, i)| 2 * o * i * b).sum::<usize>() as u64
}

/// Flops of a training step: forward, weight gradients, input gradients of layers > 0.
fn train_flops(layers: &[(usize, usize)], b: usize) -> u64 {
    let dx: usize = layers[1..].iter().map(|&(o, i)| 2 * o * i * b).sum();
    2 * fwd_flops(layers, b) + dx as u64
}

/// One-hot targets (class `j % C` for sample `j`).
fn onehot<const C: usize, const B: usize>() -> Box<hand::Aligned<SMatrix<f64, C, B>>> {
    let mut m = smat::<C, B>(0, 0.0);
    for j in 0..B {
        m[(j % C, j)] = 1.0;
    }
    m
}

/// Defines the inference and training benchmarks of one network shape.
macro_rules! net_bench {
    ($infer:ident, $train:ident, $label:literal, $Net:ident, $hand:ty, $layers:expr,
     $softmax:expr, $loss:expr, $I:literal, $O:literal) => {
        fn $infer<const B: usize>(c: &mut Criterion) {
            let layers: &[(usize, usize)] = &$layers;
            let mut g = group(c, &format!("f64/net/{}/infer/b{}", $label, B));
            g.throughput(Throughput::Elements(fwd_flops(layers, B)));
            let net = $Net::<f64>::boxed_seeded(1);
            let x = smat::<$I, B>(7, 1.0);
            g.bench_function("nn", |b| b.iter(|| net.forward_batch(black_box(&*x))));
            let mut hn = <$hand>::new(Act::Relu, $softmax);
            let xa = as_arr(&x);
            g.bench_function("hand", |b| b.iter(|| hn.forward(black_box(&*xa))));
            g.finish();
        }

        fn $train<const B: usize>(c: &mut Criterion) {
            let layers: &[(usize, usize)] = &$layers;
            let mut g = group(c, &format!("f64/net/{}/train/b{}", $label, B));
            g.throughput(Throughput::Elements(train_flops(layers, B)));
            let x = smat::<$I, B>(7, 1.0);
            let y = onehot::<$O, B>();
            // The fused step, then gradients followed by an optimizer step (as in networks.rs).
            let mut net = $Net::<f64>::boxed_seeded(1);
            g.bench_function("nn", |b| {
                b.iter(|| net.sgd_step(black_box(&*x), &*y, &$loss, LR))
            });
            let mut net = $Net::<f64>::boxed_seeded(1);
            let mut grads = $Net::<f64>::boxed_zero_gradients();
            let mut opt = Sgd::new(LR);
            g.bench_function("nn_optim", |b| {
                b.iter(|| {
                    let l = net.loss_and_gradients_into(black_box(&*x), &*y, &$loss, &mut *grads);
                    opt.step(&mut *net, &*grads);
                    l
                })
            });
            let mut hn = <$hand>::new(Act::Relu, $softmax);
            let (xa, ya) = (as_arr(&x), as_arr(&y));
            g.bench_function("hand", |b| b.iter(|| hn.train(black_box(&*xa), &*ya, LR)));
            g.finish();
        }
    };
}

net_bench!(mnist_infer, mnist_train, "784-128-10", Mnist, Net2<784, 128, 10, B>,
    [(128, 784), (10, 128)], true, CrossEntropy, 784, 10);
net_bench!(deep_infer, deep_train, "64-256-256-10", Deep, Net3<64, 256, 256, 10, B>,
    [(256, 64), (256, 256), (10, 256)], false, Mse, 64, 10);

fn f64_benches(c: &mut Criterion) {
    peak::bench_peak_f64(c, "f64/peak");
    forward::<256, 256, 64>(c);
    forward::<256, 256, 1>(c);
    forward::<128, 784, 64>(c);
    weight_grad::<256, 256, 32>(c);
    input_grad::<256, 256, 32>(c);
    mnist_infer::<64>(c);
    mnist_train::<32>(c);
    deep_infer::<64>(c);
    deep_train::<32>(c);
    peak::bench_peak_f64(c, "f64/peak_end");
}

criterion_group!(benches, f64_benches);
criterion_main!(benches);
