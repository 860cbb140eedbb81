//! AdaBound and AMSBound.

use super::{
    checked_lr, decay_for, non_negative, or_panic, s, sqrt, unit_open, OptimError, Optimizer,
};
use crate::network::Trainable;
use crate::params::{Parameters, ZeroableParameters};

/// The hyper-parameters of [`AdaBound`]; `Default` gives the reference implementation's
/// defaults (`lr = 1e-3`, `betas = (0.9, 0.999)`, `final_lr = 0.1`, `gamma = 1e-3`,
/// `eps = 1e-8`, `weight_decay = 0`, `amsbound = false`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaBoundConfig {
    /// Adam learning rate γ (`lr`), `>= 0`.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the moment estimates (`betas`), each in `[0, 1)`.
    pub betas: (f64, f64),
    /// Final (SGD) learning rate α* (`final_lr`), `>= 0`.
    pub final_lr: f64,
    /// Convergence speed β of the bound functions (`gamma`), in `[0, 1)`.
    pub gamma: f64,
    /// Term added to the denominator (`eps`), `>= 0`.
    pub eps: f64,
    /// L2 penalty λ (`weight_decay`), `>= 0`.
    pub weight_decay: f64,
    /// The AMSBound variant (`amsbound`).
    pub amsbound: bool,
    /// Whether biases and PReLU slopes are decayed too (the reference decays everything).
    pub decay_biases: bool,
}

impl Default for AdaBoundConfig {
    fn default() -> Self {
        AdaBoundConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            final_lr: 0.1,
            gamma: 1e-3,
            eps: 1e-8,
            weight_decay: 0.0,
            amsbound: false,
            decay_biases: false,
        }
    }
}

impl AdaBoundConfig {
    /// Checks the hyper-parameters as the reference `AdaBound.__init__` does, and
    /// `weight_decay >= 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative("lr", self.lr)?;
        non_negative("eps", self.eps)?;
        unit_open("betas[0]", self.betas.0)?;
        unit_open("betas[1]", self.betas.1)?;
        non_negative("final_lr", self.final_lr)?;
        unit_open("gamma", self.gamma)?;
        non_negative("weight_decay", self.weight_decay)
    }
}

/// AdaBound (and AMSBound): Adam whose per-element step size is clipped to bounds that
/// converge to a final SGD learning rate.
///
/// Luo, Xiong, Liu and Sun, "Adaptive Gradient Methods with Dynamic Bound of Learning
/// Rate" (ICLR 2019). This reproduces the authors' reference implementation
/// (`adabound.AdaBound`, Python package `adabound`) step for step, including its bias
/// correction (folded into the step size, with ε added to the uncorrected `√v`) and its
/// rescaling of `final_lr` when the learning rate is changed (by a schedule) after
/// construction. With `g_t` the gradient at step `t = 1, 2, ...`, λ the weight decay, γ
/// the current learning rate, γ₀ the learning rate the optimizer was built with, α* the
/// final learning rate and β the convergence speed (`gamma`):
///
/// ```text
/// g ← g_t + λ·θ_{t-1}                                (if λ ≠ 0)
/// m_t ← β₁·m_{t-1} + (1 − β₁)·g
/// v_t ← β₂·v_{t-1} + (1 − β₂)·g²
/// v̂ ← max(v̂_{t-1}, v_t)  if amsbound,  else  v̂ ← v_t
/// α  ← γ·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
/// α*ₜ ← α* · γ / γ₀
/// η_l ← α*ₜ·(1 − 1/(β·t + 1)),   η_u ← α*ₜ·(1 + 1/(β·t))
/// θ_t ← θ_{t-1} − clamp(α / (√v̂ + ε), η_l, η_u) · m_t
/// ```
///
/// When γ₀ is 0 (a zero initial learning rate, where the reference divides by zero),
/// `α*ₜ = α*`.
///
/// ```
/// # use nn_runtime as nn;
/// use nn::optim::{AdaBound, Optimizer};
/// nn::network! { pub struct Tiny { input: 3, dense(2) } }
/// let mut net = Tiny::<f64>::zeros();
/// let mut grads = Tiny::<f64>::zero_gradients();
/// use nn::Parameters;
/// grads.fill(1.0);
/// let mut opt = AdaBound::new(1e-3).final_lr(0.1).gamma(1e-3).amsbound(true);
/// opt.step(&mut net, &grads);
/// // Step 1: α/(√v̂+ε) ≈ 0.01 lies within the bounds [≈1e-4, ≈100.1]; m₁ = 0.1.
/// assert!((net.tensor(0)[0] + 1e-3).abs() < 1e-9);
/// ```
pub struct AdaBound<N: Trainable> {
    config: AdaBoundConfig,
    base_lr: f64,
    steps: u64,
    exp_avg: Box<N::Gradients>,
    exp_avg_sq: Box<N::Gradients>,
    max_exp_avg_sq: Option<Box<N::Gradients>>,
}

impl<N: Trainable> AdaBound<N> {
    /// AdaBound with learning rate `lr` and the reference implementation's other
    /// defaults.
    ///
    /// # Panics
    /// If `lr` is negative or NaN.
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        match Self::try_from_config(AdaBoundConfig {
            lr,
            ..AdaBoundConfig::default()
        }) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the optimizer from a configuration, checking it first. `config.lr` becomes
    /// the base learning rate γ₀ that scales `final_lr` when the learning rate changes.
    pub fn try_from_config(config: AdaBoundConfig) -> Result<Self, OptimError> {
        config.validate()?;
        let mut o = AdaBound {
            config,
            base_lr: config.lr,
            steps: 0,
            exp_avg: <N::Gradients as ZeroableParameters>::boxed_zeroed(),
            exp_avg_sq: <N::Gradients as ZeroableParameters>::boxed_zeroed(),
            max_exp_avg_sq: None,
        };
        o.allocate();
        Ok(o)
    }

    fn allocate(&mut self) {
        if self.config.amsbound && self.max_exp_avg_sq.is_none() {
            self.max_exp_avg_sq = Some(<N::Gradients as ZeroableParameters>::boxed_zeroed());
        }
    }

    #[track_caller]
    fn with(mut self, f: impl FnOnce(&mut AdaBoundConfig)) -> Self {
        f(&mut self.config);
        or_panic(self.config.validate());
        self.allocate();
        self
    }

    /// Sets the decay rates (β₁, β₂) (`betas`, default `(0.9, 0.999)`).
    ///
    /// # Panics
    /// If either is outside `[0, 1)` or NaN.
    #[track_caller]
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        self.with(|c| c.betas = (beta1, beta2))
    }

    /// Sets the final (SGD) learning rate α* (`final_lr`, default 0.1).
    ///
    /// # Panics
    /// If `final_lr` is negative or NaN.
    #[track_caller]
    pub fn final_lr(self, final_lr: f64) -> Self {
        self.with(|c| c.final_lr = final_lr)
    }

    /// Sets the convergence speed of the bounds (`gamma`, default 1e-3).
    ///
    /// # Panics
    /// If `gamma` is outside `[0, 1)` or NaN.
    #[track_caller]
    pub fn gamma(self, gamma: f64) -> Self {
        self.with(|c| c.gamma = gamma)
    }

    /// Sets ε (`eps`, default 1e-8).
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

    /// Turns AMSBound on or off (`amsbound`, default off); allocates its buffer.
    pub fn amsbound(self, amsbound: bool) -> Self {
        self.with(|c| c.amsbound = amsbound)
    }

    /// Whether biases and PReLU slopes are decayed too (default: weights only; the
    /// reference decays every parameter).
    pub fn decay_biases(mut self, decay_biases: bool) -> Self {
        self.config.decay_biases = decay_biases;
        self
    }

    /// The hyper-parameters (with the current learning rate).
    pub fn config(&self) -> &AdaBoundConfig {
        &self.config
    }

    /// The learning rate the optimizer was built with (γ₀, the reference's `base_lr`).
    pub fn base_lr(&self) -> f64 {
        self.base_lr
    }
}

impl<N: Trainable> Optimizer<N> for AdaBound<N> {
    fn hyper_parameters(&self) -> Vec<(&'static str, f64)> {
        let c = &self.config;
        vec![
            ("lr", c.lr),
            ("betas[0]", c.betas.0),
            ("betas[1]", c.betas.1),
            ("final_lr", c.final_lr),
            ("gamma", c.gamma),
            ("eps", c.eps),
            ("weight_decay", c.weight_decay),
        ]
    }

    fn step(&mut self, net: &mut N, grads: &N::Gradients) {
        self.steps += 1;
        let c = self.config;
        let (b1, b2) = c.betas;
        let t = self.steps as f64;
        let bias_correction1 = 1.0 - b1.powf(t);
        let bias_correction2 = 1.0 - b2.powf(t);
        let step_size = s::<N::Scalar>(c.lr * bias_correction2.sqrt() / bias_correction1);
        let final_lr = if self.base_lr > 0.0 {
            c.final_lr * c.lr / self.base_lr
        } else {
            c.final_lr
        };
        let lower = s::<N::Scalar>(final_lr * (1.0 - 1.0 / (c.gamma * t + 1.0)));
        let upper = s::<N::Scalar>(final_lr * (1.0 + 1.0 / (c.gamma * t)));
        let b1s = s::<N::Scalar>(b1);
        let one_minus_b1 = s::<N::Scalar>(1.0 - b1);
        let b2s = s::<N::Scalar>(b2);
        let one_minus_b2 = s::<N::Scalar>(1.0 - b2);
        let eps = s::<N::Scalar>(c.eps);
        for k in 0..N::TENSORS {
            let wd = s::<N::Scalar>(decay_for::<N>(k, c.weight_decay, c.decay_biases));
            let decays = wd != s(0.0);
            let p = net.tensor_mut(k);
            let g = grads.tensor(k);
            let m = self.exp_avg.tensor_mut(k);
            let v = self.exp_avg_sq.tensor_mut(k);
            let mut vmax = match self.max_exp_avg_sq.as_deref_mut() {
                Some(b) if c.amsbound => Some(b.tensor_mut(k)),
                _ => None,
            };
            for i in 0..p.len() {
                let g = if decays { g[i] + wd * p[i] } else { g[i] };
                m[i] = b1s * m[i] + one_minus_b1 * g;
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
                let denom = sqrt(second) + eps;
                let mut rate = step_size / denom;
                // clamp(rate, lower, upper) as torch.clamp_: max with lower, then min
                // with upper.
                if rate < lower {
                    rate = lower;
                }
                if rate > upper {
                    rate = upper;
                }
                p[i] -= rate * m[i];
            }
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// Sets the learning rate; the bounds follow, scaled by `lr / base_lr` as in the
    /// reference implementation.
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
        let mut v: Vec<(&'static str, &N::Gradients)> = vec![
            ("exp_avg", &*self.exp_avg),
            ("exp_avg_sq", &*self.exp_avg_sq),
        ];
        if let Some(b) = self.max_exp_avg_sq.as_deref() {
            v.push(("max_exp_avg_sq", b));
        }
        v
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut N::Gradients)> {
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

impl<N: Trainable> core::fmt::Debug for AdaBound<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdaBound")
            .field("config", &self.config)
            .field("base_lr", &self.base_lr)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}
