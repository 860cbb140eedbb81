//! Whole-network benchmarks from issue 6: inference at batch 1 and 64 and one SGD training
//! step at batch 1 and 32, f32, each with `nn` (the `network!` macro; training: the fused
//! `sgd_step`, and `nn_optim`: gradients then `Sgd`'s step), hand-written loops
//! over fixed-size arrays (`hand`) and a `Vec<Box<dyn Layer>>` over `DMatrix` (`dyn`);
//! plus batch-1 dense+tanh layers 4x4..64x64 (RTNeural's shapes). At batch 1, when the
//! weights exceed 32 KiB (L1), `weights_from_l2` times reading that many bytes and nothing
//! else: the memory floor of that inference. The throughput of every
//! benchmark is the flop count of the work it must do (2 per multiply-add; the first
//! layer's input gradient is not needed in training and not counted). Built with the
//! `parallel` feature (`scripts/bench.sh` runs the batched cells so), the batched groups
//! add `nn_1thread`: the same call inside `nn::kernels::sequential`. Every batched group
//! also measures `peak`, the core's FMA peak right after `nn`, under the same load.

#[path = "dynnet.rs"]
mod dynnet;
#[path = "hand.rs"]
mod hand;
#[path = "handnet.rs"]
mod handnet;
#[path = "peak.rs"]
mod peak;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use dynnet::{Dense as DDense, DynNet, Relu as DRelu, Sigmoid as DSigmoid, Softmax as DSoftmax};
use handnet::{Act, Net2, Net3};
use nn::nalgebra::{DMatrix, SMatrix};
use nn::prelude::*;
use std::hint::black_box;
use std::time::Duration;

nn::network! {
    /// 2-50-4.
    pub struct Quad { input: 2, dense(50), relu, dense(4), softmax }
}
nn::network! {
    /// 784-16-16-10.
    pub struct Small { input: 784, dense(16), sigmoid, dense(16), sigmoid, dense(10), softmax }
}
nn::network! {
    /// 784-128-10.
    pub struct Mnist { input: 784, dense(128), relu, dense(10), softmax }
}
nn::network! {
    /// 64-256-256-10.
    pub struct Deep { input: 64, dense(256), relu, dense(256), relu, dense(10) }
}

const LR: f32 = 1e-3;

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(200));
    g.measurement_time(Duration::from_millis(600));
    g.sample_size(20);
    g
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

fn smat<const R: usize, const C: usize>(seed: u64, scale: f32) -> Box<SMatrix<f32, R, C>> {
    let b: Box<core::mem::MaybeUninit<SMatrix<f32, R, C>>> = Box::new_zeroed();
    // SAFETY: all-zero bits are a valid matrix of f32.
    let mut m = unsafe { b.assume_init() };
    hand::fill(m.as_mut_slice(), seed, scale);
    m
}

/// One-hot targets (class `j % C` for sample `j`).
fn onehot<const C: usize, const B: usize>() -> Box<SMatrix<f32, C, B>> {
    let mut m = smat::<C, B>(0, 0.0);
    for j in 0..B {
        m[(j % C, j)] = 1.0;
    }
    m
}

fn as_arr<const R: usize, const C: usize>(m: &SMatrix<f32, R, C>) -> Box<[[f32; R]; C]> {
    let mut a = hand::boxed_zeroed::<[[f32; R]; C]>();
    hand::flat_mut(&mut a).copy_from_slice(m.as_slice());
    a
}

/// A copy of `v` on a cache line.
fn aligned<T: Copy>(v: &T) -> Box<hand::Aligned<T>> {
    let mut a = hand::aligned_zeroed::<T>();
    **a = *v;
    a
}

fn dyn_net(layers: &[(usize, usize)], act: Act, softmax: bool) -> DynNet {
    let mut v: Vec<Box<dyn dynnet::Layer>> = Vec::new();
    for (n, &(o, i)) in layers.iter().enumerate() {
        v.push(Box::new(DDense::new(i, o, n as u64 + 1)));
        if n + 1 < layers.len() {
            match act {
                Act::Relu => v.push(Box::new(DRelu::default())),
                Act::Sigmoid => v.push(Box::new(DSigmoid::default())),
            }
        }
    }
    if softmax {
        v.push(Box::new(DSoftmax));
    }
    DynNet(v)
}

/// Defines the four benchmarks of one network shape.
macro_rules! net_bench {
    ($fname:ident, $label:literal, $Net:ident, $hand:ty, $layers:expr, $act:expr, $softmax:expr,
     $loss:expr, $I:literal, $O:literal) => {
        fn $fname(c: &mut Criterion) {
            let layers: &[(usize, usize)] = &$layers;
            infer::<1>(c, layers);
            infer::<64>(c, layers);
            train::<1>(c, layers);
            train::<32>(c, layers);

            fn infer<const B: usize>(c: &mut Criterion, layers: &[(usize, usize)]) {
                let mut g = group(c, &format!("net/{}/infer/b{}", $label, B));
                g.throughput(Throughput::Elements(fwd_flops(layers, B)));
                let net = $Net::<f32>::boxed_seeded(1);
                let x = smat::<$I, B>(7, 1.0);
                g.bench_function("nn", |b| b.iter(|| net.forward_batch(black_box(&*x))));
                if B > 1 {
                    peak::bench_beside(&mut g, fwd_flops(layers, B));
                }
                // With the `parallel` feature, `nn` splits large products over rayon's
                // threads; `nn_1thread` is the same call kept on one thread.
                #[cfg(feature = "parallel")]
                if B > 1 {
                    g.bench_function("nn_1thread", |b| {
                        b.iter(|| nn::kernels::sequential(|| net.forward_batch(black_box(&*x))))
                    });
                }
                let mut h = <$hand>::new($act, $softmax);
                let xa = as_arr(&x);
                g.bench_function("hand", |b| b.iter(|| h.forward(black_box(&*xa))));
                let mut d = dyn_net(layers, $act, $softmax);
                let xd = DMatrix::from_column_slice($I, B, x.as_slice());
                g.bench_function("dyn", |b| b.iter(|| d.forward(black_box(&xd))));
                let weights: usize = layers.iter().map(|&(o, i)| o * i).sum();
                if B == 1 && weights * 4 > 32 * 1024 {
                    // The weights do not fit in L1: every inference streams them from L2.
                    // The time to only read that many bytes is the floor.
                    // On a cache line, as nn's layers are: a misaligned buffer splits every
                    // vector load over two lines and measures a floor twice too high.
                    let buf = vec![0.5f32; weights + 16];
                    let off = buf.as_ptr().align_offset(64);
                    let w = &buf[off..off + weights];
                    g.bench_function("weights_from_l2", |b| {
                        b.iter(|| peak::stream_sum(black_box(w)))
                    });
                }
                g.finish();
            }

            fn train<const B: usize>(c: &mut Criterion, layers: &[(usize, usize)]) {
                let mut g = group(c, &format!("net/{}/train/b{}", $label, B));
                g.throughput(Throughput::Elements(train_flops(layers, B)));
                let mut net = $Net::<f32>::boxed_seeded(1);
                let x = smat::<$I, B>(7, 1.0);
                let y = onehot::<$O, B>();
                // The fused step: the update is applied as each gradient is computed.
                g.bench_function("nn", |b| {
                    b.iter(|| net.sgd_step(black_box(&*x), &*y, &$loss, LR))
                });
                if B > 1 {
                    peak::bench_beside(&mut g, train_flops(layers, B));
                }
                #[cfg(feature = "parallel")]
                if B > 1 {
                    g.bench_function("nn_1thread", |b| {
                        b.iter(|| {
                            nn::kernels::sequential(|| {
                                net.sgd_step(black_box(&*x), &*y, &$loss, LR)
                            })
                        })
                    });
                }
                // Gradients, then a separate optimizer step (what the Trainer does).
                let mut net = $Net::<f32>::boxed_seeded(1);
                let mut grads = $Net::<f32>::boxed_zero_gradients();
                let mut opt = Sgd::new(f64::from(LR));
                g.bench_function("nn_optim", |b| {
                    b.iter(|| {
                        let l =
                            net.loss_and_gradients_into(black_box(&*x), &*y, &$loss, &mut *grads);
                        opt.step(&mut *net, &*grads);
                        l
                    })
                });
                let mut h = <$hand>::new($act, $softmax);
                let (xa, ya) = (as_arr(&x), as_arr(&y));
                g.bench_function("hand", |b| b.iter(|| h.train(black_box(&*xa), &*ya, LR)));
                let mut d = dyn_net(layers, $act, $softmax);
                let xd = DMatrix::from_column_slice($I, B, x.as_slice());
                let yd = DMatrix::from_column_slice($O, B, y.as_slice());
                g.bench_function("dyn", |b| {
                    b.iter(|| d.train_step(black_box(&xd), &yd, $softmax, LR))
                });
                g.finish();
            }
        }
    };
}

net_bench!(quad, "2-50-4", Quad, Net2<2, 50, 4, B>, [(50, 2), (4, 50)], Act::Relu, true,
    CrossEntropy, 2, 4);
net_bench!(small, "784-16-16-10", Small, Net3<784, 16, 16, 10, B>, [(16, 784), (16, 16), (10, 16)],
    Act::Sigmoid, true, CrossEntropy, 784, 10);
net_bench!(mnist, "784-128-10", Mnist, Net2<784, 128, 10, B>, [(128, 784), (10, 128)], Act::Relu,
    true, CrossEntropy, 784, 10);
net_bench!(deep, "64-256-256-10", Deep, Net3<64, 256, 256, 10, B>,
    [(256, 64), (256, 256), (10, 256)], Act::Relu, false, Mse, 64, 10);

#[cfg(feature = "parallel")]
nn::network! {
    /// 1024-1024-1024-10: products large enough for the `parallel` feature to split.
    pub struct Wide { input: 1024, dense(1024), relu, dense(1024), relu, dense(10) }
}

/// The `parallel` feature on products it splits (each 1024x1024 layer at batch 128 is
/// 128Mi multiply-adds): `nn` on rayon's threads, `nn_1thread` kept on one.
#[cfg(feature = "parallel")]
fn wide(c: &mut Criterion) {
    const B: usize = 128;
    let layers = [(1024, 1024), (1024, 1024), (10, 1024)];
    let mut net = Wide::<f32>::boxed_seeded(1);
    let x = smat::<1024, B>(7, 1.0);
    let y = onehot::<10, B>();
    let mut g = group(c, &format!("net/1024-1024-1024-10/infer/b{B}"));
    g.throughput(Throughput::Elements(fwd_flops(&layers, B)));
    g.bench_function("nn", |b| b.iter(|| net.forward_batch(black_box(&*x))));
    g.bench_function("nn_1thread", |b| {
        b.iter(|| nn::kernels::sequential(|| net.forward_batch(black_box(&*x))))
    });
    g.finish();
    let mut g = group(c, &format!("net/1024-1024-1024-10/train/b{B}"));
    g.throughput(Throughput::Elements(train_flops(&layers, B)));
    g.bench_function("nn", |b| {
        b.iter(|| net.sgd_step(black_box(&*x), &*y, &Mse, LR))
    });
    g.bench_function("nn_1thread", |b| {
        b.iter(|| nn::kernels::sequential(|| net.sgd_step(black_box(&*x), &*y, &Mse, LR)))
    });
    g.finish();
}

/// Batch-1 dense+tanh layers, RTNeural's compile-time-API shapes.
fn rtneural(c: &mut Criterion) {
    fn one<const N: usize>(c: &mut Criterion) {
        let mut g = group(c, &format!("dense_tanh/{N}x{N}/b1"));
        let flops = (2 * N * N) as u64;
        g.throughput(Throughput::Elements(flops));
        // On cache lines, as a network's layers are (and the hand loops' arrays too).
        let w = aligned(&*smat::<N, N>(1, (1.0 / N as f32).sqrt()));
        let bias = smat::<N, 1>(2, 0.1).column(0).into_owned();
        let x = aligned(&*smat::<N, 1>(3, 1.0));
        let mut y = aligned(&*smat::<N, 1>(4, 0.0));
        g.bench_function("nn", |b| {
            b.iter(|| {
                nn::kernels::dense_forward_act(
                    black_box(&*w),
                    Some(&bias),
                    black_box(&*x),
                    &nn::activation::Tanh,
                    &mut *y,
                )
            })
        });
        let wa = aligned(&*as_arr(&w));
        let ba: [f32; N] = bias.as_slice().try_into().unwrap();
        let xa = aligned(&*as_arr(&x));
        let mut ya = hand::aligned_zeroed::<[[f32; N]; 1]>();
        g.bench_function("hand", |b| {
            b.iter(|| {
                hand::forward(black_box(&*wa), &ba, black_box(&*xa), &mut ya);
                hand::tanh(&mut ya);
            })
        });
        // The 64x64 layer has a share-of-peak target: measure the peak under the same load.
        if N == 64 {
            peak::bench_beside(&mut g, flops);
        }
        g.finish();
    }
    one::<4>(c);
    one::<8>(c);
    one::<16>(c);
    one::<32>(c);
    one::<64>(c);
}

fn networks(c: &mut Criterion) {
    peak::bench_peak(c, "peak");
    quad(c);
    small(c);
    mnist(c);
    deep(c);
    #[cfg(feature = "parallel")]
    wide(c);
    rtneural(c);
    peak::bench_peak(c, "peak_end");
}

criterion_group!(benches, networks);
criterion_main!(benches);
