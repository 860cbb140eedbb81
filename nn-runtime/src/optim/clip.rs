//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
//!
//! ```
//! # use nn_runtime as nn;
//! use nn::optim::clip::{clip_grad_norm, clip_grad_value};
//! use nn::Parameters;
//! nn::network! { pub struct Tiny { input: 3, dense(2) } }
//! let mut grads = Tiny::<f64>::zero_gradients();
//! grads.fill(1.0); // 8 elements: norm √8
//! let total = clip_grad_norm(&mut grads, 1.0);
//! assert!((total - 8f64.sqrt()).abs() < 1e-12);
//! assert!((grads.norm() - 1.0).abs() < 1e-5);
//! clip_grad_value(&mut grads, 0.1);
//! assert!(grads.max_abs() <= 0.1);
//! ```

use crate::params::Parameters;
use crate::scalar::Scalar;

/// Rescales `grads` so that their total Euclidean norm is at most `max_norm`, and returns
/// the total norm **before** clipping: `torch.nn.utils.clip_grad_norm_(params, max_norm)`
/// (with `norm_type = 2`).
///
/// ```text
/// total ← √(Σ g²)                   (over every element of every tensor, in f64)
/// c ← max_norm / (total + 1e-6)
/// if c < 1:  g ← c·g
/// ```
///
/// The `1e-6` is PyTorch's: a norm just above `max_norm` ends slightly below it.
///
/// Differences from PyTorch, for inputs PyTorch does not reject: if the total norm is not
/// finite (a NaN or infinite gradient) the gradients are left unchanged and the
/// non-finite norm is returned, so the caller can skip the step (PyTorch would multiply
/// by NaN or 0); a negative or NaN `max_norm` leaves the gradients unchanged (PyTorch
/// would flip their sign).
pub fn clip_grad_norm<G: Parameters>(grads: &mut G, max_norm: f64) -> f64 {
    let total = grads.norm();
    if !total.is_finite() || max_norm.is_nan() || max_norm < 0.0 {
        return total;
    }
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        grads.scale(<G::Scalar as Scalar>::from_f64(coef));
    }
    total
}

/// Clamps every element of `grads` to `[-clip_value, clip_value]`:
/// `torch.nn.utils.clip_grad_value_(params, clip_value)`. NaN elements stay NaN.
///
/// A negative or NaN `clip_value` leaves the gradients unchanged (PyTorch would set every
/// element to `clip_value`).
pub fn clip_grad_value<G: Parameters>(grads: &mut G, clip_value: f64) {
    if clip_value.is_nan() || clip_value < 0.0 {
        return;
    }
    let hi = <G::Scalar as Scalar>::from_f64(clip_value);
    let lo = -hi;
    for t in 0..G::TENSORS {
        for v in grads.tensor_mut(t) {
            if *v > hi {
                *v = hi;
            } else if *v < lo {
                *v = lo;
            }
        }
    }
}
