//! The fused `sgd_step` against gradients followed by a separate SGD update, and the
//! overwriting `loss_and_gradients_into` against a fresh `loss_and_gradients`: every layer
//! kind that holds parameters (dense with and without bias, PReLU first and inside), the
//! fused and unfused loss paths, and batch sizes that take each weight-gradient kernel
//! (static small products, the small-batch pass, the register-tiled product).

use nn::prelude::*;

nn::network! {
    /// Softmax + cross-entropy (fused), PReLU inside, a bias-free layer.
    #[derive(Clone)]
    struct Cls { input: 9, dense(40), prelu, dense(33, bias = false), tanh, dense(5), softmax }
    /// Sigmoid + binary cross-entropy (fused), PReLU on the input.
    #[derive(Clone)]
    struct Bin { input: 6, prelu, dense(24), relu, dense(3), sigmoid }
    /// No fused end: MSE through the whole chain; wide enough for the SIMD kernels.
    #[derive(Clone)]
    struct Reg { input: 70, dense(64), leaky_relu(0.1), dense(20, bias = false), dense(2) }
    /// Small products only.
    #[derive(Clone)]
    struct Tiny { input: 2, dense(3), sigmoid, dense(1) }
}

/// Deterministic inputs in [-1, 1).
fn data<const R: usize, const C: usize>(seed: u64) -> SMatrix<f64, R, C> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    SMatrix::from_fn(|_, _| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

/// Class targets: one-hot (`onehot`) or probabilities in (0, 1).
fn targets<const R: usize, const C: usize>(onehot: bool) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|r, c| {
        if onehot {
            f64::from(u8::from(r == (c * 7 + 3) % R))
        } else {
            ((r * 5 + c * 3) % 7) as f64 / 7.0 + 0.05
        }
    })
}

fn max_rel<N: Parameters<Scalar = f64>>(a: &N, b: &N) -> f64 {
    let mut worst = 0.0f64;
    for t in 0..N::TENSORS {
        for (&x, &y) in a.tensor(t).iter().zip(b.tensor(t)) {
            worst = worst.max((x - y).abs() / x.abs().max(y.abs()).max(1e-3));
        }
    }
    worst
}

/// Three fused steps against three separate ones, and the overwriting gradients against
/// fresh ones (starting from NaN-filled buffers, which must never be read).
macro_rules! check {
    ($Net:ident, $B:literal, $I:literal, $O:literal, $onehot:expr, $loss:expr) => {{
        let lr = 0.05;
        let mut fused = $Net::<f64>::seeded(7);
        let mut plain = fused.clone();
        let mut grads = $Net::<f64>::boxed_zero_gradients();
        grads.fill(f64::NAN);
        for step in 0..3u64 {
            let x = data::<$I, $B>(step + 1);
            let y = targets::<$O, $B>($onehot);
            let (want, g) = plain.loss_and_gradients(&x, &y, &$loss);
            let into = plain.loss_and_gradients_into(&x, &y, &$loss, &mut *grads);
            assert_eq!(into.to_bits(), want.to_bits());
            assert!(
                max_rel(&*grads, &g) == 0.0,
                "{}: gradients written differ",
                stringify!($Net)
            );
            for t in 0..<$Net<f64> as Parameters>::TENSORS {
                for (p, &d) in plain.tensor_mut(t).iter_mut().zip(g.tensor(t)) {
                    *p -= lr * d;
                }
            }
            let got = fused.sgd_step(&x, &y, &$loss, lr);
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1.0),
                "loss {got} vs {want}"
            );
            let err = max_rel(&fused, &plain);
            assert!(
                err < 1e-12,
                "{} batch {}: step {step}: rel. error {err}",
                stringify!($Net),
                $B
            );
        }
        // The step moved the parameters (the test would pass vacuously otherwise).
        assert!(max_rel(&fused, &$Net::<f64>::seeded(7)) > 1e-4);
    }};
}

#[test]
fn fused_step_equals_gradients_then_sgd() {
    check!(Cls, 1, 9, 5, true, CrossEntropy);
    check!(Cls, 3, 9, 5, true, CrossEntropy);
    check!(Cls, 17, 9, 5, true, CrossEntropy);
    check!(Bin, 1, 6, 3, false, BinaryCrossEntropy);
    check!(Bin, 2, 6, 3, false, BinaryCrossEntropy);
    check!(Bin, 33, 6, 3, false, BinaryCrossEntropy);
    check!(Reg, 1, 70, 2, false, Mse);
    check!(Reg, 3, 70, 2, false, Mae);
    check!(Reg, 32, 70, 2, false, Mse);
    check!(Tiny, 1, 2, 1, false, Mse);
    check!(Tiny, 5, 2, 1, false, Mse);
}

#[test]
fn fused_step_in_f32_learns() {
    // XOR-free toy: a 2-4-1 regression of x0 - x1 converges with fused steps alone.
    nn::network! { struct Lin { input: 2, dense(4), tanh, dense(1) } }
    let mut net = Lin::<f32>::seeded(1);
    let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0.1, 0.5, -0.4, 0.2, 0.9, -0.8, -0.3, -0.6]);
    let y = SMatrix::<f32, 1, 4>::from_fn(|_, c| 0.5 * (x[(0, c)] - x[(1, c)]));
    let first = net.loss(&x, &y, &Mse);
    for _ in 0..2000 {
        net.sgd_step(&x, &y, &Mse, 0.1);
    }
    let last = net.loss(&x, &y, &Mse);
    assert!(last < first * 1e-3, "loss {first} -> {last}");
}

#[test]
fn trait_methods_forward_to_the_generated_ones() {
    // Generic code through `nn::Network` gets the overwriting gradients and the fused step.
    fn via_trait<N: nn::Network<9, 5, Scalar = f64>>(
        net: &mut N,
        grads: &mut N::Gradients,
        x: &SMatrix<f64, 9, 4>,
        y: &SMatrix<f64, 5, 4>,
    ) -> (f64, f64) {
        let a = net.loss_and_gradients_into(x, y, &CrossEntropy, grads);
        let b = net.sgd_step(x, y, &CrossEntropy, 0.1);
        (a, b)
    }
    let (x, y) = (data::<9, 4>(3), targets::<5, 4>(true));
    let mut a = Cls::<f64>::seeded(2);
    let mut b = a.clone();
    let mut ga = Cls::<f64>::boxed_zero_gradients();
    ga.fill(f64::NAN);
    let (la, sa) = via_trait(&mut a, &mut ga, &x, &y);
    let (lb, gb) = b.loss_and_gradients(&x, &y, &CrossEntropy);
    let sb = b.sgd_step(&x, &y, &CrossEntropy, 0.1);
    assert_eq!((la, sa), (lb, sb));
    assert!(max_rel(&*ga, &gb) == 0.0);
    assert!(max_rel(&a, &b) == 0.0);
}
