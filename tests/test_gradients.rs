//! Finite-difference checks (f64) of every activation, every loss, dense layers with and
//! without bias, and whole networks: parameter and input gradients, relative error
//! below 1e-6.

use nn::gradcheck::check_network;
use nn::prelude::*;

const TOL: f64 = 1e-6;
const H: f64 = 1e-5;

/// Inputs away from the kinks of ReLU-like functions (|x| >= 0.05 after the first layer
/// is not guaranteed, so the batch is chosen and the check would flag a kink).
fn batch() -> SMatrix<f64, 3, 4> {
    SMatrix::<f64, 3, 4>::from_column_slice(&[
        0.9, -0.3, 0.5, //
        -0.7, 0.8, 0.2, //
        0.35, 0.6, -0.95, //
        -0.45, -0.25, 0.75,
    ])
}

fn targets2() -> SMatrix<f64, 2, 4> {
    SMatrix::<f64, 2, 4>::from_column_slice(&[0.3, -0.2, 0.8, 0.1, -0.5, 0.4, 0.05, 0.9])
}

macro_rules! check_activation {
    ($test:ident, $($act:tt)+) => {
        #[test]
        fn $test() {
            nn::network! { struct Net { input: 3, dense(5), $($act)+, dense(2) } }
            for seed in 0..3 {
                let net = Net::<f64>::seeded(seed);
                let report = check_network(&net, &batch(), &targets2(), &Mse, H);
                assert!(report.max_relative_error() < TOL, "seed {seed}:\n{report}");
            }
        }
    };
}

check_activation!(identity, identity);
check_activation!(sigmoid, sigmoid);
check_activation!(tanh, tanh);
check_activation!(relu, relu);
check_activation!(leaky_relu_default, leaky_relu);
check_activation!(leaky_relu_slope, leaky_relu(0.2));
check_activation!(leaky_relu_negative_slope, leaky_relu(-0.3));
check_activation!(prelu, prelu);
check_activation!(elu, elu);
check_activation!(elu_alpha, elu(0.5));
check_activation!(gelu, gelu);
check_activation!(softplus, softplus);
check_activation!(silu, silu);
check_activation!(softmax_inside, softmax);

#[test]
fn step_has_zero_gradient_below_it() {
    nn::network! { struct Net { input: 3, dense(5), step, dense(2) } }
    let mut net = Net::<f64>::seeded(3);
    let (_, g) = net.loss_and_gradients(&batch(), &targets2(), &Mse);
    assert!(net.forward_batch(&batch()).iter().all(|v| v.is_finite()));
    assert_eq!(g.layer0.weight.abs().max(), 0.0);
    assert_eq!(g.layer0.bias.abs().max(), 0.0);
    // The last layer still learns.
    assert!(g.layer2.weight.abs().max() > 0.0);
}

#[test]
fn prelu_slope_gradient_is_checked() {
    // A PReLU right after the input, with negative inputs, so its slope matters.
    nn::network! { struct Net { input: 3, prelu, dense(2), act: prelu, dense(2) } }
    let mut net = Net::<f64>::seeded(5);
    net.layer0.weight[0] = 0.1;
    net.act.weight[0] = -0.2;
    let report = check_network(&net, &batch(), &targets2(), &Mse, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    let (_, g) = net.loss_and_gradients(&batch(), &targets2(), &Mse);
    assert!(g.layer0.weight[0].abs() > 1e-6 && g.act.weight[0].abs() > 1e-6);
}

#[test]
fn dense_without_bias() {
    nn::network! { struct Net { input: 3, dense(4, bias = false), tanh, dense(4 -> 2, bias = false) } }
    let net = Net::<f64>::seeded(1);
    let report = check_network(&net, &batch(), &targets2(), &Mse, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    assert_eq!(
        report.tensors.len(),
        3,
        "two weights and the input: {report}"
    );
}

#[test]
fn losses_mse_mae() {
    nn::network! { struct Net { input: 3, dense(6), tanh, dense(2) } }
    let net = Net::<f64>::seeded(11);
    for report in [
        check_network(&net, &batch(), &targets2(), &Mse, H),
        check_network(&net, &batch(), &targets2(), &Mae, H),
    ] {
        assert!(report.max_relative_error() < TOL, "{report}");
    }
}

#[test]
fn binary_cross_entropy_fused_and_unfused() {
    let y = SMatrix::<f64, 2, 4>::from_column_slice(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
    nn::network! { struct Fused { input: 3, dense(6), relu, dense(2), sigmoid } }
    // `identity` after `sigmoid` disables the fused path: plain BCE on probabilities.
    nn::network! { struct Plain { input: 3, dense(6), relu, dense(2), sigmoid, identity } }
    let mut fused = Fused::<f64>::seeded(2);
    let report = check_network(&fused, &batch(), &y, &BinaryCrossEntropy, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    let mut plain = Plain::<f64>::zeros();
    plain.copy_from_fused(&fused);
    let report = check_network(&plain, &batch(), &y, &BinaryCrossEntropy, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    // Both paths agree.
    let (lf, gf) = fused.loss_and_gradients(&batch(), &y, &BinaryCrossEntropy);
    let (lp, gp) = plain.loss_and_gradients(&batch(), &y, &BinaryCrossEntropy);
    assert!((lf - lp).abs() < 1e-12, "{lf} vs {lp}");
    assert!((gf.layer0.weight - gp.layer0.weight).abs().max() < 1e-12);
}

trait CopyFused {
    fn copy_from_fused<P: Parameters<Scalar = f64>>(&mut self, other: &P);
}
impl<Q: Parameters<Scalar = f64>> CopyFused for Q {
    fn copy_from_fused<P: Parameters<Scalar = f64>>(&mut self, other: &P) {
        assert_eq!(Q::TENSORS, P::TENSORS);
        for t in 0..Q::TENSORS {
            self.tensor_mut(t).copy_from_slice(other.tensor(t));
        }
    }
}

#[test]
fn cross_entropy_fused_and_unfused() {
    let y = nn::loss::one_hot_batch::<f64, 3, 4>(&[0, 2, 1, 2]).unwrap();
    nn::network! { struct Fused { input: 3, dense(6), sigmoid, dense(3), softmax } }
    nn::network! { struct Plain { input: 3, dense(6), sigmoid, dense(3), softmax, identity } }
    let mut fused = Fused::<f64>::seeded(4);
    let report = check_network(&fused, &batch(), &y, &CrossEntropy, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    let mut plain = Plain::<f64>::zeros();
    plain.copy_from_fused(&fused);
    let report = check_network(&plain, &batch(), &y, &CrossEntropy, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    let (lf, gf) = fused.loss_and_gradients(&batch(), &y, &CrossEntropy);
    let (lp, gp) = plain.loss_and_gradients(&batch(), &y, &CrossEntropy);
    assert!((lf - lp).abs() < 1e-12, "{lf} vs {lp}");
    assert!((gf.layer0.weight - gp.layer0.weight).abs().max() < 1e-12);
}

#[test]
fn whole_networks() {
    nn::network! {
        struct Deep {
            input: 3,
            dense(8), tanh,
            dense(8), leaky_relu(0.1),
            h: dense(8 -> 7), prelu,
            dense(7, bias = false), gelu,
            dense(4), softmax,
        }
    }
    let y = nn::loss::one_hot_batch::<f64, 4, 4>(&[3, 0, 1, 2]).unwrap();
    for seed in 0..4 {
        let net = Deep::<f64>::seeded(seed);
        let report = check_network(&net, &batch(), &y, &CrossEntropy, H);
        assert!(report.max_relative_error() < TOL, "seed {seed}:\n{report}");
        assert_eq!(
            report.tensors.len(),
            11,
            "ten tensors and the input: {report}"
        );
    }
}

#[test]
fn single_layer_networks() {
    nn::network! { struct Soft { input: 3, softmax } }
    nn::network! { struct One { input: 3, dense(1), sigmoid } }
    let y = nn::loss::one_hot_batch::<f64, 3, 4>(&[0, 1, 2, 0]).unwrap();
    let report = check_network(&Soft::<f64>::zeros(), &batch(), &y, &CrossEntropy, H);
    assert!(report.max_relative_error() < TOL, "{report}");
    let y1 = SMatrix::<f64, 1, 4>::new(1.0, 0.0, 1.0, 0.0);
    let report = check_network(
        &One::<f64>::seeded(1),
        &batch(),
        &y1,
        &BinaryCrossEntropy,
        H,
    );
    assert!(report.max_relative_error() < TOL, "{report}");
}

#[test]
fn backward_accumulates_and_backward_params_matches() {
    nn::network! { struct Net { input: 3, dense(4), relu, dense(2) } }
    let net = Net::<f64>::seeded(9);
    let tape = net.forward_tape(&batch());
    assert_eq!(tape.output(), &net.forward_batch(&batch()));
    let d = targets2();
    let mut g1 = Net::<f64>::zero_gradients();
    let dx = net.backward(&tape, &d, &mut g1);
    let mut g2 = Net::<f64>::zero_gradients();
    net.backward_params(&tape, &d, &mut g2);
    assert_eq!(g1, g2);
    net.backward_params(&tape, &d, &mut g2);
    let mut twice = g1.clone();
    twice.scale(2.0);
    assert!((twice.layer0.weight - g2.layer0.weight).abs().max() < 1e-15);
    assert!(dx.iter().any(|v| *v != 0.0));
}

#[test]
fn stable_when_probabilities_underflow() {
    // Logits that differ by 1000: softmax probabilities underflow to exactly 0 and 1.
    nn::network! { struct Net { input: 2, dense(3), softmax } }
    let mut net = Net::<f64>::zeros();
    net.layer0.bias = SVector::<f64, 3>::new(1000.0, 0.0, -1000.0);
    let x = SMatrix::<f64, 2, 1>::zeros();
    let p = net.forward(&x);
    assert_eq!(p[2], 0.0, "the probability underflows");
    let y = nn::loss::one_hot_batch::<f64, 3, 1>(&[2]).unwrap();
    let (loss, g) = net.loss_and_gradients(&x, &y, &CrossEntropy);
    // Exact value: logsumexp(z) - z_2 = 1000 + ln(1 + e^-1000 + e^-2000) + 1000.
    assert!((loss - 2000.0).abs() < 1e-9, "{loss}");
    assert_eq!(g.layer0.bias, SVector::<f64, 3>::new(1.0, 0.0, -1.0));

    // Sigmoid + BCE at a logit of -1000 and target 1.
    nn::network! { struct Bin { input: 1, dense(1), sigmoid } }
    let mut bin = Bin::<f32>::zeros();
    bin.layer0.bias[0] = -1000.0;
    let x = SMatrix::<f32, 1, 1>::zeros();
    let y = SMatrix::<f32, 1, 1>::new(1.0);
    let (loss, g) = bin.loss_and_gradients(&x, &y, &BinaryCrossEntropy);
    assert_eq!(loss, 1000.0);
    assert_eq!(g.layer0.bias[0], -1.0);
}

#[test]
fn f32_matches_f64() {
    nn::network! { struct Net { input: 3, dense(5), tanh, dense(2), softmax } }
    let n64 = Net::<f64>::seeded(21);
    let mut n32 = Net::<f32>::zeros();
    for t in 0..<Net<f32> as Parameters>::TENSORS {
        for (a, &b) in n32.tensor_mut(t).iter_mut().zip(n64.tensor(t)) {
            *a = b as f32;
        }
    }
    let x64 = batch();
    let x32 = x64.cast::<f32>();
    let p64 = n64.forward_batch(&x64);
    let p32 = n32.forward_batch(&x32);
    assert!((p64.cast::<f32>() - p32).abs().max() < 1e-6);
}

#[test]
fn fused_relu_inference_equals_the_training_pass() {
    // Inference runs `dense, relu` as one kernel with the ReLU in the product's epilogue;
    // the tape pass runs them apart. Large enough for the vector kernels.
    nn::network! { struct Wide { input: 64, dense(128), relu, dense(32), relu, dense(10) } }
    let net = Wide::<f32>::seeded(3);
    let x = SMatrix::<f32, 64, 16>::from_fn(|i, j| ((i * 5 + j * 11) % 13) as f32 / 6.5 - 1.0);
    assert_eq!(net.forward_batch(&x), *net.forward_tape(&x).output());
    let x1 = SVector::<f32, 64>::from_fn(|i, _| (i % 7) as f32 / 3.5 - 1.0);
    assert_eq!(net.forward(&x1), *net.forward_tape(&x1).output());
}

#[test]
fn training_without_a_tape_equals_the_tape_path() {
    // `loss_and_gradients` and `sgd_step` build no tape: a dense layer followed by an
    // activation whose backward reads only its output (relu, sigmoid, tanh, identity)
    // writes the activation's output straight from the product's epilogue. The
    // public tape path stores every output; both must give the same numbers exactly.
    nn::network! {
        struct Pairs {
            input: 40,
            dense(48), relu,
            dense(32), sigmoid,
            dense(24), tanh,
            dense(16), identity,
            dense(12), leaky_relu(0.1),
            dense(4), relu,
        }
    }
    fn check<T: nn::Scalar>() {
        let mut net = Pairs::<T>::seeded(5);
        let v = |n: usize| <T as nn::Scalar>::from_f64(((n * 37) % 23) as f64 / 11.5 - 1.0);
        let x = SMatrix::<T, 40, 9>::from_fn(|i, j| v(i * 9 + j));
        let y = SMatrix::<T, 4, 9>::from_fn(|i, j| v(i + 3 * j + 1));
        let (loss, g) = net.loss_and_gradients(&x, &y, &Mse);
        let tape = net.forward_tape(&x);
        assert_eq!(tape.output(), &net.forward_batch(&x));
        assert_eq!(loss, nn::loss::Loss::<T>::loss(&Mse, tape.output(), &y));
        assert_eq!(loss, net.loss(&x, &y, &Mse));
        let mut d = SMatrix::<T, 4, 9>::zeros();
        nn::loss::Loss::<T>::gradient(&Mse, tape.output(), &y, &mut d);
        let mut g_tape = Pairs::<T>::zero_gradients();
        net.backward_params(&tape, &d, &mut g_tape);
        assert_eq!(g, g_tape);
        assert!(g
            .layer0
            .weight
            .iter()
            .any(|w| *w != <T as nn::Scalar>::from_f64(0.0)));
        // One sample: inference applies tanh and sigmoid inside the product's kernel call.
        let x1 = SVector::<T, 40>::from_fn(|i, _| v(i + 2));
        assert_eq!(net.forward(&x1), *net.forward_tape(&x1).output());
    }
    check::<f64>();
    check::<f32>();
}
