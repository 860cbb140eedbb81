//! `layer::BatchNorm` and `layer::LayerNorm` against `torch.nn.BatchNorm1d` and
//! `torch.nn.LayerNorm` in float64, to 1e-12 (relative to `max(1, |expected|)`): the
//! training forward output, the input gradient and the weight and bias gradients for a fixed
//! output gradient; for batch norm also the running statistics and `num_batches_tracked`
//! after one and two training steps and the evaluation output of a further batch. The same
//! layers on f32 follow the reference to 1e-5. Expected numbers:
//! tests/reference/norm_values.rs, produced by tests/reference/norm_reference.py.

use nn_runtime::layer::{
    BatchNorm, BatchNormGrads, BatchNormTape, InputGrad, Layer, LayerNorm, LayerNormTape, TrainCx,
    Zeroed,
};
use nn_runtime::{SMatrix, SVector};

#[allow(dead_code, clippy::excessive_precision, clippy::unreadable_literal)]
mod reference {
    include!("reference/norm_values.rs");
}

const TOL: f64 = 1e-12;

/// Asserts `got` matches `want` element-wise to [`TOL`] and returns the largest error.
fn close(what: &str, got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = 0.0f64;
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(1.0);
        assert!(
            err <= TOL,
            "{what}[{k}]: got {g}, PyTorch {w}, error {err:e}"
        );
        worst = worst.max(err);
    }
    worst
}

struct BnCase<'a, const N: usize, const B: usize> {
    name: &'a str,
    eps: f64,
    momentum: f64,
    weight: [f64; N],
    bias: [f64; N],
    running_mean0: [f64; N],
    running_var0: [f64; N],
    x1: &'a [f64],
    dy1: &'a [f64],
    y1: &'a [f64],
    dx1: &'a [f64],
    dweight1: [f64; N],
    dbias1: [f64; N],
    running_mean1: [f64; N],
    running_var1: [f64; N],
    batches1: u64,
    x2: &'a [f64],
    y2: &'a [f64],
    running_mean2: [f64; N],
    running_var2: [f64; N],
    batches2: u64,
    x3: &'a [f64],
    y3_eval: &'a [f64],
}

fn batch_norm<const N: usize, const B: usize, const EPS: u64, const MOMENTUM: u64>(
    c: BnCase<'_, N, B>,
) -> f64 {
    type V<const N: usize> = SVector<f64, N>;
    assert_eq!(BatchNorm::<f64, N, EPS, MOMENTUM>::EPS_F64, c.eps);
    assert_eq!(BatchNorm::<f64, N, EPS, MOMENTUM>::MOMENTUM_F64, c.momentum);
    let mut bn = BatchNorm::<f64, N, EPS, MOMENTUM>::new();
    bn.weight = V::from_column_slice(&c.weight);
    bn.bias = V::from_column_slice(&c.bias);
    bn.running_mean = V::from_column_slice(&c.running_mean0);
    bn.running_var = V::from_column_slice(&c.running_var0);
    let name = c.name;
    let mut worst = 0.0f64;

    // Step 1: training forward, backward, buffers.
    let x1 = SMatrix::<f64, N, B>::from_column_slice(c.x1);
    let dy1 = SMatrix::<f64, N, B>::from_column_slice(c.dy1);
    let (mut y, mut tape) = (SMatrix::<f64, N, B>::zeros(), BatchNormTape::zeroed());
    bn.forward_train(&x1, &mut y, &mut tape, &mut TrainCx::none());
    worst = worst.max(close(&format!("{name} y1"), y.as_slice(), c.y1));
    let mut dx = SMatrix::<f64, N, B>::zeros();
    let mut grads = BatchNormGrads::zeros();
    bn.backward(
        &x1,
        &y,
        &tape,
        &dy1,
        InputGrad::Write(&mut dx),
        &mut grads,
        false,
    );
    worst = worst.max(close(&format!("{name} dx1"), dx.as_slice(), c.dx1));
    worst = worst.max(close(
        &format!("{name} dweight1"),
        grads.weight.as_slice(),
        &c.dweight1,
    ));
    worst = worst.max(close(
        &format!("{name} dbias1"),
        grads.bias.as_slice(),
        &c.dbias1,
    ));
    bn.update_buffers(&tape);
    worst = worst.max(close(
        &format!("{name} running_mean1"),
        bn.running_mean.as_slice(),
        &c.running_mean1,
    ));
    worst = worst.max(close(
        &format!("{name} running_var1"),
        bn.running_var.as_slice(),
        &c.running_var1,
    ));
    assert_eq!(
        bn.num_batches_tracked, c.batches1,
        "{name} num_batches_tracked1"
    );

    // Step 2: training forward and buffers (PyTorch ran it under no_grad, parameters as
    // they were).
    let x2 = SMatrix::<f64, N, B>::from_column_slice(c.x2);
    bn.forward_train(&x2, &mut y, &mut tape, &mut TrainCx::none());
    worst = worst.max(close(&format!("{name} y2"), y.as_slice(), c.y2));
    bn.update_buffers(&tape);
    worst = worst.max(close(
        &format!("{name} running_mean2"),
        bn.running_mean.as_slice(),
        &c.running_mean2,
    ));
    worst = worst.max(close(
        &format!("{name} running_var2"),
        bn.running_var.as_slice(),
        &c.running_var2,
    ));
    assert_eq!(
        bn.num_batches_tracked, c.batches2,
        "{name} num_batches_tracked2"
    );

    // Evaluation mode on a third batch.
    let x3 = SMatrix::<f64, N, B>::from_column_slice(c.x3);
    bn.forward(&x3, &mut y);
    worst = worst.max(close(&format!("{name} y3 (eval)"), y.as_slice(), c.y3_eval));
    worst
}

/// Runs [`batch_norm`] on the constants of the module `reference::$m`, with the type's
/// `N`, `B`, `EPS` and `MOMENTUM` taken from what PyTorch printed.
macro_rules! bn_case {
    ($m:ident) => {{
        use reference::$m as r;
        batch_norm::<{ r::N }, { r::B }, { f64::to_bits(r::EPS) }, { f64::to_bits(r::MOMENTUM) }>(
            BnCase {
                name: stringify!($m),
                eps: r::EPS,
                momentum: r::MOMENTUM,
                weight: r::WEIGHT,
                bias: r::BIAS,
                running_mean0: r::RUNNING_MEAN0,
                running_var0: r::RUNNING_VAR0,
                x1: &r::X1,
                dy1: &r::DY1,
                y1: &r::Y1,
                dx1: &r::DX1,
                dweight1: r::DWEIGHT1,
                dbias1: r::DBIAS1,
                running_mean1: r::RUNNING_MEAN1,
                running_var1: r::RUNNING_VAR1,
                batches1: r::NUM_BATCHES_TRACKED1,
                x2: &r::X2,
                y2: &r::Y2,
                running_mean2: r::RUNNING_MEAN2,
                running_var2: r::RUNNING_VAR2,
                batches2: r::NUM_BATCHES_TRACKED2,
                x3: &r::X3,
                y3_eval: &r::Y3_EVAL,
            },
        )
    }};
}

#[test]
fn batch_norm_matches_pytorch() {
    let worst = bn_case!(bn);
    eprintln!("BatchNorm1d(3), batch 4: max error vs PyTorch {worst:e}");
}

#[test]
fn batch_norm_custom_eps_and_momentum_matches_pytorch() {
    let worst = bn_case!(bn_custom);
    eprintln!("BatchNorm1d(5, eps=1e-3, momentum=0.3), batch 3: max error vs PyTorch {worst:e}");
}

#[test]
fn batch_norm_batch_of_two_matches_pytorch() {
    let worst = bn_case!(bn_pair);
    eprintln!("BatchNorm1d(2), batch 2: max error vs PyTorch {worst:e}");
}

struct LnCase<'a, const N: usize> {
    name: &'a str,
    eps: f64,
    weight: [f64; N],
    bias: [f64; N],
    x: &'a [f64],
    dy: &'a [f64],
    y: &'a [f64],
    dx: &'a [f64],
    dweight: [f64; N],
    dbias: [f64; N],
}

fn layer_norm<const N: usize, const B: usize, const EPS: u64>(c: LnCase<'_, N>) -> f64 {
    assert_eq!(LayerNorm::<f64, N, EPS>::EPS_F64, c.eps);
    let ln = LayerNorm::<f64, N, EPS> {
        weight: SVector::from_column_slice(&c.weight),
        bias: SVector::from_column_slice(&c.bias),
    };
    let name = c.name;
    let x = SMatrix::<f64, N, B>::from_column_slice(c.x);
    let dy = SMatrix::<f64, N, B>::from_column_slice(c.dy);
    let (mut y, mut tape) = (SMatrix::<f64, N, B>::zeros(), LayerNormTape::zeroed());
    ln.forward_train(&x, &mut y, &mut tape, &mut TrainCx::none());
    let mut worst = close(&format!("{name} y"), y.as_slice(), c.y);
    let mut y_eval = SMatrix::<f64, N, B>::zeros();
    ln.forward(&x, &mut y_eval);
    worst = worst.max(close(&format!("{name} y (eval)"), y_eval.as_slice(), c.y));
    let mut dx = SMatrix::<f64, N, B>::zeros();
    let mut grads = LayerNorm::zeros();
    ln.backward(
        &x,
        &y,
        &tape,
        &dy,
        InputGrad::Write(&mut dx),
        &mut grads,
        false,
    );
    worst = worst.max(close(&format!("{name} dx"), dx.as_slice(), c.dx));
    worst = worst.max(close(
        &format!("{name} dweight"),
        grads.weight.as_slice(),
        &c.dweight,
    ));
    worst = worst.max(close(
        &format!("{name} dbias"),
        grads.bias.as_slice(),
        &c.dbias,
    ));
    worst
}

/// Runs [`layer_norm`] on the constants of the module `reference::$m`.
macro_rules! ln_case {
    ($m:ident) => {{
        use reference::$m as r;
        layer_norm::<{ r::N }, { r::B }, { f64::to_bits(r::EPS) }>(LnCase {
            name: stringify!($m),
            eps: r::EPS,
            weight: r::WEIGHT,
            bias: r::BIAS,
            x: &r::X,
            dy: &r::DY,
            y: &r::Y,
            dx: &r::DX,
            dweight: r::DWEIGHT,
            dbias: r::DBIAS,
        })
    }};
}

#[test]
fn layer_norm_matches_pytorch() {
    let worst = ln_case!(ln);
    eprintln!("LayerNorm(5), batch 3: max error vs PyTorch {worst:e}");
    let worst = ln_case!(ln_custom);
    eprintln!("LayerNorm(4, eps=1e-2), batch 2: max error vs PyTorch {worst:e}");
}

#[test]
fn default_hyperparameters_are_pytorchs() {
    assert_eq!(BatchNorm::<f64, 1>::EPS_F64, reference::bn::EPS);
    assert_eq!(BatchNorm::<f64, 1>::MOMENTUM_F64, reference::bn::MOMENTUM);
    assert_eq!(LayerNorm::<f64, 1>::EPS_F64, reference::ln::EPS);
    let _ = <BatchNormTape<f64, 1, 2> as Zeroed>::zeroed();
}

/// The same layers on f32 follow the float64 reference to 1e-5: the training and
/// evaluation outputs of batch norm, the output of layer norm.
#[test]
fn f32_forward_follows_the_reference() {
    use reference::{bn, ln};
    let near = |what: &str, got: &[f32], want: &[f64]| {
        for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
            let err = (g as f64 - w).abs() / w.abs().max(1.0);
            assert!(
                err <= 1e-5,
                "{what}[{k}]: got {g}, PyTorch {w}, error {err:e}"
            );
        }
    };
    let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let mut b = BatchNorm::<f32, { bn::N }>::new();
    b.weight = SVector::from_column_slice(&f(&bn::WEIGHT));
    b.bias = SVector::from_column_slice(&f(&bn::BIAS));
    b.running_mean = SVector::from_column_slice(&f(&bn::RUNNING_MEAN0));
    b.running_var = SVector::from_column_slice(&f(&bn::RUNNING_VAR0));
    let x1 = SMatrix::<f32, { bn::N }, { bn::B }>::from_column_slice(&f(&bn::X1));
    let (mut y, mut tape) = (SMatrix::zeros(), BatchNormTape::zeroed());
    b.forward_train(&x1, &mut y, &mut tape, &mut TrainCx::none());
    near("bn y1 (f32)", y.as_slice(), &bn::Y1);
    b.update_buffers(&tape);
    near(
        "bn running_var1 (f32)",
        b.running_var.as_slice(),
        &bn::RUNNING_VAR1,
    );
    let x2 = SMatrix::<f32, { bn::N }, { bn::B }>::from_column_slice(&f(&bn::X2));
    b.forward_train(&x2, &mut y, &mut tape, &mut TrainCx::none());
    b.update_buffers(&tape);
    let x3 = SMatrix::<f32, { bn::N }, { bn::B }>::from_column_slice(&f(&bn::X3));
    b.forward(&x3, &mut y);
    near("bn y3 (eval, f32)", y.as_slice(), &bn::Y3_EVAL);

    let l = LayerNorm::<f32, { ln::N }> {
        weight: SVector::from_column_slice(&f(&ln::WEIGHT)),
        bias: SVector::from_column_slice(&f(&ln::BIAS)),
    };
    let x = SMatrix::<f32, { ln::N }, { ln::B }>::from_column_slice(&f(&ln::X));
    let mut y = SMatrix::zeros();
    l.forward(&x, &mut y);
    near("ln y (f32)", y.as_slice(), &ln::Y);
}
