//! Learning-rate schedules with PyTorch's `torch.optim.lr_scheduler` semantics.
//!
//! A schedule is stepped **once per epoch**, after the epoch's optimizer steps, exactly
//! where a PyTorch script calls `scheduler.step()`; it returns the learning rate for the
//! next epoch, which [`LrSchedule::step_optimizer`] (or [`Optimizer::set_lr`]) hands to
//! any optimizer. Epoch 0 uses [`LrSchedule::lr`] before any step.
//!
//! | schedule | PyTorch |
//! |---|---|
//! | [`Constant`] | no scheduler |
//! | [`StepLr`] | `StepLR(step_size, gamma=0.1)` |
//! | [`ExponentialLr`] | `ExponentialLR(gamma)` |
//! | [`CosineAnnealingLr`] | `CosineAnnealingLR(T_max, eta_min=0)` |
//! | [`CosineAnnealingWarmRestarts`] | `CosineAnnealingWarmRestarts(T_0, T_mult=1, eta_min=0)` |
//! | [`LinearLr`] | `LinearLR(start_factor=1/3, end_factor=1, total_iters=5)` |
//! | [`ReduceLrOnPlateau`] | `ReduceLROnPlateau(mode="min", factor=0.1, patience=10, ...)` |
//! | [`SequentialLr`] | `SequentialLR(schedulers, milestones)` |
//!
//! PyTorch schedulers read the initial learning rate from the optimizer; here each
//! schedule is given it (`base_lr`) when built.
//!
//! ```
//! # use nn_runtime as nn;
//! use nn::optim::{Optimizer, Sgd};
//! use nn::schedule::{CosineAnnealingLr, LinearLr, LrSchedule, SequentialLr};
//! nn::network! { pub struct Tiny { input: 3, dense(2) } }
//!
//! let mut opt = Sgd::<Tiny<f32>>::new(0.1).momentum(0.9);
//! // 5 epochs of linear warm-up from 0.01 to 0.1, then cosine annealing over 20 epochs.
//! let mut schedule = SequentialLr::new(LinearLr::new(0.1).start_factor(0.1).total_iters(5))
//!     .then(5, CosineAnnealingLr::new(0.1, 20));
//! opt.set_lr(schedule.lr());
//! for _epoch in 0..25 {
//!     // ... one epoch of opt.step(&mut net, &grads) ...
//!     schedule.step_optimizer(&mut opt, None);
//! }
//! assert!(opt.lr() < 1e-3);
//! ```
//!
//! # Invalid parameters
//!
//! As for the optimizers, `new` and the builder methods panic on a value PyTorch rejects
//! (each documents it); `try_new` returns a [`ScheduleError`] instead, for values that
//! come from outside the program.

use crate::network::Trainable;
use crate::optim::Optimizer;
use core::f64::consts::PI;

/// An invalid schedule parameter: the cases where PyTorch raises `ValueError` (plus NaN
/// and zero periods, which PyTorch fails on later).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// A parameter outside its valid range (or NaN).
    #[error("invalid {name}: {value} (expected {expected})")]
    InvalidParameter {
        /// PyTorch's name of the parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// A milestone of [`SequentialLr`] not after the previous one.
    #[error("milestone {milestone} must be greater than the previous milestone {previous}")]
    MilestoneOrder {
        /// The milestone given.
        milestone: usize,
        /// The previous milestone (0 for the first).
        previous: usize,
    },
}

fn check(
    ok: bool,
    name: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), ScheduleError> {
    if ok {
        Ok(())
    } else {
        Err(ScheduleError::InvalidParameter {
            name,
            value,
            expected,
        })
    }
}

fn check_lr(name: &'static str, lr: f64) -> Result<(), ScheduleError> {
    check(lr >= 0.0 && lr.is_finite(), name, lr, "a finite value >= 0")
}

#[track_caller]
fn or_panic<T>(r: Result<T, ScheduleError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// A learning rate that changes from epoch to epoch.
pub trait LrSchedule {
    /// The learning rate of the current epoch.
    fn lr(&self) -> f64;

    /// Ends the current epoch (PyTorch's `scheduler.step()`, or `scheduler.step(metric)`
    /// for [`ReduceLrOnPlateau`]) and returns the learning rate of the next one.
    /// Schedules that do not watch a metric ignore `metric`.
    fn step(&mut self, metric: Option<f64>) -> f64;

    /// [`step`](Self::step), then gives the new learning rate to `optimizer`; returns it.
    fn step_optimizer<N: Trainable, O: Optimizer<N> + ?Sized>(
        &mut self,
        optimizer: &mut O,
        metric: Option<f64>,
    ) -> f64
    where
        Self: Sized,
    {
        let lr = self.step(metric);
        optimizer.set_lr(lr);
        lr
    }
}

impl<S: LrSchedule + ?Sized> LrSchedule for Box<S> {
    fn lr(&self) -> f64 {
        (**self).lr()
    }

    fn step(&mut self, metric: Option<f64>) -> f64 {
        (**self).step(metric)
    }
}

/// The same learning rate every epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constant {
    lr: f64,
}

impl Constant {
    /// A constant learning rate.
    ///
    /// # Panics
    /// If `lr` is negative, infinite or NaN.
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        or_panic(Self::try_new(lr))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(lr: f64) -> Result<Self, ScheduleError> {
        check_lr("lr", lr)?;
        Ok(Constant { lr })
    }
}

impl LrSchedule for Constant {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn step(&mut self, _metric: Option<f64>) -> f64 {
        self.lr
    }
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs: PyTorch's `StepLR`.
///
/// ```text
/// lr(e) = base_lr · gamma^⌊e / step_size⌋
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    base_lr: f64,
    step_size: usize,
    gamma: f64,
    epoch: usize,
}

impl StepLr {
    /// Decays `base_lr` by PyTorch's default `gamma = 0.1` every `step_size` epochs.
    ///
    /// # Panics
    /// If `base_lr` is negative, infinite or NaN, or `step_size` is 0.
    #[track_caller]
    pub fn new(base_lr: f64, step_size: usize) -> Self {
        or_panic(Self::try_new(base_lr, step_size))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(base_lr: f64, step_size: usize) -> Result<Self, ScheduleError> {
        check_lr("base_lr", base_lr)?;
        check(step_size > 0, "step_size", step_size as f64, ">= 1")?;
        Ok(StepLr {
            base_lr,
            step_size,
            gamma: 0.1,
            epoch: 0,
        })
    }

    /// Sets the decay factor (`gamma`, default 0.1).
    ///
    /// # Panics
    /// If `gamma` is negative, infinite or NaN.
    #[track_caller]
    pub fn gamma(mut self, gamma: f64) -> Self {
        or_panic(check_lr("gamma", gamma));
        self.gamma = gamma;
        self
    }

    /// The current epoch (number of steps so far).
    pub fn epoch(&self) -> usize {
        self.epoch
    }
}

impl LrSchedule for StepLr {
    fn lr(&self) -> f64 {
        self.base_lr * self.gamma.powf((self.epoch / self.step_size) as f64)
    }

    fn step(&mut self, _metric: Option<f64>) -> f64 {
        self.epoch += 1;
        self.lr()
    }
}

/// Multiplies the learning rate by `gamma` every epoch: PyTorch's `ExponentialLR`.
///
/// ```text
/// lr(e) = base_lr · gammaᵉ
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
    epoch: usize,
}

impl ExponentialLr {
    /// Decays `base_lr` by `gamma` every epoch.
    ///
    /// # Panics
    /// If `base_lr` or `gamma` is negative, infinite or NaN.
    #[track_caller]
    pub fn new(base_lr: f64, gamma: f64) -> Self {
        or_panic(Self::try_new(base_lr, gamma))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(base_lr: f64, gamma: f64) -> Result<Self, ScheduleError> {
        check_lr("base_lr", base_lr)?;
        check_lr("gamma", gamma)?;
        Ok(ExponentialLr {
            base_lr,
            gamma,
            epoch: 0,
        })
    }

    /// The current epoch (number of steps so far).
    pub fn epoch(&self) -> usize {
        self.epoch
    }
}

impl LrSchedule for ExponentialLr {
    fn lr(&self) -> f64 {
        self.base_lr * self.gamma.powf(self.epoch as f64)
    }

    fn step(&mut self, _metric: Option<f64>) -> f64 {
        self.epoch += 1;
        self.lr()
    }
}

/// Cosine annealing from `base_lr` to `eta_min` over `t_max` epochs: PyTorch's
/// `CosineAnnealingLR`, in its closed form.
///
/// Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts"
/// (ICLR 2017), without the restarts:
///
/// ```text
/// lr(e) = eta_min + (base_lr − eta_min) · (1 + cos(π·e / t_max)) / 2
/// ```
///
/// As in PyTorch, past `t_max` the learning rate rises again along the same cosine
/// (period `2·t_max`); for restarts use [`CosineAnnealingWarmRestarts`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: usize,
    eta_min: f64,
    epoch: usize,
}

impl CosineAnnealingLr {
    /// Anneals `base_lr` to 0 over `t_max` epochs.
    ///
    /// # Panics
    /// If `base_lr` is negative, infinite or NaN, or `t_max` is 0.
    #[track_caller]
    pub fn new(base_lr: f64, t_max: usize) -> Self {
        or_panic(Self::try_new(base_lr, t_max))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(base_lr: f64, t_max: usize) -> Result<Self, ScheduleError> {
        check_lr("base_lr", base_lr)?;
        check(t_max > 0, "T_max", t_max as f64, ">= 1")?;
        Ok(CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min: 0.0,
            epoch: 0,
        })
    }

    /// Sets the minimum learning rate (`eta_min`, default 0).
    ///
    /// # Panics
    /// If `eta_min` is negative, infinite or NaN.
    #[track_caller]
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        or_panic(check_lr("eta_min", eta_min));
        self.eta_min = eta_min;
        self
    }

    /// The current epoch (number of steps so far).
    pub fn epoch(&self) -> usize {
        self.epoch
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr(&self) -> f64 {
        self.eta_min
            + (self.base_lr - self.eta_min)
                * (1.0 + (PI * self.epoch as f64 / self.t_max as f64).cos())
                / 2.0
    }

    fn step(&mut self, _metric: Option<f64>) -> f64 {
        self.epoch += 1;
        self.lr()
    }
}

/// Cosine annealing with warm restarts: PyTorch's `CosineAnnealingWarmRestarts`.
///
/// Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts"
/// (ICLR 2017). The first period lasts `t_0` epochs, each next one `t_mult` times longer;
/// with `T_cur` the epochs since the last restart and `T_i` the current period:
///
/// ```text
/// lr = eta_min + (base_lr − eta_min) · (1 + cos(π·T_cur / T_i)) / 2
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingWarmRestarts {
    base_lr: f64,
    t_0: usize,
    t_mult: usize,
    eta_min: f64,
    t_cur: usize,
    t_i: usize,
    epoch: usize,
}

impl CosineAnnealingWarmRestarts {
    /// Restarts every `t_0` epochs (PyTorch's default `T_mult = 1`, `eta_min = 0`).
    ///
    /// # Panics
    /// If `base_lr` is negative, infinite or NaN, or `t_0` is 0.
    #[track_caller]
    pub fn new(base_lr: f64, t_0: usize) -> Self {
        or_panic(Self::try_new(base_lr, t_0))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(base_lr: f64, t_0: usize) -> Result<Self, ScheduleError> {
        check_lr("base_lr", base_lr)?;
        check(t_0 > 0, "T_0", t_0 as f64, ">= 1")?;
        Ok(CosineAnnealingWarmRestarts {
            base_lr,
            t_0,
            t_mult: 1,
            eta_min: 0.0,
            t_cur: 0,
            t_i: t_0,
            epoch: 0,
        })
    }

    /// Sets the factor by which each period is longer than the previous one (`T_mult`,
    /// default 1).
    ///
    /// # Panics
    /// If `t_mult` is 0.
    #[track_caller]
    pub fn t_mult(mut self, t_mult: usize) -> Self {
        or_panic(check(t_mult >= 1, "T_mult", t_mult as f64, ">= 1"));
        self.t_mult = t_mult;
        self
    }

    /// Sets the minimum learning rate (`eta_min`, default 0).
    ///
    /// # Panics
    /// If `eta_min` is negative, infinite or NaN.
    #[track_caller]
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        or_panic(check_lr("eta_min", eta_min));
        self.eta_min = eta_min;
        self
    }

    /// The current epoch (number of steps so far).
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Epochs since the last restart (`T_cur`).
    pub fn t_cur(&self) -> usize {
        self.t_cur
    }

    /// Length of the current period (`T_i`).
    pub fn t_i(&self) -> usize {
        self.t_i
    }
}

impl LrSchedule for CosineAnnealingWarmRestarts {
    fn lr(&self) -> f64 {
        self.eta_min
            + (self.base_lr - self.eta_min)
                * (1.0 + (PI * self.t_cur as f64 / self.t_i as f64).cos())
                / 2.0
    }

    fn step(&mut self, _metric: Option<f64>) -> f64 {
        self.epoch += 1;
        self.t_cur += 1;
        if self.t_cur >= self.t_i {
            self.t_cur -= self.t_i;
            self.t_i = self.t_i.saturating_mul(self.t_mult);
        }
        self.lr()
    }
}

/// Scales the learning rate by a factor that changes linearly from `start_factor` to
/// `end_factor` over `total_iters` epochs, then stays: PyTorch's `LinearLR`, the usual
/// warm-up.
///
/// ```text
/// lr(e) = base_lr · (start_factor + (end_factor − start_factor) · min(e, total_iters) / total_iters)
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearLr {
    base_lr: f64,
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
    epoch: usize,
}

impl LinearLr {
    /// PyTorch's defaults: from `base_lr / 3` to `base_lr` over 5 epochs.
    ///
    /// # Panics
    /// If `base_lr` is negative, infinite or NaN.
    #[track_caller]
    pub fn new(base_lr: f64) -> Self {
        or_panic(Self::try_new(base_lr))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(base_lr: f64) -> Result<Self, ScheduleError> {
        check_lr("base_lr", base_lr)?;
        Ok(LinearLr {
            base_lr,
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
            epoch: 0,
        })
    }

    /// Sets the factor of the first epoch (`start_factor`, default 1/3).
    ///
    /// # Panics
    /// Unless `0 < start_factor <= 1` (PyTorch's rule).
    #[track_caller]
    pub fn start_factor(mut self, start_factor: f64) -> Self {
        or_panic(check(
            start_factor > 0.0 && start_factor <= 1.0,
            "start_factor",
            start_factor,
            "0 < value <= 1",
        ));
        self.start_factor = start_factor;
        self
    }

    /// Sets the factor reached after `total_iters` epochs (`end_factor`, default 1).
    ///
    /// # Panics
    /// Unless `0 <= end_factor <= 1` (PyTorch's rule).
    #[track_caller]
    pub fn end_factor(mut self, end_factor: f64) -> Self {
        or_panic(check(
            (0.0..=1.0).contains(&end_factor),
            "end_factor",
            end_factor,
            "0 <= value <= 1",
        ));
        self.end_factor = end_factor;
        self
    }

    /// Sets the number of epochs of the ramp (`total_iters`, default 5).
    ///
    /// # Panics
    /// If `total_iters` is 0.
    #[track_caller]
    pub fn total_iters(mut self, total_iters: usize) -> Self {
        or_panic(check(
            total_iters > 0,
            "total_iters",
            total_iters as f64,
            ">= 1",
        ));
        self.total_iters = total_iters;
        self
    }

    /// The current epoch (number of steps so far).
    pub fn epoch(&self) -> usize {
        self.epoch
    }
}

impl LrSchedule for LinearLr {
    fn lr(&self) -> f64 {
        let progress = self.epoch.min(self.total_iters) as f64 / self.total_iters as f64;
        self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
    }

    fn step(&mut self, _metric: Option<f64>) -> f64 {
        self.epoch = self.epoch.saturating_add(1);
        self.lr()
    }
}

/// Whether [`ReduceLrOnPlateau`] watches a metric that should decrease or increase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PlateauMode {
    /// The metric should decrease (a loss): PyTorch's `mode="min"`, the default.
    #[default]
    Min,
    /// The metric should increase (an accuracy): `mode="max"`.
    Max,
}

/// How [`ReduceLrOnPlateau`] measures a significant improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ThresholdMode {
    /// Relative: better than `best · (1 ∓ threshold)`: PyTorch's `threshold_mode="rel"`,
    /// the default.
    #[default]
    Rel,
    /// Absolute: better than `best ∓ threshold`: `threshold_mode="abs"`.
    Abs,
}

/// Divides the learning rate when a metric has stopped improving: PyTorch's
/// `ReduceLROnPlateau`, with its defaults (`mode = Min`, `factor = 0.1`, `patience = 10`,
/// `threshold = 1e-4`, `threshold_mode = Rel`, `cooldown = 0`, `min_lr = 0`,
/// `eps = 1e-8`).
///
/// Each [`step`](LrSchedule::step) takes the epoch's metric (a validation loss, say):
///
/// ```text
/// if metric is better than best (by threshold):  best ← metric;  bad ← 0
/// else:                                          bad ← bad + 1
/// if cooling down:  cooldown_counter ← cooldown_counter − 1;  bad ← 0
/// if bad > patience:
///     new ← max(lr · factor, min_lr);  if lr − new > eps: lr ← new
///     cooldown_counter ← cooldown;  bad ← 0
/// ```
///
/// `step(None)` (no metric this epoch) changes nothing and returns the current rate.
///
/// ```
/// # use nn_runtime as nn;
/// use nn::schedule::{LrSchedule, ReduceLrOnPlateau};
/// let mut s = ReduceLrOnPlateau::new(0.1).patience(2);
/// for loss in [1.0, 0.9, 0.9, 0.9] {
///     assert_eq!(s.step(Some(loss)), 0.1);
/// }
/// // Third epoch without improvement: patience exceeded.
/// assert!((s.step(Some(0.95)) - 0.01).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    lr: f64,
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    epoch: usize,
}

impl ReduceLrOnPlateau {
    /// Starts at learning rate `lr`, with PyTorch's defaults.
    ///
    /// # Panics
    /// If `lr` is negative, infinite or NaN.
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        or_panic(Self::try_new(lr))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    pub fn try_new(lr: f64) -> Result<Self, ScheduleError> {
        check_lr("lr", lr)?;
        Ok(ReduceLrOnPlateau {
            lr,
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            epoch: 0,
        })
    }

    /// Sets whether the metric should decrease or increase (`mode`, default `Min`), and
    /// forgets the best value seen.
    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.best = self.mode_worse();
        self
    }

    /// Sets the factor the learning rate is multiplied by (`factor`, default 0.1).
    ///
    /// # Panics
    /// Unless `0 <= factor < 1` (PyTorch: `factor < 1`).
    #[track_caller]
    pub fn factor(mut self, factor: f64) -> Self {
        or_panic(check(
            (0.0..1.0).contains(&factor),
            "factor",
            factor,
            "0 <= value < 1",
        ));
        self.factor = factor;
        self
    }

    /// Sets the number of epochs without improvement tolerated before reducing
    /// (`patience`, default 10).
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Sets the threshold of a significant improvement (`threshold`, default 1e-4).
    ///
    /// # Panics
    /// If `threshold` is negative, infinite or NaN.
    #[track_caller]
    pub fn threshold(mut self, threshold: f64) -> Self {
        or_panic(check_lr("threshold", threshold));
        self.threshold = threshold;
        self
    }

    /// Sets whether the threshold is relative or absolute (`threshold_mode`, default
    /// `Rel`).
    pub fn threshold_mode(mut self, threshold_mode: ThresholdMode) -> Self {
        self.threshold_mode = threshold_mode;
        self
    }

    /// Sets the number of epochs to wait after a reduction before counting bad epochs
    /// again (`cooldown`, default 0).
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets the lower bound of the learning rate (`min_lr`, default 0).
    ///
    /// # Panics
    /// If `min_lr` is negative, infinite or NaN.
    #[track_caller]
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        or_panic(check_lr("min_lr", min_lr));
        self.min_lr = min_lr;
        self
    }

    /// Sets the smallest change of the learning rate that is applied (`eps`, default
    /// 1e-8).
    ///
    /// # Panics
    /// If `eps` is negative, infinite or NaN.
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Self {
        or_panic(check_lr("eps", eps));
        self.eps = eps;
        self
    }

    /// The best metric seen (±∞ before the first step).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Consecutive epochs without improvement counted so far.
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    /// Whether the schedule is cooling down after a reduction.
    pub fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    /// Number of metrics observed.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    fn mode_worse(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64) -> bool {
        let best = self.best;
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }
}

impl LrSchedule for ReduceLrOnPlateau {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn step(&mut self, metric: Option<f64>) -> f64 {
        let Some(current) = metric else {
            return self.lr;
        };
        self.epoch += 1;
        if self.is_better(current) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr
    }
}

/// Runs schedules one after the other, switching at given epochs: PyTorch's
/// `SequentialLR` (typically a [`LinearLr`] warm-up followed by a decay).
///
/// From milestone `m` on, the next schedule runs from its own epoch 0: at epoch `e` the
/// learning rate is that schedule's after `e − m` steps. Give it schedules that have not
/// been stepped yet. The metric passed to [`step`](LrSchedule::step) is forwarded to the
/// running schedule (PyTorch's `SequentialLR` refuses `ReduceLROnPlateau`; here it works).
pub struct SequentialLr {
    schedules: Vec<Box<dyn LrSchedule + Send + Sync>>,
    milestones: Vec<usize>,
    active: usize,
    epoch: usize,
}

impl SequentialLr {
    /// Starts with `first`, which runs until the first milestone.
    pub fn new(first: impl LrSchedule + Send + Sync + 'static) -> Self {
        SequentialLr {
            schedules: vec![Box::new(first)],
            milestones: Vec::new(),
            active: 0,
            epoch: 0,
        }
    }

    /// Switches to `next` at epoch `milestone`.
    ///
    /// # Panics
    /// Unless `milestone` is greater than the previous milestone (and than 0).
    #[track_caller]
    pub fn then(self, milestone: usize, next: impl LrSchedule + Send + Sync + 'static) -> Self {
        or_panic(self.try_then(milestone, next))
    }

    /// Like [`then`](Self::then), returning an error instead of panicking.
    pub fn try_then(
        mut self,
        milestone: usize,
        next: impl LrSchedule + Send + Sync + 'static,
    ) -> Result<Self, ScheduleError> {
        let previous = self.milestones.last().copied().unwrap_or(0);
        if milestone <= previous {
            return Err(ScheduleError::MilestoneOrder {
                milestone,
                previous,
            });
        }
        self.milestones.push(milestone);
        self.schedules.push(Box::new(next));
        Ok(self)
    }

    /// The milestones, in order.
    pub fn milestones(&self) -> &[usize] {
        &self.milestones
    }

    /// Index of the running schedule.
    pub fn active(&self) -> usize {
        self.active
    }

    /// The current epoch (number of steps so far).
    pub fn epoch(&self) -> usize {
        self.epoch
    }
}

impl LrSchedule for SequentialLr {
    fn lr(&self) -> f64 {
        self.schedules[self.active].lr()
    }

    fn step(&mut self, metric: Option<f64>) -> f64 {
        self.epoch += 1;
        let idx = self.milestones.partition_point(|&m| m <= self.epoch);
        if idx > 0 && self.milestones[idx - 1] == self.epoch {
            // A new schedule starts at its epoch 0.
            self.active = idx;
            self.schedules[idx].lr()
        } else {
            self.active = idx;
            self.schedules[idx].step(metric)
        }
    }
}

impl core::fmt::Debug for SequentialLr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SequentialLr")
            .field("milestones", &self.milestones)
            .field("active", &self.active)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}
