//! Every layer kind's backward pass against central finite differences in f64, through the
//! [`Layer`] trait alone, as the generated code calls it. [`check`] is the one harness every
//! kind uses: a new kind adds one test that calls it.

use super::*;
use crate::activation::{Elu, Gelu, LeakyRelu, Relu, Sigmoid, Silu, Softplus, Tanh};
use crate::layers::{Dense, DenseNoBias, PRelu};
use nalgebra::SMatrix;
use rand::{RngExt, SeedableRng};

/// How a test reaches a layer's parameters: their count, a parameter by index, and its
/// gradient by index.
pub(crate) struct ParamAccess<L, G> {
    pub count: usize,
    pub get: fn(&mut L, usize) -> &mut f64,
    pub grad: fn(&G, usize) -> f64,
}

pub(crate) fn no_params<L, G>() -> ParamAccess<L, G> {
    fn unreachable_get<L>(_: &mut L, _: usize) -> &mut f64 {
        unreachable!("no parameters")
    }
    fn unreachable_grad<G>(_: &G, _: usize) -> f64 {
        unreachable!("no parameters")
    }
    ParamAccess {
        count: 0,
        get: unreachable_get::<L>,
        grad: unreachable_grad::<G>,
    }
}

/// Runs `f` with a training context: without a generator (`seed == None`), or with a
/// generator seeded afresh from `seed`, so that every call draws the same numbers (the same
/// dropout mask).
fn with_cx<R>(seed: Option<u64>, f: impl FnOnce(&mut TrainCx<'_>) -> R) -> R {
    let mut rng = seed.map(rand_chacha::ChaCha8Rng::seed_from_u64);
    let mut cx = TrainCx {
        rng: rng.as_mut().map(|r| r as &mut dyn rand::Rng),
    };
    f(&mut cx)
}

/// The loss `Σ r ⊙ y` with fixed random weights `r`, whose gradient dLoss/dy is `r`.
fn loss_of<L, const I: usize, const O: usize, const B: usize>(
    layer: &L,
    x: &SMatrix<f64, I, B>,
    r: &SMatrix<f64, O, B>,
    seed: Option<u64>,
) -> f64
where
    L: Layer<f64, I, O>,
{
    let mut y = SMatrix::<f64, O, B>::zeros();
    let mut tape = <L::Tape<B> as Zeroed>::zeroed();
    with_cx(seed, |cx| layer.forward_train(x, &mut y, &mut tape, cx));
    y.component_mul(r).sum()
}

/// Checks the input gradient (plain and ReLU-gated), the parameter gradients (written and
/// added) and the fused SGD update of `layer` at the input `x` against central differences:
/// relative error below `1e-6` wherever the function is smooth at `x`. Returns the largest
/// relative error measured.
pub(crate) fn check<L, const I: usize, const O: usize, const B: usize>(
    layer: &L,
    x: &SMatrix<f64, I, B>,
    params: ParamAccess<L, L::Grads>,
    zero_grads: fn() -> L::Grads,
) -> f64
where
    L: Layer<f64, I, O> + Clone,
{
    check_seeded(layer, x, params, zero_grads, None)
}

/// [`check`] for a stochastic layer: every training forward pass gets a generator seeded
/// afresh from `seed` (`None`: no generator, as [`check`]), so that every evaluation of the
/// loss draws the same mask and the layer is a fixed function of its input.
pub(crate) fn check_seeded<L, const I: usize, const O: usize, const B: usize>(
    layer: &L,
    x: &SMatrix<f64, I, B>,
    params: ParamAccess<L, L::Grads>,
    zero_grads: fn() -> L::Grads,
    seed: Option<u64>,
) -> f64
where
    L: Layer<f64, I, O> + Clone,
{
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let r = SMatrix::<f64, O, B>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let mut y = SMatrix::<f64, O, B>::zeros();
    let mut tape = <L::Tape<B> as Zeroed>::zeroed();
    with_cx(seed, |cx| layer.forward_train(x, &mut y, &mut tape, cx));
    let mut dx = SMatrix::<f64, I, B>::zeros();
    let mut grads = zero_grads();
    layer.backward(
        x,
        &y,
        &tape,
        &r,
        InputGrad::Write(&mut dx),
        &mut grads,
        false,
    );

    let mut max_err = 0.0f64;
    let mut close = |what: &str, analytic: f64, numeric: f64| {
        let err = (analytic - numeric).abs() / numeric.abs().max(analytic.abs()).max(1e-3);
        assert!(
            err < 1e-6,
            "{what}: analytic {analytic}, numeric {numeric} (relative error {err:e})"
        );
        max_err = max_err.max(err);
    };
    let h = 1e-6;
    for k in 0..I * B {
        let (mut plus, mut minus) = (*x, *x);
        plus[k] += h;
        minus[k] -= h;
        let numeric =
            (loss_of(layer, &plus, &r, seed) - loss_of(layer, &minus, &r, seed)) / (2.0 * h);
        close(&format!("dLoss/dx[{k}]"), dx[k], numeric);
    }
    for k in 0..params.count {
        let (mut plus, mut minus) = (layer.clone(), layer.clone());
        *(params.get)(&mut plus, k) += h;
        *(params.get)(&mut minus, k) -= h;
        let numeric = (loss_of(&plus, x, &r, seed) - loss_of(&minus, x, &r, seed)) / (2.0 * h);
        close(&format!("dLoss/dθ[{k}]"), (params.grad)(&grads, k), numeric);
    }

    // Adding doubles the written gradients; skipping the input gradient keeps them.
    layer.backward(x, &y, &tape, &r, InputGrad::Skip, &mut grads, true);
    let mut once = zero_grads();
    layer.backward(x, &y, &tape, &r, InputGrad::Skip, &mut once, false);
    for k in 0..params.count {
        let (twice, single) = ((params.grad)(&grads, k), (params.grad)(&once, k));
        assert!(
            (twice - 2.0 * single).abs() <= 1e-14 * single.abs().max(1.0),
            "accumulated gradient {k}: {twice} vs 2 x {single}"
        );
    }

    // The gated input gradient is the plain one where the input is positive, else zero.
    let mut gated = SMatrix::<f64, I, B>::zeros();
    let mut scratch = zero_grads();
    layer.backward(
        x,
        &y,
        &tape,
        &r,
        InputGrad::WriteReluGated(&mut gated),
        &mut scratch,
        false,
    );
    for k in 0..I * B {
        let want = if x[k] > 0.0 { dx[k] } else { 0.0 };
        assert_eq!(gated[k], want, "gated input gradient {k}");
    }

    // The fused SGD step: the same input gradient, then θ += α ∇θ.
    let alpha = -0.125;
    let mut stepped = layer.clone();
    let mut dx_sgd = SMatrix::<f64, I, B>::zeros();
    stepped.backward_sgd(x, &y, &tape, &r, InputGrad::Write(&mut dx_sgd), alpha);
    assert_eq!(dx_sgd, dx, "the fused SGD step's input gradient");
    for k in 0..params.count {
        let mut before = layer.clone();
        let want = *(params.get)(&mut before, k) + alpha * (params.grad)(&once, k);
        let got = *(params.get)(&mut stepped, k);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "SGD parameter {k}: {got} vs {want}"
        );
    }
    max_err
}

pub(crate) fn input<const I: usize, const B: usize>(seed: u64) -> SMatrix<f64, I, B> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Away from the kinks at 0, so that the finite differences are smooth.
    SMatrix::from_fn(|_, _| {
        let v: f64 = rng.random_range(0.1..2.0);
        if rng.random_bool(0.5) {
            v
        } else {
            -v
        }
    })
}

fn dense_params<const O: usize, const I: usize>() -> ParamAccess<Dense<f64, O, I>, Dense<f64, O, I>>
{
    ParamAccess {
        count: O * I + O,
        get: |l, k| {
            if k < O * I {
                &mut l.weight[k]
            } else {
                &mut l.bias[k - O * I]
            }
        },
        grad: |g, k| {
            if k < O * I {
                g.weight[k]
            } else {
                g.bias[k - O * I]
            }
        },
    }
}

#[test]
fn dense() {
    let mut layer = Dense::<f64, 3, 4>::zeros();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    layer.weight = SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0));
    layer.bias = nalgebra::SVector::from_fn(|_, _| rng.random_range(-1.0..1.0));
    check::<_, 4, 3, 5>(&layer, &input(1), dense_params(), Dense::zeros);
    let mut nb = DenseNoBias::<f64, 2, 3>::zeros();
    nb.weight = SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let access = ParamAccess {
        count: 6,
        get: |l: &mut DenseNoBias<f64, 2, 3>, k| &mut l.weight[k],
        grad: |g: &DenseNoBias<f64, 2, 3>, k| g.weight[k],
    };
    check::<_, 3, 2, 4>(&nb, &input(2), access, DenseNoBias::zeros);
}

#[test]
fn dense_fused_forward_equals_forward_then_activation() {
    let mut layer = Dense::<f64, 3, 4>::zeros();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    layer.weight = SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let x: SMatrix<f64, 4, 2> = input(4);
    fn both<E: Epilogue<f64> + InPlace<f64, 3>>(
        layer: &Dense<f64, 3, 4>,
        x: &SMatrix<f64, 4, 2>,
        e: E,
    ) {
        let (mut fused, mut plain) = (SMatrix::zeros(), SMatrix::zeros());
        layer.forward_fused(x, &e, &mut fused);
        Layer::<f64, 4, 3>::forward(layer, x, &mut plain);
        e.forward_inplace(&mut plain);
        assert!((fused - plain).abs().max() < 1e-15);
    }
    both(&layer, &x, Act(Relu));
    both(&layer, &x, Act(Tanh));
    both(&layer, &x, Act(Sigmoid));
}

#[test]
fn activations() {
    fn one<A: crate::activation::Activation<f64> + Clone>(a: A) {
        check::<_, 4, 4, 3>(&Act(a), &input(9), no_params(), || NoGrads);
    }
    one(Relu);
    one(Tanh);
    one(Sigmoid);
    one(LeakyRelu(0.1));
    one(Elu(1.0));
    one(Gelu);
    one(Softplus);
    one(Silu);
    check::<_, 5, 5, 3>(&Softmax, &input(10), no_params(), || NoGrads);
}

#[test]
fn prelu() {
    let layer = PRelu::<f64>::new();
    let access = ParamAccess {
        count: 1,
        get: |l: &mut PRelu<f64>, _| &mut l.weight[0],
        grad: |g: &PRelu<f64>, _| g.weight[0],
    };
    check::<_, 4, 4, 3>(&layer, &input(11), access, PRelu::zeros);
}

#[test]
fn loss_heads_fuse_with_their_losses() {
    use crate::loss::{BinaryCrossEntropy, CrossEntropy, Mse};
    let z: SMatrix<f64, 3, 2> = input(12);
    let mut p = z;
    Softmax.forward_inplace(&mut p);
    let target = SMatrix::<f64, 3, 2>::new(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    let mut dz = SMatrix::zeros();
    assert!(Softmax
        .fused_loss(&CrossEntropy, &z, &p, &target, &mut dz)
        .is_some());
    assert!(Softmax.fused_loss(&Mse, &z, &p, &target, &mut dz).is_none());
    let mut s = z;
    Act(Sigmoid).forward_inplace(&mut s);
    assert!(Act(Sigmoid)
        .fused_loss(&BinaryCrossEntropy, &z, &s, &target, &mut dz)
        .is_some());
}

#[test]
fn residual_blocks() {
    use super::{Residual, ResidualProject};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let mut body = Dense::<f64, 4, 4>::zeros();
    body.weight = SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0));
    body.bias = nalgebra::SVector::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let block = Residual { body };
    let access = ParamAccess {
        count: 20,
        get: |l: &mut Residual<Dense<f64, 4, 4>>, k| {
            if k < 16 {
                &mut l.body.weight[k]
            } else {
                &mut l.body.bias[k - 16]
            }
        },
        grad: |g: &Residual<Dense<f64, 4, 4>>, k| {
            if k < 16 {
                g.body.weight[k]
            } else {
                g.body.bias[k - 16]
            }
        },
    };
    check::<_, 4, 4, 3>(&block, &input(22), access, Residual::zeros);

    let mut body = Dense::<f64, 2, 3>::zeros();
    body.weight = SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let mut proj = ResidualProject::<f64, Dense<f64, 2, 3>, 3, 2> {
        body,
        shortcut: DenseNoBias::zeros(),
    };
    proj.shortcut.weight = SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let access = ParamAccess {
        count: 6 + 2 + 6,
        get: |l: &mut ResidualProject<f64, Dense<f64, 2, 3>, 3, 2>, k| match k {
            0..6 => &mut l.body.weight[k],
            6..8 => &mut l.body.bias[k - 6],
            _ => &mut l.shortcut.weight[k - 8],
        },
        grad: |g: &ResidualProject<f64, Dense<f64, 2, 3>, 3, 2>, k| match k {
            0..6 => g.body.weight[k],
            6..8 => g.body.bias[k - 6],
            _ => g.shortcut.weight[k - 8],
        },
    };
    check::<_, 3, 2, 4>(&proj, &input(23), access, ResidualProject::zeros);
}
