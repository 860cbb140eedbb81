//! Finite-difference gradient checking, for tests and for learning how backpropagation
//! works.
//!
//! [`check_network`] compares the analytic gradients of a network (every parameter and
//! the input) with central differences `(L(θ + h) - L(θ - h)) / 2h` in `f64`.
//!
//! ```
//! # use nn_runtime as nn;
//! use nn::prelude::*;
//! nn::network! { struct Tiny { input: 3, dense(4), tanh, dense(2), softmax } }
//!
//! let net = Tiny::<f64>::seeded(7);
//! let x = SMatrix::<f64, 3, 2>::new(0.1, -0.4, 0.3, 0.7, 0.2, -0.5);
//! let y = SMatrix::<f64, 2, 2>::new(1.0, 0.0, 0.0, 1.0);
//! let report = nn::gradcheck::check_network(&net, &x, &y, &CrossEntropy, 1e-5);
//! assert!(report.max_relative_error() < 1e-6, "{report}");
//! ```

use crate::loss::Loss;
use crate::network::Network;
use crate::params::{Parameters, ZeroableParameters};
use nalgebra::SMatrix;

/// The relative error of one tensor: `‖a - n‖ / (‖a‖ + ‖n‖)` (0 when both are zero).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorCheck {
    /// The tensor's name, or `"input"`.
    pub name: String,
    /// The relative error.
    pub relative_error: f64,
    /// The largest absolute difference of one element.
    pub max_abs_difference: f64,
}

/// The result of [`check_network`]: one entry per parameter tensor, then the input.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Every tensor checked.
    pub tensors: Vec<TensorCheck>,
}

impl GradCheck {
    /// The worst relative error over every tensor and the input.
    pub fn max_relative_error(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.relative_error)
            .fold(0.0, f64::max)
    }
}

impl core::fmt::Display for GradCheck {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for t in &self.tensors {
            writeln!(
                f,
                "{:<16} relative error {:.3e}, max |difference| {:.3e}",
                t.name, t.relative_error, t.max_abs_difference
            )?;
        }
        Ok(())
    }
}

/// The relative error of an analytic against a numeric gradient.
pub fn relative_error(analytic: &[f64], numeric: &[f64]) -> (f64, f64) {
    let (mut diff, mut na, mut nn, mut max) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (&a, &n) in analytic.iter().zip(numeric) {
        diff += (a - n) * (a - n);
        na += a * a;
        nn += n * n;
        max = max.max((a - n).abs());
    }
    let denom = na.sqrt() + nn.sqrt();
    let rel = if denom == 0.0 {
        0.0
    } else {
        diff.sqrt() / denom
    };
    (rel, max)
}

/// Checks every parameter gradient and the input gradient of `net` on the batch `(x, y)`
/// against central differences with step `h` (1e-5 suits f64).
///
/// The parameter gradients come from
/// [`accumulate_gradients`](Network::accumulate_gradients) (with the fused path where it
/// applies); the input gradient from [`backward`](Network::backward) given the loss's
/// gradient on the output. Costs two forward passes per parameter: meant for small
/// networks.
pub fn check_network<N, L, const IN: usize, const OUT: usize, const B: usize>(
    net: &N,
    x: &SMatrix<f64, IN, B>,
    y: &SMatrix<f64, OUT, B>,
    loss: &L,
    h: f64,
) -> GradCheck
where
    N: Network<IN, OUT, Scalar = f64>,
    L: Loss<f64>,
{
    let mut tensors = Vec::new();
    let mut grads = N::Gradients::boxed_zeroed();
    // Training mode, on a copy: a training step moves running statistics and the dropout
    // stream, which the finite differences (of `training_loss`, which changes nothing)
    // must not see.
    let mut probe = N::boxed_zeroed();
    probe.copy_from(net);
    let mut work = N::boxed_zeroed();
    work.copy_from(net);
    work.accumulate_gradients(x, y, loss, &mut grads);
    for t in 0..N::TENSORS {
        let len = probe.tensor(t).len();
        let mut numeric = vec![0.0; len];
        for (e, slot) in numeric.iter_mut().enumerate() {
            let orig = probe.tensor(t)[e];
            probe.tensor_mut(t)[e] = orig + h;
            let plus = probe.training_loss(x, y, loss);
            probe.tensor_mut(t)[e] = orig - h;
            let minus = probe.training_loss(x, y, loss);
            probe.tensor_mut(t)[e] = orig;
            *slot = (plus - minus) / (2.0 * h);
        }
        let (relative_error, max_abs_difference) = relative_error(grads.tensor(t), &numeric);
        tensors.push(TensorCheck {
            name: N::tensor_info(t).name.to_string(),
            relative_error,
            max_abs_difference,
        });
    }
    // Input gradient.
    let tape = probe.forward_tape(x);
    let mut d_out = SMatrix::<f64, OUT, B>::zeros();
    loss.gradient(N::tape_output(&tape), y, &mut d_out);
    let mut scratch = N::Gradients::boxed_zeroed();
    let dx = probe.backward(&tape, &d_out, &mut scratch);
    let mut xp = *x;
    let mut numeric = vec![0.0; IN * B];
    for (e, slot) in numeric.iter_mut().enumerate() {
        let orig = xp.as_slice()[e];
        xp.as_mut_slice()[e] = orig + h;
        let plus = probe.training_loss(&xp, y, loss);
        xp.as_mut_slice()[e] = orig - h;
        let minus = probe.training_loss(&xp, y, loss);
        xp.as_mut_slice()[e] = orig;
        *slot = (plus - minus) / (2.0 * h);
    }
    let (relative_error, max_abs_difference) = relative_error(dx.as_slice(), &numeric);
    tensors.push(TensorCheck {
        name: "input".to_string(),
        relative_error,
        max_abs_difference,
    });
    GradCheck { tensors }
}
