//! Adagrad.

use super::{checked_lr, decay_for, non_negative, or_panic, s, sqrt, OptimError, Optimizer};
use crate::network::Trainable;
use crate::params::{Parameters, ZeroableParameters};

/// The hyper-parameters of [`Adagrad`]; `Default` gives PyTorch's defaults
/// (`lr = 1e-2`, `lr_decay = 0`, `weight_decay = 0`, `initial_accumulator_value = 0`,
/// `eps = 1e-10`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate γ (`lr`), `>= 0`.
    pub lr: f64,
    /// Learning-rate decay η (`lr_decay`), `>= 0`.
    pub lr_decay: f64,
    /// L2 penalty λ (`weight_decay`), `>= 0`.
    pub weight_decay: f64,
    /// Initial value of the sum of squares (`initial_accumulator_value`), `>= 0`.
    pub initial_accumulator_value: f64,
    /// Term added to the denominator (`eps`), `>= 0`.
    pub eps: f64,
    /// Whether biases and PReLU slopes are decayed too (PyTorch decays everything).
    pub decay_biases: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            decay_biases: false,
        }
    }
}

impl AdagradConfig {
    /// Checks the hyper-parameters as `torch.optim.Adagrad.__init__` does.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative("lr", self.lr)?;
        non_negative("lr_decay", self.lr_decay)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        non_negative("eps", self.eps)
    }
}

/// Adagrad: PyTorch's `torch.optim.Adagrad`, step for step (dense gradients).
///
/// Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization", JMLR 12 (2011). With `g_t` the gradient at step `t = 1, 2, ...`,
/// λ the weight decay, η the learning-rate decay and `state_sum_0` the initial
/// accumulator value:
///
/// ```text
/// γ̃ ← γ / (1 + (t − 1)·η)
/// g ← g_t + λ·θ_{t-1}                         (if λ ≠ 0)
/// state_sum_t ← state_sum_{t-1} + g²
/// θ_t ← θ_{t-1} − γ̃ · g / (√state_sum_t + ε)
/// ```
///
/// ```
/// # use nn_runtime as nn;
/// use nn::optim::{Adagrad, Optimizer};
/// nn::network! { pub struct Tiny { input: 3, dense(2) } }
/// let mut net = Tiny::<f64>::zeros();
/// let mut grads = Tiny::<f64>::zero_gradients();
/// use nn::Parameters;
/// grads.fill(2.0);
/// let mut opt = Adagrad::new(0.1).initial_accumulator_value(0.0);
/// opt.step(&mut net, &grads);
/// // θ = 0 − 0.1 · 2 / (√4 + 1e-10)
/// assert!((net.tensor(0)[0] + 0.1).abs() < 1e-9);
/// ```
pub struct Adagrad<N: Trainable> {
    config: AdagradConfig,
    steps: u64,
    sum: Box<N::Gradients>,
}

impl<N: Trainable> Adagrad<N> {
    /// Adagrad with learning rate `lr` and PyTorch's other defaults.
    ///
    /// # Panics
    /// If `lr` is negative or NaN (PyTorch: `ValueError`).
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        match Self::try_from_config(AdagradConfig {
            lr,
            ..AdagradConfig::default()
        }) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the optimizer from a configuration, checking it first.
    pub fn try_from_config(config: AdagradConfig) -> Result<Self, OptimError> {
        config.validate()?;
        let mut sum = <N::Gradients as ZeroableParameters>::boxed_zeroed();
        sum.fill(s(config.initial_accumulator_value));
        Ok(Adagrad {
            config,
            steps: 0,
            sum,
        })
    }

    #[track_caller]
    fn with(mut self, f: impl FnOnce(&mut AdagradConfig)) -> Self {
        f(&mut self.config);
        or_panic(self.config.validate());
        self
    }

    /// Sets the learning-rate decay η (`lr_decay`, default 0).
    ///
    /// # Panics
    /// If `lr_decay` is negative or NaN.
    #[track_caller]
    pub fn lr_decay(self, lr_decay: f64) -> Self {
        self.with(|c| c.lr_decay = lr_decay)
    }

    /// Sets the initial value of the accumulated squared gradients
    /// (`initial_accumulator_value`, default 0) and resets the accumulator to it.
    ///
    /// # Panics
    /// If the value is negative or NaN.
    #[track_caller]
    pub fn initial_accumulator_value(self, value: f64) -> Self {
        let mut o = self.with(|c| c.initial_accumulator_value = value);
        o.sum.fill(s(value));
        o
    }

    /// Sets ε (`eps`, default 1e-10).
    ///
    /// # Panics
    /// If `eps` is negative or NaN.
    #[track_caller]
    pub fn eps(self, eps: f64) -> Self {
        self.with(|c| c.eps = eps)
    }

    /// Sets the L2 penalty λ (`weight_decay`, default 0).
    ///
    /// # Panics
    /// If `weight_decay` is negative or NaN.
    #[track_caller]
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        self.with(|c| c.weight_decay = weight_decay)
    }

    /// Whether biases and PReLU slopes are decayed too (default: weights only; PyTorch
    /// decays every parameter).
    pub fn decay_biases(mut self, decay_biases: bool) -> Self {
        self.config.decay_biases = decay_biases;
        self
    }

    /// The hyper-parameters (with the current learning rate).
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }
}

impl<N: Trainable> Optimizer<N> for Adagrad<N> {
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        let c = &self.config;
        vec![
            ("lr", c.lr),
            ("lr_decay", c.lr_decay),
            ("weight_decay", c.weight_decay),
            ("initial_accumulator_value", c.initial_accumulator_value),
            ("eps", c.eps),
        ]
    }

    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        self.steps += 1;
        let c = self.config;
        let clr = s::<N::Scalar>(c.lr / (1.0 + (self.steps - 1) as f64 * c.lr_decay));
        let eps = s::<N::Scalar>(c.eps);
        for t in 0..N::TENSORS {
            let wd = s::<N::Scalar>(decay_for::<N>(t, c.weight_decay, c.decay_biases));
            let decays = wd != s(0.0);
            let p = net.tensor_mut(t);
            let g = grads.tensor(t);
            let sum = self.sum.tensor_mut(t);
            for ((p, &g), sum) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                let g = if decays { g + wd * *p } else { g };
                *sum += g * g;
                *p -= clr * (g / (sqrt(*sum) + eps));
            }
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = checked_lr(lr);
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    fn state(&self) -> Vec<(&'static str, &N::Gradients)> {
        vec![("sum", &*self.sum)]
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
        vec![("sum", &mut *self.sum)]
    }
}

impl<N: Trainable> core::fmt::Debug for Adagrad<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Adagrad")
            .field("config", &self.config)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}
