//! Adam, and the state and update shared with AdamW.

use super::{
    checked_lr, decay_for, non_negative, or_panic, s, sqrt, unit_open, OptimError, Optimizer,
};
use crate::network::Trainable;
use crate::params::{Parameters, ZeroableParameters};

/// The hyper-parameters of [`Adam`] and [`AdamW`](super::AdamW). `Default` gives
/// `torch.optim.Adam`'s defaults (`lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0`, `amsgrad = false`); [`AdamConfig::adamw`] gives
/// `torch.optim.AdamW`'s (the same with `weight_decay = 1e-2`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate γ (`lr`), `>= 0`.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the moment estimates (`betas`), each in `[0, 1)`.
    pub betas: (f64, f64),
    /// Term added to the denominator (`eps`), `>= 0`.
    pub eps: f64,
    /// Weight decay λ (`weight_decay`), `>= 0`: an L2 penalty for Adam, decoupled for
    /// AdamW.
    pub weight_decay: f64,
    /// The AMSGrad variant (`amsgrad`).
    pub amsgrad: bool,
    /// Whether biases and PReLU slopes are decayed too (PyTorch decays everything).
    pub decay_biases: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decay_biases: false,
        }
    }
}

impl AdamConfig {
    /// `torch.optim.AdamW`'s defaults: Adam's with `weight_decay = 1e-2`.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            ..AdamConfig::default()
        }
    }

    /// Checks the hyper-parameters as `torch.optim.Adam.__init__` does.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative("lr", self.lr)?;
        non_negative("eps", self.eps)?;
        unit_open("betas[0]", self.betas.0)?;
        unit_open("betas[1]", self.betas.1)?;
        non_negative("weight_decay", self.weight_decay)
    }
}

impl AdamConfig {
    /// The numeric hyper-parameters by PyTorch's names, for
    /// [`Optimizer::hyper_parameters`].
    pub(crate) fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("lr", self.lr),
            ("betas[0]", self.betas.0),
            ("betas[1]", self.betas.1),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
        ]
    }
}

/// The state and update rule of Adam and AdamW.
pub(crate) struct AdamCore<N: Trainable> {
    pub(crate) config: AdamConfig,
    pub(crate) steps: u64,
    exp_avg: Box<N::Gradients>,
    exp_avg_sq: Box<N::Gradients>,
    max_exp_avg_sq: Option<Box<N::Gradients>>,
}

impl<N: Trainable> AdamCore<N> {
    pub(crate) fn try_new(config: AdamConfig) -> Result<Self, OptimError> {
        config.validate()?;
        let mut core = AdamCore {
            config,
            steps: 0,
            exp_avg: <N::Gradients as ZeroableParameters>::boxed_zeroed(),
            exp_avg_sq: <N::Gradients as ZeroableParameters>::boxed_zeroed(),
            max_exp_avg_sq: None,
        };
        core.allocate();
        Ok(core)
    }

    fn allocate(&mut self) {
        if self.config.amsgrad && self.max_exp_avg_sq.is_none() {
            self.max_exp_avg_sq = Some(<N::Gradients as ZeroableParameters>::boxed_zeroed());
        }
    }

    #[track_caller]
    pub(crate) fn with(&mut self, f: impl FnOnce(&mut AdamConfig)) {
        f(&mut self.config);
        or_panic(self.config.validate());
        self.allocate();
    }

    /// One step; `decoupled` selects AdamW's weight decay.
    pub(crate) fn step(&mut self, net: &mut N, grads: &N::Gradients, decoupled: bool) {
        self.steps += 1;
        let c = self.config;
        let (b1, b2) = c.betas;
        let t = self.steps as f64;
        // Bias corrections in f64, as PyTorch computes them with Python floats.
        let bias_correction1 = 1.0 - b1.powf(t);
        let bias_correction2 = 1.0 - b2.powf(t);
        let step_size = s::<N::Scalar>(c.lr / bias_correction1);
        let bc2_sqrt = s::<N::Scalar>(bias_correction2.sqrt());
        let one_minus_b1 = s::<N::Scalar>(1.0 - b1);
        let b2s = s::<N::Scalar>(b2);
        let one_minus_b2 = s::<N::Scalar>(1.0 - b2);
        let eps = s::<N::Scalar>(c.eps);
        for k in 0..N::TENSORS {
            let wd = decay_for::<N>(k, c.weight_decay, c.decay_biases);
            let p = net.tensor_mut(k);
            if decoupled && wd != 0.0 {
                let f = s::<N::Scalar>(1.0 - c.lr * wd);
                for p in p.iter_mut() {
                    *p *= f;
                }
            }
            let coupled = !decoupled && wd != 0.0;
            let wd = s::<N::Scalar>(wd);
            let g = grads.tensor(k);
            let m = self.exp_avg.tensor_mut(k);
            let v = self.exp_avg_sq.tensor_mut(k);
            let mut vmax = match self.max_exp_avg_sq.as_deref_mut() {
                Some(b) if c.amsgrad => Some(b.tensor_mut(k)),
                _ => None,
            };
            for i in 0..p.len() {
                let g = if coupled { g[i] + wd * p[i] } else { g[i] };
                m[i] += one_minus_b1 * (g - m[i]);
                v[i] = b2s * v[i] + one_minus_b2 * (g * g);
                let second = match vmax.as_deref_mut() {
                    Some(vm) => {
                        if v[i] > vm[i] {
                            vm[i] = v[i];
                        }
                        vm[i]
                    }
                    None => v[i],
                };
                let denom = sqrt(second) / bc2_sqrt + eps;
                p[i] -= step_size * (m[i] / denom);
            }
        }
    }

    pub(crate) fn state(&self) -> Vec<(&'static str, &N::Gradients)> {
        let mut v: Vec<(&'static str, &N::Gradients)> = vec![
            ("exp_avg", &*self.exp_avg),
            ("exp_avg_sq", &*self.exp_avg_sq),
        ];
        if let Some(b) = self.max_exp_avg_sq.as_deref() {
            v.push(("max_exp_avg_sq", b));
        }
        v
    }

    pub(crate) fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
        let mut v: Vec<(&'static str, &mut N::Gradients)> = vec![
            ("exp_avg", &mut *self.exp_avg),
            ("exp_avg_sq", &mut *self.exp_avg_sq),
        ];
        if let Some(b) = self.max_exp_avg_sq.as_deref_mut() {
            v.push(("max_exp_avg_sq", b));
        }
        v
    }
}

/// Adam: PyTorch's `torch.optim.Adam`, step for step.
///
/// Kingma and Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015); AMSGrad from
/// Reddi, Kale and Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018). With `g_t`
/// the gradient at step `t = 1, 2, ...` and λ the weight decay (an L2 penalty):
///
/// ```text
/// g ← g_t + λ·θ_{t-1}                            (if λ ≠ 0)
/// m_t ← β₁·m_{t-1} + (1 − β₁)·g
/// v_t ← β₂·v_{t-1} + (1 − β₂)·g²
/// v̂ ← max(v̂_{t-1}, v_t)  if amsgrad,  else  v̂ ← v_t
/// θ_t ← θ_{t-1} − (γ / (1 − β₁ᵗ)) · m_t / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// `m_0`, `v_0` and `v̂_0` are zero. For decoupled weight decay use [`AdamW`](super::AdamW).
///
/// ```
/// # use nn_runtime as nn;
/// use nn::optim::{Adam, Optimizer};
/// nn::network! { pub struct Tiny { input: 3, dense(2) } }
/// let mut net = Tiny::<f64>::zeros();
/// let mut grads = Tiny::<f64>::zero_gradients();
/// use nn::Parameters;
/// grads.fill(0.5);
/// let mut opt = Adam::new(1e-3).betas(0.9, 0.999).amsgrad(true);
/// opt.step(&mut net, &grads);
/// // Adam's first step moves every parameter by about lr against its gradient's sign.
/// assert!((net.tensor(0)[0] + 1e-3).abs() < 1e-9);
/// assert_eq!(opt.state().len(), 3);
/// ```
pub struct Adam<N: Trainable> {
    core: AdamCore<N>,
}

impl<N: Trainable> Adam<N> {
    /// Adam with learning rate `lr` and PyTorch's other defaults.
    ///
    /// # Panics
    /// If `lr` is negative or NaN (PyTorch: `ValueError`).
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        match Self::try_from_config(AdamConfig {
            lr,
            ..AdamConfig::default()
        }) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the optimizer from a configuration, checking it first.
    pub fn try_from_config(config: AdamConfig) -> Result<Self, OptimError> {
        Ok(Adam {
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

    /// Sets the L2 penalty λ (`weight_decay`, default 0), added to the gradient.
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

impl<N: Trainable> Optimizer<N> for Adam<N> {
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        self.core.config.hyper_parameters()
    }

    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        self.core.step(net, grads, false);
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

impl<N: Trainable> core::fmt::Debug for Adam<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Adam")
            .field("config", &self.core.config)
            .field("steps", &self.core.steps)
            .finish_non_exhaustive()
    }
}
