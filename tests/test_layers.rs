//! The layer kinds beyond the MLP inside networks: `layer_norm` and `dropout`, declared
//! with `network!`, checked against finite differences (f64) through the whole network,
//! and their modes (training and evaluation) as documented.

use nn::gradcheck::check_network;
use nn::prelude::*;

const TOL: f64 = 1e-6;
const H: f64 = 1e-5;

nn::network! {
    /// Layer normalisation between a dense layer and its activation, and before the head.
    pub struct Normed { input: 3, dense(6), layer_norm, tanh, dense(4), layer_norm(eps = 1e-3), dense(2), softmax }
}

nn::network! {
    /// Dropout after each activation.
    pub struct Dropped { input: 3, dense(8), relu, dropout(0.4), dense(6), tanh, dropout, dense(2) }
}

nn::network! {
    /// The same network without dropout: same weights for the same seed.
    pub struct Plain { input: 3, dense(8), relu, dense(6), tanh, dense(2) }
}

nn::network! {
    /// Dropout between a dense layer and its ReLU.
    pub struct Between { input: 3, dense(8), dropout(0.5), relu, dense(2) }
}

fn batch() -> SMatrix<f64, 3, 5> {
    SMatrix::<f64, 3, 5>::from_fn(|r, c| ((r * 5 + c) as f64 * 0.37).sin())
}

fn classes() -> SMatrix<f64, 2, 5> {
    SMatrix::<f64, 2, 5>::from_fn(|r, c| if (c % 2) == r { 1.0 } else { 0.0 })
}

#[test]
fn layer_norm_gradients_match_finite_differences() {
    for seed in 0..3 {
        let net = Normed::<f64>::seeded(seed);
        let report = check_network(&net, &batch(), &classes(), &CrossEntropy, H);
        assert!(report.max_relative_error() < TOL, "seed {seed}:\n{report}");
    }
}

#[test]
fn layer_norm_tensors_are_pytorch_names_and_start_at_one_and_zero() {
    let net = Normed::<f64>::seeded(1);
    let names: Vec<&str> = (0..<Normed<f64> as Parameters>::TENSORS)
        .map(|t| <Normed<f64> as Parameters>::tensor_info(t).name)
        .collect();
    assert_eq!(
        names,
        [
            "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias",
            "5.weight", "5.bias"
        ]
    );
    assert!(net.layer1.weight.iter().all(|&w| w == 1.0));
    assert!(net.layer1.bias.iter().all(|&b| b == 0.0));
    assert_eq!(
        <Normed<f64> as Parameters>::tensor_info(2).kind,
        nn::TensorKind::NormScale
    );
    assert_eq!(
        Normed::<f64>::PARAMS,
        3 * 6 + 6 + 12 + 6 * 4 + 4 + 8 + 4 * 2 + 2
    );
}

#[test]
fn dropout_gradients_match_finite_differences_with_the_steps_mask() {
    for seed in 0..3 {
        let net = Dropped::<f64>::seeded(seed);
        let report = check_network(&net, &batch(), &classes(), &Mse, H);
        assert!(report.max_relative_error() < TOL, "seed {seed}:\n{report}");
    }
}

#[test]
fn dropout_is_the_identity_in_inference() {
    let dropped = Dropped::<f64>::seeded(7);
    let mut plain = Plain::<f64>::seeded(7);
    // Same weights: the dropout stream's seed is drawn after them.
    for t in 0..<Plain<f64> as Parameters>::TENSORS {
        assert_eq!(plain.tensor(t), dropped.tensor(t));
    }
    assert_eq!(
        dropped.forward_batch(&batch()),
        plain.forward_batch(&batch())
    );
    assert_eq!(
        dropped.loss(&batch(), &classes(), &Mse),
        plain.loss(&batch(), &classes(), &Mse)
    );
    // In training mode the masks change the loss.
    assert_ne!(
        dropped.training_loss(&batch(), &classes(), &Mse),
        plain.training_loss(&batch(), &classes(), &Mse)
    );
    plain.sgd_step(&batch(), &classes(), &Mse, 0.1);
}

#[test]
fn each_training_step_draws_new_masks_reproducibly() {
    let mut a = Dropped::<f64>::seeded(3);
    let mut b = Dropped::<f64>::seeded(3);
    let (x, y) = (batch(), classes());
    let first = a.training_loss(&x, &y, &Mse);
    // `training_loss` changes nothing: the same mask twice.
    assert_eq!(first, a.training_loss(&x, &y, &Mse));
    let mut g = Dropped::<f64>::zero_gradients();
    assert_eq!(a.loss_and_gradients_into(&x, &y, &Mse, &mut g), first);
    assert_eq!(a.__nn_stream.step, 1);
    let second = a.training_loss(&x, &y, &Mse);
    assert_ne!(first, second, "the next step has other masks");
    // The same seed gives the same run, whichever entry point takes the steps.
    assert_eq!(b.sgd_step(&x, &y, &Mse, 0.0), first);
    assert_eq!(b.training_loss(&x, &y, &Mse), second);
    // A tape records a step without taking it; `update_buffers` takes it.
    let tape = b.forward_tape(&x);
    assert_eq!(b.__nn_stream.step, 1);
    b.update_buffers(&tape);
    assert_eq!(b.__nn_stream.step, 2);
}

#[test]
fn dropout_between_a_dense_layer_and_its_relu() {
    let net = Between::<f64>::seeded(2);
    let report = check_network(&net, &batch(), &classes(), &Mse, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    // Inference skips dropout: the dense layer and its ReLU fuse, the same values.
    let mut by_hand = SMatrix::<f64, 8, 5>::zeros();
    nn::kernels::dense_forward(
        &net.layer0.weight,
        Some(&net.layer0.bias),
        &batch(),
        &mut by_hand,
    );
    let hidden = by_hand.map(|v| v.max(0.0));
    let mut out = SMatrix::<f64, 2, 5>::zeros();
    nn::kernels::dense_forward(
        &net.layer3.weight,
        Some(&net.layer3.bias),
        &hidden,
        &mut out,
    );
    assert!((net.forward_batch(&batch()) - out).abs().max() < 1e-15);
}

#[test]
fn dropout_zero_is_exactly_no_dropout_in_training() {
    nn::network! { struct Zero { input: 3, dense(8), relu, dropout(0.0), dense(6), tanh, dropout(p = 0), dense(2) } }
    let mut zero = Zero::<f64>::seeded(5);
    let mut plain = Plain::<f64>::seeded(5);
    let (x, y) = (batch(), classes());
    let (mut gz, mut gp) = (
        Zero::<f64>::zero_gradients(),
        Plain::<f64>::zero_gradients(),
    );
    let lz = zero.loss_and_gradients_into(&x, &y, &Mse, &mut gz);
    let lp = plain.loss_and_gradients_into(&x, &y, &Mse, &mut gp);
    assert_eq!(lz, lp);
    for t in 0..<Plain<f64> as Parameters>::TENSORS {
        assert_eq!(gz.tensor(t), gp.tensor(t));
    }
}

#[test]
fn layers_work_in_f32_and_describe_themselves() {
    let mut net = Normed::<f32>::seeded(4);
    let x = batch().map(|v| v as f32);
    let y = classes().map(|v| v as f32);
    let before = net.loss(&x, &y, &CrossEntropy);
    for _ in 0..50 {
        net.sgd_step(&x, &y, &CrossEntropy, 0.1);
    }
    assert!(net.loss(&x, &y, &CrossEntropy) < before);
    assert!(
        Normed::<f32>::SUMMARY.contains("layer_norm(eps = 1e-3)"),
        "{}",
        Normed::<f32>::SUMMARY
    );
    assert!(Dropped::<f32>::SUMMARY.contains("dropout(0.4)"));
}

nn::network! {
    /// A body for a residual block, used through the layer protocol.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Body { input: 3, dense(5), tanh, dense(3) }
}

#[test]
fn a_network_is_a_layer_and_a_residual_body() {
    use nn::layer::{InputGrad, Layer, Residual, TrainCx, Zeroed};
    let net = Body::<f64>::seeded(9);
    let x = batch();
    let dy = SMatrix::<f64, 3, 5>::from_fn(|r, c| ((r + 2 * c) as f64 * 0.7).cos());
    // Through the trait, as a parent network's generated code calls it.
    let mut y = SMatrix::<f64, 3, 5>::zeros();
    let mut tape = <BodyTape<f64, 5> as Zeroed>::zeroed();
    Layer::<f64, 3, 3>::forward_train(&net, &x, &mut y, &mut tape, &mut TrainCx::none());
    assert_eq!(y, net.forward_batch(&x));
    let (mut dx, mut g) = (SMatrix::<f64, 3, 5>::zeros(), Body::<f64>::zero_gradients());
    Layer::<f64, 3, 3>::backward(
        &net,
        &x,
        &y,
        &tape,
        &dy,
        InputGrad::Write(&mut dx),
        &mut g,
        false,
    );
    let mut g_ref = Body::<f64>::zero_gradients();
    let dx_ref = net.backward(&net.forward_tape(&x), &dy, &mut g_ref);
    assert_eq!(dx, dx_ref);
    assert_eq!(g, g_ref);
    // As the body of a residual block: y = x + body(x), dx = dy + body's dx.
    let block = Residual { body: net };
    let mut yb = SMatrix::<f64, 3, 5>::zeros();
    Layer::<f64, 3, 3>::forward(&block, &x, &mut yb);
    assert_eq!(yb, x + net.forward_batch(&x));
    let mut rt = Zeroed::zeroed();
    let mut yt = SMatrix::<f64, 3, 5>::zeros();
    block.forward_train(&x, &mut yt, &mut rt, &mut TrainCx::none());
    let (mut dxb, mut gb) = (
        SMatrix::<f64, 3, 5>::zeros(),
        Residual {
            body: Body::<f64>::zero_gradients(),
        },
    );
    block.backward(
        &x,
        &yt,
        &rt,
        &dy,
        InputGrad::Write(&mut dxb),
        &mut gb,
        false,
    );
    assert!((dxb - (dx_ref + dy)).abs().max() < 1e-15);
    assert_eq!(gb.body, g_ref);
    // The fused SGD step through the trait equals gradients then a step.
    let mut stepped = net;
    let mut dxs = SMatrix::<f64, 3, 5>::zeros();
    Layer::<f64, 3, 3>::backward_sgd(
        &mut stepped,
        &x,
        &y,
        &tape,
        &dy,
        InputGrad::Write(&mut dxs),
        -0.1,
    );
    assert_eq!(dxs, dx_ref);
    let mut by_hand = net;
    by_hand.add_scaled_gradients(&g_ref, -0.1);
    for t in 0..<Body<f64> as Parameters>::TENSORS {
        for (a, b) in stepped.tensor(t).iter().zip(by_hand.tensor(t)) {
            assert!((a - b).abs() < 1e-14);
        }
    }
}
