//! AdamW: Adam with decoupled weight decay.

use super::adam::{AdamConfig, AdamCore};
use super::{checked_lr, OptimError, Optimizer};
use crate::network::Trainable;

/// AdamW: PyTorch's `torch.optim.AdamW`, step for step.
///
/// Loshchilov and Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019). The weight
/// decay shrinks the parameters directly instead of entering the moment estimates; the
/// rest is [`Adam`](super::Adam) (AMSGrad included). With `g_t` the gradient at step
/// `t = 1, 2, ...`:
///
/// ```text
/// θ ← θ_{t-1}·(1 − γ·λ)                          (decayed tensors only)
/// m_t ← β₁·m_{t-1} + (1 − β₁)·g_t
/// v_t ← β₂·v_{t-1} + (1 − β₂)·g_t²
/// v̂ ← max(v̂_{t-1}, v_t)  if amsgrad,  else  v̂ ← v_t
/// θ_t ← θ − (γ / (1 − β₁ᵗ)) · m_t / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// PyTorch's default `weight_decay` is `1e-2`, and it applies to every parameter; here it
/// applies to weight matrices only unless [`decay_biases(true)`](Self::decay_biases).
///
/// ```
/// # use nn_runtime as nn;
/// use nn::optim::{AdamW, Optimizer};
/// nn::network! { pub struct Tiny { input: 3, dense(2) } }
/// let mut net = Tiny::<f64>::zeros();
/// use nn::Parameters;
/// net.fill(1.0);
/// let grads = Tiny::<f64>::zero_gradients();
/// let mut opt = AdamW::new(0.1).weight_decay(0.5);
/// opt.step(&mut net, &grads);
/// // Zero gradient: only the decoupled decay acts, on the weights, not on the biases.
/// assert!((net.tensor(0)[0] - 0.95).abs() < 1e-12);
/// assert_eq!(net.tensor(1)[0], 1.0);
/// ```
pub struct AdamW<N: Trainable> {
    core: AdamCore<N>,
}

impl<N: Trainable> AdamW<N> {
    /// AdamW with learning rate `lr` and PyTorch's other defaults (`weight_decay = 1e-2`).
    ///
    /// # Panics
    /// If `lr` is negative or NaN (PyTorch: `ValueError`).
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        match Self::try_from_config(AdamConfig {
            lr,
            ..AdamConfig::adamw()
        }) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the optimizer from a configuration (start from [`AdamConfig::adamw`] for
    /// PyTorch's defaults), checking it first.
    pub fn try_from_config(config: AdamConfig) -> Result<Self, OptimError> {
        Ok(AdamW {
            core: AdamCore::try_new(config)?,
        })
    }

    /// Sets the decay rates (β₁, β₂) of the moment estimates (`betas`, default
    /// `(0.9, 0.999)`).
    ///
    /// # Panics
    /// If either is outside `[0, 1)` or NaN.
    #[track_caller]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.core.with(|c| c.betas = (beta1, beta2));
        self
    }

    /// Sets ε (`eps`, default 1e-8).
    ///
    /// # Panics
    /// If `eps` is negative or NaN.
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Self {
        self.core.with(|c| c.eps = eps);
        self
    }

    /// Sets the decoupled weight decay λ (`weight_decay`, default 1e-2).
    ///
    /// # Panics
    /// If `weight_decay` is negative or NaN.
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.core.with(|c| c.weight_decay = weight_decay);
        self
    }

    /// Turns AMSGrad on or off (`amsgrad`, default off); allocates its buffer.
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.core.with(|c| c.amsgrad = amsgrad);
        self
    }

    /// Whether biases and PReLU slopes are decayed too (default: weights only; PyTorch
    /// decays every parameter).
    pub fn decay_biases(mut self, decay_biases: bool) -> Self {
        self.core.config.decay_biases = decay_biases;
        self
    }

    /// The hyper-parameters (with the current learning rate).
    pub fn config(&self) -> &AdamConfig {
        &self.core.config
    }
}

impl<N: Trainable> Optimizer<N> for AdamW<N> {
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        self.core.config.hyper_parameters()
    }

    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        self.core.step(net, grads, true);
    }

    fn lr(&self) -> f64 {
        self.core.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.core.config.lr = checked_lr(lr);
    }

    fn steps(&self) -> u64 {
        self.core.steps
    }

    fn set_steps(&mut self, steps: u64) {
        self.core.steps = steps;
    }

    fn state(&self) -> Vec<(&'static str, &N::Gradients)> {
        self.core.state()
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
        self.core.state_mut()
    }
}

impl<N: Trainable> core::fmt::Debug for AdamW<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdamW")
            .field("config", &self.core.config)
            .field("steps", &self.core.steps)
            .finish_non_exhaustive()
    }
}
