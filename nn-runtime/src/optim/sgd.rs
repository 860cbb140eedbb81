//! Stochastic gradient descent, with momentum, dampening and Nesterov momentum.

use super::{checked_lr, decay_for, non_negative, or_panic, s, OptimError, Optimizer};
use crate::network::Trainable;
use crate::params::{Parameters, ZeroableParameters};

/// The hyper-parameters of [`Sgd`]; `Default` gives PyTorch's defaults
/// (`lr = 1e-3`, everything else 0 / false).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate γ (`lr`), `>= 0`.
    pub lr: f64,
    /// Momentum factor μ (`momentum`), `>= 0`; 0 disables momentum.
    pub momentum: f64,
    /// Dampening τ of the momentum (`dampening`).
    pub dampening: f64,
    /// L2 penalty λ (`weight_decay`), `>= 0`.
    pub weight_decay: f64,
    /// Nesterov momentum (`nesterov`): needs `momentum > 0` and `dampening == 0`.
    pub nesterov: bool,
    /// Whether biases and PReLU slopes are decayed too (PyTorch decays everything).
    pub decay_biases: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            decay_biases: false,
        }
    }
}

impl SgdConfig {
    /// Checks the hyper-parameters as `torch.optim.SGD.__init__` does.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        non_negative("weight_decay", self.weight_decay)?;
        if self.dampening.is_nan() {
            return Err(OptimError::InvalidHyperParameter {
                name: "dampening",
                value: self.dampening,
                expected: "a number",
            });
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptimError::NesterovRequiresMomentum);
        }
        Ok(())
    }
}

/// Stochastic gradient descent with optional momentum, dampening and Nesterov momentum:
/// PyTorch's `torch.optim.SGD`, step for step.
///
/// With `g_t` the gradient, λ the weight decay, μ the momentum, τ the dampening and γ the
/// learning rate:
///
/// ```text
/// g ← g_t + λ·θ_{t-1}                       (if λ ≠ 0)
/// if μ ≠ 0:
///     b_t ← g                               (first step)
///     b_t ← μ·b_{t-1} + (1 − τ)·g           (later steps)
///     g ← g + μ·b_t   if nesterov,   else   g ← b_t
/// θ_t ← θ_{t-1} − γ·g
/// ```
///
/// Nesterov momentum follows Sutskever et al., "On the importance of initialization and
/// momentum in deep learning" (ICML 2013), in PyTorch's formulation. Plain gradient
/// descent is `Sgd::new(lr)`; the momentum buffer is only allocated when `momentum > 0`.
///
/// ```
/// # use nn_runtime as nn;
/// use nn::optim::{Optimizer, Sgd};
/// nn::network! {
///     #[derive(Clone)]
///     pub struct Tiny { input: 3, dense(2) }
/// }
/// let mut net = Tiny::<f32>::seeded(0);
/// let mut grads = Tiny::<f32>::zero_gradients();
/// grads.fill(1.0);
/// let before = net.clone();
/// let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(true);
/// opt.step(&mut net, &grads);
/// // First step: b = g, update = g + 0.9·b = 1.9·g.
/// use nn::Parameters;
/// assert!((before.tensor(0)[0] - net.tensor(0)[0] - 0.19).abs() < 1e-6);
/// ```
pub struct Sgd<N: Trainable> {
    config: SgdConfig,
    steps: u64,
    momentum_buffer: Option<Box<N::Gradients>>,
}

impl<N: Trainable> Sgd<N> {
    /// Plain gradient descent with learning rate `lr` (no momentum, no weight decay).
    ///
    /// # Panics
    /// If `lr` is negative or NaN (PyTorch: `ValueError`).
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        Self::build(SgdConfig {
            lr,
            ..SgdConfig::default()
        })
    }

    /// Builds the optimizer from a configuration, checking it first.
    pub fn try_from_config(config: SgdConfig) -> Result<Self, OptimError> {
        config.validate()?;
        let mut opt = Sgd {
            config,
            steps: 0,
            momentum_buffer: None,
        };
        opt.allocate();
        Ok(opt)
    }

    #[track_caller]
    fn build(config: SgdConfig) -> Self {
        match Self::try_from_config(config) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    fn allocate(&mut self) {
        if self.config.momentum != 0.0 && self.momentum_buffer.is_none() {
            self.momentum_buffer = Some(<N::Gradients as ZeroableParameters>::boxed_zeroed());
        }
    }

    #[track_caller]
    fn with(mut self, f: impl FnOnce(&mut SgdConfig)) -> Self {
        f(&mut self.config);
        or_panic(self.config.validate());
        self.allocate();
        self
    }

    /// Sets the momentum factor μ (`momentum`, default 0) and allocates the momentum
    /// buffer.
    ///
    /// # Panics
    /// If `momentum` is negative or NaN, or is 0 while Nesterov momentum is on.
    #[track_caller]
    pub fn momentum(self, momentum: f64) -> Self {
        self.with(|c| c.momentum = momentum)
    }

    /// Sets the dampening τ of the momentum (`dampening`, default 0).
    ///
    /// # Panics
    /// If `dampening` is NaN, or non-zero while Nesterov momentum is on.
    #[track_caller]
    pub fn dampening(self, dampening: f64) -> Self {
        self.with(|c| c.dampening = dampening)
    }

    /// Turns Nesterov momentum on or off (`nesterov`, default off). Set the momentum
    /// first.
    ///
    /// # Panics
    /// If turned on while the momentum is 0 or the dampening is not 0.
    #[track_caller]
    pub fn nesterov(self, nesterov: bool) -> Self {
        self.with(|c| c.nesterov = nesterov)
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
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl<N: Trainable> Optimizer<N> for Sgd<N> {
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        let c = &self.config;
        vec![
            ("lr", c.lr),
            ("momentum", c.momentum),
            ("dampening", c.dampening),
            ("weight_decay", c.weight_decay),
        ]
    }

    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        let c = self.config;
        let lr = s::<N::Scalar>(c.lr);
        let mu = s::<N::Scalar>(c.momentum);
        let one_minus_tau = s::<N::Scalar>(1.0 - c.dampening);
        let first = self.steps == 0;
        for t in 0..N::TENSORS {
            let wd = s::<N::Scalar>(decay_for::<N>(t, c.weight_decay, c.decay_biases));
            let decays = wd != s(0.0);
            let p = net.tensor_mut(t);
            let g = grads.tensor(t);
            match self.momentum_buffer.as_deref_mut() {
                Some(buf) if c.momentum != 0.0 => {
                    let b = buf.tensor_mut(t);
                    for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                        let d = if decays { g + wd * *p } else { g };
                        *b = if first {
                            d
                        } else {
                            mu * *b + one_minus_tau * d
                        };
                        let u = if c.nesterov { d + mu * *b } else { *b };
                        *p -= lr * u;
                    }
                }
                _ => {
                    for (p, &g) in p.iter_mut().zip(g) {
                        let d = if decays { g + wd * *p } else { g };
                        *p -= lr * d;
                    }
                }
            }
        }
        self.steps += 1;
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
        self.momentum_buffer
            .as_deref()
            .map(|b| ("momentum_buffer", b))
            .into_iter()
            .collect()
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
        self.momentum_buffer
            .as_deref_mut()
            .map(|b| ("momentum_buffer", b))
            .into_iter()
            .collect()
    }
}

impl<N: Trainable> core::fmt::Debug for Sgd<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sgd")
            .field("config", &self.config)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}
