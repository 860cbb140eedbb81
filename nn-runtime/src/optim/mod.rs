//! Optimizers with PyTorch's update rules, and gradient clipping.
//!
//! | optimizer | PyTorch | state buffers (names as in PyTorch's `state_dict`) |
//! |---|---|---|
//! | [`Sgd`] | `torch.optim.SGD` | `momentum_buffer` (with momentum) |
//! | [`Adagrad`] | `torch.optim.Adagrad` | `sum` |
//! | [`RmsProp`] | `torch.optim.RMSprop` | `square_avg`, `momentum_buffer`, `grad_avg` |
//! | [`Adam`] | `torch.optim.Adam` | `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` (amsgrad) |
//! | [`AdamW`] | `torch.optim.AdamW` | as [`Adam`] |
//! | [`AdaBound`] | `adabound.AdaBound` (Luo et al. 2019) | as [`Adam`] (`max_exp_avg_sq` with amsbound) |
//!
//! Every optimizer is generic over the network it trains (`Adam<Net<f32>>`), keeps its
//! state in boxed gradients-shaped buffers allocated when it is built (so
//! [`Optimizer::step`] never allocates and a large state never touches the stack), and
//! takes its hyper-parameters as `f64`, converted to the network's scalar type at each
//! step, as PyTorch does with Python floats.
//!
//! ```
//! use nn::optim::{Adam, Optimizer};
//! use nn::prelude::*;
//!
//! nn::network! {
//!     pub struct Net { input: 2, dense(8), tanh, dense(1) }
//! }
//!
//! let mut net = Net::<f64>::boxed_seeded(7);
//! let mut grads = Net::<f64>::boxed_zero_gradients();
//! let mut opt = Adam::new(1e-2).betas(0.9, 0.999).weight_decay(1e-4);
//! let x = SMatrix::<f64, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
//! let y = SMatrix::<f64, 1, 4>::from_column_slice(&[0., 1., 1., 0.]);
//! let first = net.loss_and_gradients_into(&x, &y, &Mse, &mut grads);
//! for _ in 0..200 {
//!     net.loss_and_gradients_into(&x, &y, &Mse, &mut grads);
//!     // Boxed network and gradients: pass the boxes' contents.
//!     opt.step(&mut *net, &*grads);
//! }
//! assert!(net.loss(&x, &y, &Mse) < first);
//! assert_eq!(opt.steps(), 200);
//! # extern crate nn_runtime as nn;
//! ```
//!
//! # Invalid hyper-parameters
//!
//! PyTorch raises `ValueError` when an optimizer is built with an invalid hyper-parameter
//! (negative learning rate, a beta outside `[0, 1)`, Nesterov without momentum...). Here:
//!
//! - the builder methods (`Sgd::new(0.1).momentum(0.9)`) are meant for constants written
//!   in code: an invalid value is a programming error and they **panic**, with a message
//!   that names the rule (each documents it under *Panics*);
//! - for values that come from outside (a configuration file, a command line), fill the
//!   optimizer's plain-data configuration (`SgdConfig { momentum: 0.9, ..Default::default() }`)
//!   and build with `try_from_config`, which returns an [`OptimError`] and never panics.
//!
//! # Weight decay
//!
//! Every optimizer takes `.weight_decay(λ)`. [`Sgd`], [`Adagrad`], [`RmsProp`], [`Adam`]
//! and [`AdaBound`] apply it as PyTorch does, as an L2 penalty added to the gradient
//! (`g ← g + λ·θ`); [`AdamW`] decouples it (`θ ← θ·(1 − lr·λ)`). By default only weight
//! matrices are decayed, the classic `dW += λ·W` (see
//! [`TensorKind::decayed_by_default`](crate::TensorKind::decayed_by_default)); biases and
//! PReLU slopes are not. **PyTorch decays every parameter it is given**: to get PyTorch's
//! numbers exactly, set `.decay_biases(true)` (or, in PyTorch, put the biases in a
//! parameter group with `weight_decay=0`).
//!
//! # Checkpoints
//!
//! [`Optimizer::state`] lists the state buffers by name (PyTorch's state keys), each a
//! value implementing [`Parameters`] with the network's tensor names and shapes, and
//! [`Optimizer::steps`] the step counter; [`Optimizer::state_mut`] and
//! [`Optimizer::set_steps`] restore them. Hyper-parameters are in the optimizer's
//! configuration (`config()`).

use crate::network::Trainable;
use crate::params::Parameters;
use crate::scalar::Scalar;

mod adabound;
mod adagrad;
mod adam;
mod adamw;
pub mod clip;
mod rmsprop;
mod sgd;

pub use adabound::{AdaBound, AdaBoundConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adamw::AdamW;
pub use clip::{clip_grad_norm, clip_grad_value};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

/// An invalid optimizer hyper-parameter: the cases where PyTorch raises `ValueError`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimError {
    /// A hyper-parameter outside its valid range (or NaN).
    #[error("invalid {name}: {value} (expected {expected})")]
    InvalidHyperParameter {
        /// PyTorch's name of the hyper-parameter (`"lr"`, `"betas[0]"`, `"momentum"`...).
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words (`"0 <= value < 1"`).
        expected: &'static str,
    },
    /// `nesterov` was requested without a positive momentum or with a non-zero dampening.
    #[error("Nesterov momentum requires a momentum and zero dampening")]
    NesterovRequiresMomentum,
}

/// A rule that updates a network's parameters from their gradients.
///
/// Implemented by [`Sgd`], [`Adagrad`], [`RmsProp`], [`Adam`], [`AdamW`] and
/// [`AdaBound`]. A learning-rate schedule drives any of them through
/// [`set_lr`](Self::set_lr) (see [`crate::schedule`]).
pub trait Optimizer<N: Trainable> {
    /// Performs one update of `net` with `grads` (`dLoss/dθ`, as `loss.backward()` leaves
    /// in `p.grad`). Never allocates. For a boxed network and gradients, pass their
    /// contents: `opt.step(&mut *net, &*grads)`.
    fn step(&mut self, net: &mut N, grads: &N::Gradients);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate used by the following steps (what a PyTorch scheduler does
    /// to `param_group["lr"]`).
    ///
    /// # Panics
    /// If `lr` is negative or NaN.
    fn set_lr(&mut self, lr: f64);

    /// Number of steps performed so far (PyTorch's `state["step"]`).
    fn steps(&self) -> u64;

    /// Sets the step counter, when restoring a checkpoint. The bias corrections of
    /// Adam-type optimizers, Adagrad's learning-rate decay and SGD's first-step momentum
    /// initialisation depend on it.
    fn set_steps(&mut self, steps: u64);

    /// The state buffers, each named by its PyTorch state key (`"exp_avg"`...), in a
    /// fixed order. Empty for plain SGD. Allocates the returned `Vec` (for checkpoints,
    /// not for the training loop).
    fn state(&self) -> Vec<(&'static str, &N::Gradients)>;

    /// The state buffers, mutably, in the order and with the names of
    /// [`state`](Self::state): to restore a checkpoint.
    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)>;

    /// Every numeric hyper-parameter by its PyTorch name (`"lr"` first, then
    /// `"betas[0]"`, `"eps"`, `"weight_decay"`...), as the `f64` the optimizer holds. The
    /// trainer checks, before the first step, that the network's scalar type represents
    /// each of them (`1e39` is infinite in `f32`, `1e-50` is zero there). The default lists
    /// the learning rate only; every optimizer of this crate lists all of its own.
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        vec![("lr", self.lr())]
    }
}

/// A boxed optimizer (`Box<dyn Optimizer<N>>`, chosen at run time) is an optimizer.
impl<N: Trainable, O: Optimizer<N> + ?Sized> Optimizer<N> for Box<O> {
    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        (**self).step(net, grads)
    }

    fn lr(&self) -> f64 {
        (**self).lr()
    }

    fn set_lr(&mut self, lr: f64) {
        (**self).set_lr(lr)
    }

    fn steps(&self) -> u64 {
        (**self).steps()
    }

    fn set_steps(&mut self, steps: u64) {
        (**self).set_steps(steps)
    }

    fn state(&self) -> Vec<(&'static str, &N::Gradients)> {
        (**self).state()
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
        (**self).state_mut()
    }

    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        (**self).hyper_parameters()
    }
}

/// Converts an `f64` hyper-parameter to the scalar type.
#[inline(always)]
pub(crate) fn s<T: Scalar>(v: f64) -> T {
    <T as Scalar>::from_f64(v)
}

/// The square root in the scalar type.
#[inline(always)]
pub(crate) fn sqrt<T: Scalar>(v: T) -> T {
    nalgebra::ComplexField::sqrt(v)
}

/// The weight-decay coefficient applied to tensor `t` of `N` (zero if it is not decayed).
#[inline]
pub(crate) fn decay_for<N: Parameters>(t: usize, weight_decay: f64, decay_biases: bool) -> f64 {
    if weight_decay != 0.0 && (decay_biases || N::tensor_info(t).kind.decayed_by_default()) {
        weight_decay
    } else {
        0.0
    }
}

/// Checks `value >= 0` (and not NaN).
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<(), OptimError> {
    if value >= 0.0 {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            expected: "0 <= value",
        })
    }
}

/// Checks `0 <= value < 1`.
pub(crate) fn unit_open(name: &'static str, value: f64) -> Result<(), OptimError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            expected: "0 <= value < 1",
        })
    }
}

/// Checks `0 <= value <= 1`.
pub(crate) fn unit_closed(name: &'static str, value: f64) -> Result<(), OptimError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            expected: "0 <= value <= 1",
        })
    }
}

/// Panics with the error's message: the builder methods' documented behaviour.
#[track_caller]
pub(crate) fn or_panic(r: Result<(), OptimError>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The learning-rate check shared by every `set_lr`.
#[track_caller]
pub(crate) fn checked_lr(lr: f64) -> f64 {
    or_panic(non_negative("lr", lr));
    lr
}
