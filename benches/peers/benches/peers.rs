//! `nn` side by side with peer libraries from crates.io (issue 6), in one run.
//!
//! For each network shape: inference at batch 1 and 64, and one training step (forward,
//! backward of the loss, SGD update) at batch 1 and 32, f32, on one thread. Benchmark ids
//! are `peers/<shape>/<task>/<lib>`. Every library gets the same inputs and targets
//! (row-major `[batch, features]`, which is also the column-major `SMatrix<IN, B>` layout
//! `nn` uses), and each is used the way its documentation shows: models and optimizers are
//! built once outside the timed loop, inputs and targets are tensors made once.
//!
//! - `nn`: `network!`, `forward_batch`; training the fused `sgd_step` (the update is applied
//!   inside the backward pass), and as `nn_grads` `loss_and_gradients_into` then
//!   `add_scaled_gradients(&grads, -lr)` into preallocated boxed gradients.
//! - `dfdx` (0.13, CPU): const-generic module tuples, `forward` / `forward_mut` on a
//!   traced input, `cross_entropy_with_logits_loss` or `mse_loss`, `Sgd::update`, gradients
//!   allocated once and zeroed after each step (`alloc_grads` / `zero_grads`).
//! - `candle` (candle-core + candle-nn, CPU): `candle_nn::linear` layers from a `VarMap`,
//!   `candle_nn::loss::cross_entropy` or `mse`, `SGD::backward_step`.
//! - `burn` (ndarray backend, with autodiff for training): a `#[derive(Module)]` of
//!   `Linear` layers, `CrossEntropyLoss` or `MseLoss`, `SgdConfig::new().init()` and
//!   `optim.step(lr, model, GradientsParams::from_grads(loss.backward(), &model))`.
//!
//! Networks that end in softmax are trained with cross-entropy (every library fuses it with
//! the softmax: the peers take logits, `nn` fuses its softmax layer with the loss); the
//! network without a final activation is trained with the mean squared error against
//! one-hot targets.
//!
//! One thread: `main` sets `RAYON_NUM_THREADS=1` unless it is already set, before any
//! library starts a thread pool: candle and dfdx size their matrix products' parallelism
//! from rayon's thread count (candle reads `RAYON_NUM_THREADS` itself), and burn's ndarray
//! backend is built without its `multi-threads` feature.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use std::hint::black_box;
use std::time::Duration;

/// SGD learning rate, the same for every library.
const LR: f32 = 1e-3;

#[derive(Clone, Copy)]
enum Act {
    Relu,
    Sigmoid,
}

fn group<'a>(c: &'a mut Criterion, shape: &str, task: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("peers/{shape}/{task}"));
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(20);
    g
}

/// Checks that `step` trains (the loss after 100 more steps is finite and lower than the
/// first), then benchmarks it as `lib`. `step(read)` does one training step and returns the
/// loss when `read` is true (NaN otherwise: the timed loop reads nothing back).
fn bench_train(g: &mut BenchmarkGroup<WallTime>, lib: &str, mut step: impl FnMut(bool) -> f32) {
    let first = step(true);
    for _ in 0..100 {
        step(false);
    }
    let last = step(true);
    assert!(
        last.is_finite() && last < first,
        "{lib} does not train: loss {first} -> {last}"
    );
    g.bench_function(lib, |b| b.iter(|| step(black_box(false))));
}

/// `b * n` deterministic pseudo-random values in [-1, 1), row-major `[b, n]`.
fn inputs(b: usize, n: usize) -> Vec<f32> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15 ^ (b * 1_000_003 + n) as u64;
    (0..b * n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The class of sample `j` is `j % out`.
fn classes(b: usize, out: usize) -> Vec<usize> {
    (0..b).map(|j| j % out).collect()
}

/// One-hot targets, row-major `[b, out]`.
fn one_hot(b: usize, out: usize) -> Vec<f32> {
    let mut v = vec![0.0; b * out];
    for (j, c) in classes(b, out).into_iter().enumerate() {
        v[j * out + c] = 1.0;
    }
    v
}

mod candle_peer {
    use super::{black_box, Act, BenchmarkGroup, WallTime, LR};
    use candle_core::{DType, Device, Module, Tensor};
    use candle_nn::{Linear, Optimizer, VarBuilder, VarMap, SGD};

    /// A multilayer perceptron of `candle_nn::Linear` layers.
    struct Mlp {
        layers: Vec<Linear>,
        act: Act,
    }

    impl Mlp {
        fn new(sizes: &[usize], act: Act, vb: VarBuilder) -> Self {
            let layers = sizes
                .windows(2)
                .enumerate()
                .map(|(i, w)| candle_nn::linear(w[0], w[1], vb.pp(i.to_string())).unwrap())
                .collect();
            Mlp { layers, act }
        }

        fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
            let mut h = self.layers[0].forward(x)?;
            for l in &self.layers[1..] {
                h = match self.act {
                    Act::Relu => h.relu()?,
                    Act::Sigmoid => candle_nn::ops::sigmoid(&h)?,
                };
                h = l.forward(&h)?;
            }
            Ok(h)
        }
    }

    pub fn infer(
        g: &mut BenchmarkGroup<WallTime>,
        sizes: &[usize],
        act: Act,
        softmax: bool,
        b: usize,
    ) {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let mlp = Mlp::new(sizes, act, VarBuilder::from_varmap(&vm, DType::F32, &dev));
        let x = Tensor::from_vec(super::inputs(b, sizes[0]), (b, sizes[0]), &dev).unwrap();
        g.bench_function("candle", |bch| {
            bch.iter(|| {
                let h = mlp.logits(black_box(&x)).unwrap();
                if softmax {
                    candle_nn::ops::softmax_last_dim(&h).unwrap()
                } else {
                    h
                }
            })
        });
    }

    pub fn train(
        g: &mut BenchmarkGroup<WallTime>,
        sizes: &[usize],
        act: Act,
        softmax: bool,
        b: usize,
    ) {
        let dev = Device::Cpu;
        let out = *sizes.last().unwrap();
        let vm = VarMap::new();
        let mlp = Mlp::new(sizes, act, VarBuilder::from_varmap(&vm, DType::F32, &dev));
        let mut sgd = SGD::new(vm.all_vars(), LR as f64).unwrap();
        let x = Tensor::from_vec(super::inputs(b, sizes[0]), (b, sizes[0]), &dev).unwrap();
        let labels: Vec<u32> = super::classes(b, out)
            .into_iter()
            .map(|c| c as u32)
            .collect();
        let labels = Tensor::from_vec(labels, b, &dev).unwrap();
        let y = Tensor::from_vec(super::one_hot(b, out), (b, out), &dev).unwrap();
        super::bench_train(g, "candle", |read| {
            let logits = mlp.logits(black_box(&x)).unwrap();
            let loss = if softmax {
                candle_nn::loss::cross_entropy(&logits, &labels).unwrap()
            } else {
                candle_nn::loss::mse(&logits, &y).unwrap()
            };
            sgd.backward_step(&loss).unwrap();
            if read {
                loss.to_scalar::<f32>().unwrap()
            } else {
                f32::NAN
            }
        });
    }
}

mod burn_peer {
    #![allow(deprecated)] // burn 0.22 deprecates the ndarray backend in favour of burn-flex.
    use super::{black_box, Act, BenchmarkGroup, WallTime, LR};
    use burn::nn::loss::{CrossEntropyLossConfig, MseLoss, Reduction};
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{GradientsParams, SgdConfig};
    use burn::prelude::*;
    use burn::tensor::activation::{relu, sigmoid, softmax};

    /// A multilayer perceptron of `burn::nn::Linear` layers.
    #[derive(Module, Debug)]
    pub struct Mlp {
        layers: Vec<Linear>,
    }

    impl Mlp {
        fn new(sizes: &[usize], device: &Device) -> Self {
            let layers = sizes
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect();
            Mlp { layers }
        }

        fn logits(&self, x: Tensor<2>, act: Act) -> Tensor<2> {
            let mut h = self.layers[0].forward(x);
            for l in &self.layers[1..] {
                h = match act {
                    Act::Relu => relu(h),
                    Act::Sigmoid => sigmoid(h),
                };
                h = l.forward(h);
            }
            h
        }
    }

    fn tensor2(v: Vec<f32>, b: usize, n: usize, device: &Device) -> Tensor<2> {
        Tensor::<2>::from_data(TensorData::new(v, [b, n]), device)
    }

    pub fn infer(
        g: &mut BenchmarkGroup<WallTime>,
        sizes: &[usize],
        act: Act,
        smax: bool,
        b: usize,
    ) {
        let device = Device::ndarray();
        let mlp = Mlp::new(sizes, &device);
        let x = tensor2(super::inputs(b, sizes[0]), b, sizes[0], &device);
        g.bench_function("burn", |bch| {
            bch.iter(|| {
                let h = mlp.logits(black_box(&x).clone(), act);
                if smax {
                    softmax(h, 1)
                } else {
                    h
                }
            })
        });
    }

    pub fn train(
        g: &mut BenchmarkGroup<WallTime>,
        sizes: &[usize],
        act: Act,
        smax: bool,
        b: usize,
    ) {
        let device = Device::ndarray().autodiff();
        let out = *sizes.last().unwrap();
        let mut mlp = Some(Mlp::new(sizes, &device));
        let mut optim = SgdConfig::new().init();
        let x = tensor2(super::inputs(b, sizes[0]), b, sizes[0], &device);
        let labels: Vec<i64> = super::classes(b, out)
            .into_iter()
            .map(|c| c as i64)
            .collect();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [b]), &device);
        let y = tensor2(super::one_hot(b, out), b, out, &device);
        let ce = CrossEntropyLossConfig::new().init(&device);
        super::bench_train(g, "burn", |read| {
            let model = mlp.take().unwrap();
            let logits = model.logits(black_box(&x).clone(), act);
            let loss = if smax {
                ce.forward(logits, labels.clone())
            } else {
                MseLoss::new().forward(logits, y.clone(), Reduction::Mean)
            };
            let value = if read {
                loss.clone().into_scalar::<f32>()
            } else {
                f32::NAN
            };
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            mlp = Some(optim.step(LR as f64, model, grads));
            value
        });
    }
}

/// The `nn` and `dfdx` benchmarks of one shape (both need the shape as types), and the
/// calls of the run-time-shaped peers.
macro_rules! shape_bench {
    ($fname:ident, $label:literal, $Net:ident, $DInfer:ty, $DTrain:ty, $sizes:expr, $act:expr,
     $softmax:literal, $I:literal, $O:literal) => {
        fn $fname(c: &mut Criterion) {
            infer::<1>(c, "infer-b1");
            infer::<64>(c, "infer-b64");
            train::<1>(c, "train-b1");
            train::<32>(c, "train-b32");

            fn infer<const B: usize>(c: &mut Criterion, task: &str) {
                let sizes: &[usize] = &$sizes;
                let mut g = group(c, $label, task);
                let xv = inputs(B, $I);
                {
                    let net = $Net::<f32>::boxed_seeded(1);
                    let x = Box::new(SMatrix::<f32, $I, B>::from_column_slice(&xv));
                    g.bench_function("nn", |b| b.iter(|| net.forward_batch(black_box(&*x))));
                }
                {
                    use dfdx::prelude::*;
                    let dev = Cpu::default();
                    let model = dev.build_module::<$DInfer, f32>();
                    let x: Tensor<Rank2<B, $I>, f32, Cpu> =
                        dev.tensor_from_vec(xv.clone(), Default::default());
                    g.bench_function("dfdx", |b| b.iter(|| model.forward(black_box(&x).clone())));
                }
                candle_peer::infer(&mut g, sizes, $act, $softmax, B);
                burn_peer::infer(&mut g, sizes, $act, $softmax, B);
                g.finish();
            }

            fn train<const B: usize>(c: &mut Criterion, task: &str) {
                let sizes: &[usize] = &$sizes;
                let mut g = group(c, $label, task);
                let xv = inputs(B, $I);
                let yv = one_hot(B, $O);
                {
                    let mut net = $Net::<f32>::boxed_seeded(1);
                    let x = Box::new(SMatrix::<f32, $I, B>::from_column_slice(&xv));
                    let y = Box::new(SMatrix::<f32, $O, B>::from_column_slice(&yv));
                    bench_train(&mut g, "nn", |_read| {
                        if $softmax {
                            net.sgd_step(black_box(&*x), &*y, &CrossEntropy, LR)
                        } else {
                            net.sgd_step(black_box(&*x), &*y, &Mse, LR)
                        }
                    });
                }
                {
                    let mut net = $Net::<f32>::boxed_seeded(1);
                    let mut grads = $Net::<f32>::boxed_zero_gradients();
                    let x = Box::new(SMatrix::<f32, $I, B>::from_column_slice(&xv));
                    let y = Box::new(SMatrix::<f32, $O, B>::from_column_slice(&yv));
                    bench_train(&mut g, "nn_grads", |_read| {
                        let l = if $softmax {
                            net.loss_and_gradients_into(
                                black_box(&*x),
                                &*y,
                                &CrossEntropy,
                                &mut *grads,
                            )
                        } else {
                            net.loss_and_gradients_into(black_box(&*x), &*y, &Mse, &mut *grads)
                        };
                        net.add_scaled_gradients(&*grads, -LR);
                        l
                    });
                }
                {
                    use dfdx::optim::{Optimizer, Sgd, SgdConfig};
                    use dfdx::prelude::*;
                    let dev = Cpu::default();
                    let mut model = dev.build_module::<$DTrain, f32>();
                    let mut grads = Some(model.alloc_grads());
                    let mut opt = Sgd::new(
                        &model,
                        SgdConfig {
                            lr: LR as f64,
                            momentum: None,
                            weight_decay: None,
                        },
                    );
                    let x: Tensor<Rank2<B, $I>, f32, Cpu> =
                        dev.tensor_from_vec(xv.clone(), Default::default());
                    let y: Tensor<Rank2<B, $O>, f32, Cpu> =
                        dev.tensor_from_vec(yv.clone(), Default::default());
                    bench_train(&mut g, "dfdx", |read| {
                        let logits = model.forward_mut(black_box(&x).trace(grads.take().unwrap()));
                        let loss = if $softmax {
                            cross_entropy_with_logits_loss(logits, y.clone())
                        } else {
                            mse_loss(logits, y.clone())
                        };
                        let value = if read { loss.array() } else { f32::NAN };
                        let mut gr = loss.backward();
                        opt.update(&mut model, &gr).unwrap();
                        model.zero_grads(&mut gr);
                        grads = Some(gr);
                        value
                    });
                }
                candle_peer::train(&mut g, sizes, $act, $softmax, B);
                burn_peer::train(&mut g, sizes, $act, $softmax, B);
                g.finish();
            }
        }
    };
}

use nn::prelude::{CrossEntropy, Mse, SMatrix, Trainable};

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

type DQuad = (
    dfdx::nn::builders::Linear<2, 50>,
    dfdx::nn::builders::ReLU,
    dfdx::nn::builders::Linear<50, 4>,
);
type DSmall = (
    dfdx::nn::builders::Linear<784, 16>,
    dfdx::nn::builders::Sigmoid,
    dfdx::nn::builders::Linear<16, 16>,
    dfdx::nn::builders::Sigmoid,
    dfdx::nn::builders::Linear<16, 10>,
);
type DMnist = (
    dfdx::nn::builders::Linear<784, 128>,
    dfdx::nn::builders::ReLU,
    dfdx::nn::builders::Linear<128, 10>,
);
type DDeep = (
    dfdx::nn::builders::Linear<64, 256>,
    dfdx::nn::builders::ReLU,
    dfdx::nn::builders::Linear<256, 256>,
    dfdx::nn::builders::ReLU,
    dfdx::nn::builders::Linear<256, 10>,
);
type Sm = dfdx::nn::builders::Softmax;

shape_bench!(
    quad,
    "2-50-4",
    Quad,
    (DQuad, Sm),
    DQuad,
    [2, 50, 4],
    Act::Relu,
    true,
    2,
    4
);
shape_bench!(
    small,
    "784-16-16-10",
    Small,
    (DSmall, Sm),
    DSmall,
    [784, 16, 16, 10],
    Act::Sigmoid,
    true,
    784,
    10
);
shape_bench!(
    mnist,
    "784-128-10",
    Mnist,
    (DMnist, Sm),
    DMnist,
    [784, 128, 10],
    Act::Relu,
    true,
    784,
    10
);
shape_bench!(
    deep,
    "64-256-256-10",
    Deep,
    DDeep,
    DDeep,
    [64, 256, 256, 10],
    Act::Relu,
    false,
    64,
    10
);

fn main() {
    // One thread for every library; set before any of them starts a thread pool.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    let mut c = Criterion::default().configure_from_args();
    quad(&mut c);
    small(&mut c);
    mnist(&mut c);
    deep(&mut c);
    c.final_summary();
}
