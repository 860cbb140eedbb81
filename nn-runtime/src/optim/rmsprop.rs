//! RMSprop.

use super::{
    checked_lr, decay_for, non_negative, or_panic, s, sqrt, unit_closed, OptimError, Optimizer,
};
use crate::network::Trainable;
use crate::params::{Parameters, ZeroableParameters};

/// The hyper-parameters of [`RmsProp`]; `Default` gives PyTorch's defaults
/// (`lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`, `weight_decay = 0`, `momentum = 0`,
/// `centered = false`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate γ (`lr`), `>= 0`.
    pub lr: f64,
    /// Smoothing constant α (`alpha`), `0 <= alpha <= 1` (PyTorch only checks
    /// `alpha >= 0`; a value above 1 gives a negative weight to the new gradient).
    pub alpha: f64,
    /// Term added to the denominator (`eps`), `>= 0`.
    pub eps: f64,
    /// L2 penalty λ (`weight_decay`), `>= 0`.
    pub weight_decay: f64,
    /// Momentum factor μ (`momentum`), `>= 0`.
    pub momentum: f64,
    /// Centered RMSprop (`centered`): normalise by an estimate of the variance.
    pub centered: bool,
    /// Whether biases and PReLU slopes are decayed too (PyTorch decays everything).
    pub decay_biases: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            decay_biases: false,
        }
    }
}

impl RmsPropConfig {
    /// Checks the hyper-parameters as `torch.optim.RMSprop.__init__` does, and
    /// `alpha <= 1`.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative("lr", self.lr)?;
        non_negative("eps", self.eps)?;
        non_negative("momentum", self.momentum)?;
        non_negative("weight_decay", self.weight_decay)?;
        unit_closed("alpha", self.alpha)
    }
}

/// RMSprop: PyTorch's `torch.optim.RMSprop`, step for step.
///
/// Hinton, "Neural Networks for Machine Learning", lecture 6e (2012); the centered
/// variant is from Graves, "Generating Sequences With Recurrent Neural Networks" (2013).
/// With `g_t` the gradient, λ the weight decay, α the smoothing constant and μ the
/// momentum:
///
/// ```text
/// g ← g_t + λ·θ_{t-1}                          (if λ ≠ 0)
/// v_t ← α·v_{t-1} + (1 − α)·g²
/// ṽ ← v_t
/// if centered:  gavg_t ← gavg_{t-1} + (1 − α)·(g − gavg_{t-1});   ṽ ← v_t − gavg_t²
/// if μ > 0:     b_t ← μ·b_{t-1} + g / (√ṽ + ε);   θ_t ← θ_{t-1} − γ·b_t
/// else:         θ_t ← θ_{t-1} − γ·g / (√ṽ + ε)
/// ```
///
/// `v_0`, `gavg_0` and `b_0` are zero.
pub struct RmsProp<N: Trainable> {
    config: RmsPropConfig,
    steps: u64,
    square_avg: Box<N::Gradients>,
    momentum_buffer: Option<Box<N::Gradients>>,
    grad_avg: Option<Box<N::Gradients>>,
}

impl<N: Trainable> RmsProp<N> {
    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    ///
    /// # Panics
    /// If `lr` is negative or NaN (PyTorch: `ValueError`).
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        match Self::try_from_config(RmsPropConfig {
            lr,
            ..RmsPropConfig::default()
        }) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the optimizer from a configuration, checking it first.
    pub fn try_from_config(config: RmsPropConfig) -> Result<Self, OptimError> {
        config.validate()?;
        let mut o = RmsProp {
            config,
            steps: 0,
            square_avg: <N::Gradients as ZeroableParameters>::boxed_zeroed(),
            momentum_buffer: None,
            grad_avg: None,
        };
        o.allocate();
        Ok(o)
    }

    fn allocate(&mut self) {
        if self.config.momentum > 0.0 && self.momentum_buffer.is_none() {
            self.momentum_buffer = Some(<N::Gradients as ZeroableParameters>::boxed_zeroed());
        }
        if self.config.centered && self.grad_avg.is_none() {
            self.grad_avg = Some(<N::Gradients as ZeroableParameters>::boxed_zeroed());
        }
    }

    #[track_caller]
    fn with(mut self, f: impl FnOnce(&mut RmsPropConfig)) -> Self {
        f(&mut self.config);
        or_panic(self.config.validate());
        self.allocate();
        self
    }

    /// Sets the smoothing constant α (`alpha`, default 0.99).
    ///
    /// # Panics
    /// If `alpha` is outside `[0, 1]` or NaN.
    #[track_caller]
    pub fn alpha(self, alpha: f64) -> Self {
        self.with(|c| c.alpha = alpha)
    }

    /// Sets ε (`eps`, default 1e-8).
    ///
    /// # Panics
    /// If `eps` is negative or NaN.
    #[track_caller]
    pub fn eps(self, eps: f64) -> Self {
        self.with(|c| c.eps = eps)
    }

    /// Sets the momentum factor μ (`momentum`, default 0) and allocates its buffer.
    ///
    /// # Panics
    /// If `momentum` is negative or NaN.
    #[track_caller]
    pub fn momentum(self, momentum: f64) -> Self {
        self.with(|c| c.momentum = momentum)
    }

    /// Turns centered RMSprop on or off (`centered`, default off).
    pub fn centered(self, centered: bool) -> Self {
        self.with(|c| c.centered = centered)
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
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }
}

impl<N: Trainable> Optimizer<N> for RmsProp<N> {
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        let c = &self.config;
        vec![
            ("lr", c.lr),
            ("alpha", c.alpha),
            ("eps", c.eps),
            ("weight_decay", c.weight_decay),
            ("momentum", c.momentum),
        ]
    }

    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        self.steps += 1;
        let c = self.config;
        let lr = s::<N::Scalar>(c.lr);
        let alpha = s::<N::Scalar>(c.alpha);
        let one_minus_alpha = s::<N::Scalar>(1.0 - c.alpha);
        let eps = s::<N::Scalar>(c.eps);
        let mu = s::<N::Scalar>(c.momentum);
        let zero = s::<N::Scalar>(0.0);
        for t in 0..N::TENSORS {
            let wd = s::<N::Scalar>(decay_for::<N>(t, c.weight_decay, c.decay_biases));
            let decays = wd != zero;
            let p = net.tensor_mut(t);
            let g = grads.tensor(t);
            let sq = self.square_avg.tensor_mut(t);
            let mut gavg = match self.grad_avg.as_deref_mut() {
                Some(b) if c.centered => Some(b.tensor_mut(t)),
                _ => None,
            };
            let mut buf = match self.momentum_buffer.as_deref_mut() {
                Some(b) if c.momentum > 0.0 => Some(b.tensor_mut(t)),
                _ => None,
            };
            for i in 0..p.len() {
                let g = if decays { g[i] + wd * p[i] } else { g[i] };
                sq[i] = alpha * sq[i] + one_minus_alpha * (g * g);
                let var = match gavg.as_deref_mut() {
                    Some(ga) => {
                        ga[i] += one_minus_alpha * (g - ga[i]);
                        sq[i] - ga[i] * ga[i]
                    }
                    None => sq[i],
                };
                let avg = sqrt(var) + eps;
                match buf.as_deref_mut() {
                    Some(b) => {
                        b[i] = mu * b[i] + g / avg;
                        p[i] -= lr * b[i];
                    }
                    None => p[i] -= lr * (g / avg),
                }
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
        let mut v: Vec<(&'static str, &N::Gradients)> = vec![("square_avg", &*self.square_avg)];
        if let Some(b) = self.momentum_buffer.as_deref() {
            v.push(("momentum_buffer", b));
        }
        if let Some(b) = self.grad_avg.as_deref() {
            v.push(("grad_avg", b));
        }
        v
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
        let mut v: Vec<(&'static str, &mut N::Gradients)> =
            vec![("square_avg", &mut *self.square_avg)];
        if let Some(b) = self.momentum_buffer.as_deref_mut() {
            v.push(("momentum_buffer", b));
        }
        if let Some(b) = self.grad_avg.as_deref_mut() {
            v.push(("grad_avg", b));
        }
        v
    }
}

impl<N: Trainable> core::fmt::Debug for RmsProp<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RmsProp")
            .field("config", &self.config)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}
