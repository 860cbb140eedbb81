//! [`BatchNorm`]: batch normalisation over the features of a batch (`batch_norm`), exactly
//! PyTorch's `nn.BatchNorm1d(N)` on an input of shape `(batch, N)` with its defaults
//! `affine=True, track_running_stats=True`.
//!
//! Training mode ([`forward_train`](Layer::forward_train)) normalises every feature with the
//! mean and the **biased** variance of the batch and records them in its tape;
//! [`update_buffers`](Layer::update_buffers) then moves the running statistics towards them
//! (`running_var` with the **unbiased** variance) and counts the batch. Evaluation mode
//! ([`forward`](Layer::forward)) normalises with the running statistics. The backward pass
//! is the full batch-coupled one: every sample's input gradient depends on the whole batch.

use super::{InPlace, InputGrad, Layer, Zeroed};
use crate::scalar::Scalar;
use core::marker::PhantomData;
use nalgebra::{SMatrix, SVector};

/// `f64::to_bits(1e-5)`: PyTorch's default `eps` for `nn.BatchNorm1d` and `nn.LayerNorm`,
/// as the const generic [`BatchNorm`] and [`LayerNorm`](super::LayerNorm) take it.
pub const DEFAULT_EPS: u64 = f64::to_bits(1e-5);

/// `f64::to_bits(0.1)`: PyTorch's default `momentum` for `nn.BatchNorm1d`, as the const
/// generic [`BatchNorm`] takes it.
pub const DEFAULT_MOMENTUM: u64 = f64::to_bits(0.1);

/// Batch normalisation of `N` features (`batch_norm`), PyTorch's `nn.BatchNorm1d(N)` with
/// affine parameters and running statistics.
///
/// The hyper-parameters are const generics holding the bits of an `f64`
/// (`f64::to_bits`), so that the type says everything about the layer, the value holds only
/// its tensors, and a value whose bits are all zero is valid: `EPS` (default `1e-5`) is
/// added to the variance before its square root, `MOMENTUM` (default `0.1`) is the weight
/// of the new batch in the running statistics. Read them back as
/// [`EPS_F64`](Self::EPS_F64) and [`MOMENTUM_F64`](Self::MOMENTUM_F64). PyTorch's
/// `momentum=None` (a cumulative average) is not provided.
///
/// In training mode, for each feature `i` over the `B` samples of the batch, with `μ` the
/// batch mean and `σ²` the biased batch variance:
/// `y = γ (x - μ) / sqrt(σ² + eps) + β`; after the step
/// `running_mean = (1 - m) running_mean + m μ`,
/// `running_var = (1 - m) running_var + m σ² B / (B - 1)`, `num_batches_tracked += 1`.
/// In evaluation mode `y = γ (x - running_mean) / sqrt(running_var + eps) + β`.
///
/// A training batch of one sample has no variance; PyTorch rejects it, and here the
/// training passes (`forward_train`, `backward`, `backward_sgd`, `update_buffers`) with
/// `B == 1` fail to compile (a `const` assertion, evaluated when they are instantiated).
///
/// ```
/// use nn_runtime::layer::{BatchNorm, Layer, TrainCx, Zeroed};
/// use nn_runtime::SMatrix;
///
/// let mut bn = BatchNorm::<f64, 2>::new();
/// let x = SMatrix::<f64, 2, 4>::new(1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 10.0, 20.0);
/// let mut y = SMatrix::zeros();
/// let mut tape = Zeroed::zeroed();
/// bn.forward_train(&x, &mut y, &mut tape, &mut TrainCx::none());
/// // Each feature (row) now has mean 0 over the batch.
/// assert!(y.row(0).sum().abs() < 1e-12 && y.row(1).sum().abs() < 1e-12);
/// bn.update_buffers(&tape);
/// assert_eq!(bn.num_batches_tracked, 1);
/// assert!((bn.running_mean[0] - 0.1 * 2.5).abs() < 1e-12);
/// ```
///
/// Training on a batch of one does not compile:
/// ```compile_fail,E0080
/// use nn_runtime::layer::{BatchNorm, Layer, TrainCx, Zeroed};
/// use nn_runtime::SMatrix;
///
/// let bn = BatchNorm::<f64, 2>::new();
/// let x = SMatrix::<f64, 2, 1>::zeros();
/// let (mut y, mut tape) = (SMatrix::zeros(), Zeroed::zeroed());
/// bn.forward_train(&x, &mut y, &mut tape, &mut TrainCx::none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm<
    T: Scalar,
    const N: usize,
    const EPS: u64 = { DEFAULT_EPS },
    const MOMENTUM: u64 = { DEFAULT_MOMENTUM },
> {
    /// The scale γ, PyTorch's `BatchNorm1d.weight` of shape `[N]` (initially 1). A
    /// trainable parameter.
    pub weight: SVector<T, N>,
    /// The shift β, PyTorch's `BatchNorm1d.bias` of shape `[N]` (initially 0). A trainable
    /// parameter.
    pub bias: SVector<T, N>,
    /// The running mean, PyTorch's buffer `BatchNorm1d.running_mean` of shape `[N]`
    /// (initially 0): used in evaluation mode, updated by
    /// [`update_buffers`](Layer::update_buffers), never trained.
    pub running_mean: SVector<T, N>,
    /// The running (unbiased) variance, PyTorch's buffer `BatchNorm1d.running_var` of
    /// shape `[N]` (initially 1): used in evaluation mode, updated by
    /// [`update_buffers`](Layer::update_buffers), never trained.
    pub running_var: SVector<T, N>,
    /// The number of training batches seen, PyTorch's buffer
    /// `BatchNorm1d.num_batches_tracked`, an `int64` scalar (shape `[]`) in PyTorch's files.
    ///
    /// Kept as an integer rather than a `T`, so that it stays exact whatever the scalar
    /// type (an `f32` stops counting at 2^24); an all-zero `u64` is 0, so a zeroed
    /// `BatchNorm` is still a valid value. It is only counted: with a fixed momentum (the
    /// only kind provided) PyTorch does not read it either. Saved and loaded as `I64`.
    pub num_batches_tracked: u64,
}

/// The gradients of a [`BatchNorm`]: its trainable parameters only (the running statistics
/// are buffers, never trained).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormGrads<T: Scalar, const N: usize> {
    /// dLoss/dγ, shape `[N]`.
    pub weight: SVector<T, N>,
    /// dLoss/dβ, shape `[N]`.
    pub bias: SVector<T, N>,
}

impl<T: Scalar, const N: usize> BatchNormGrads<T, N> {
    /// Zero gradients.
    pub fn zeros() -> Self {
        Self {
            weight: SVector::zeros(),
            bias: SVector::zeros(),
        }
    }
}

impl<T: Scalar, const N: usize> Default for BatchNormGrads<T, N> {
    fn default() -> Self {
        Self::zeros()
    }
}

/// What [`BatchNorm`]'s training forward pass records: the statistics of a batch of `B`
/// samples, per feature.
///
/// `B` is part of the type (through a zero-sized marker) so that
/// [`update_buffers`](Layer::update_buffers), which makes the variance unbiased with
/// `B / (B - 1)`, infers the batch size from the tape and cannot be given another one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormTape<T: Scalar, const N: usize, const B: usize> {
    /// The batch mean μ.
    pub mean: SVector<T, N>,
    /// The biased batch variance σ² (divided by `B`).
    pub var: SVector<T, N>,
    /// `1 / sqrt(σ² + eps)`.
    pub inv_std: SVector<T, N>,
    batch: PhantomData<[(); B]>,
}

impl<T: Scalar, const N: usize, const B: usize> Zeroed for BatchNormTape<T, N, B> {
    fn zeroed() -> Self {
        Self {
            mean: SVector::zeros(),
            var: SVector::zeros(),
            inv_std: SVector::zeros(),
            batch: PhantomData,
        }
    }
}

impl<T: Scalar, const N: usize, const EPS: u64, const MOMENTUM: u64>
    BatchNorm<T, N, EPS, MOMENTUM>
{
    /// `eps`, read from the `EPS` bits.
    pub const EPS_F64: f64 = f64::from_bits(EPS);
    /// `momentum`, read from the `MOMENTUM` bits.
    pub const MOMENTUM_F64: f64 = f64::from_bits(MOMENTUM);
    /// Evaluates (and so, when named in a `const`, checks at compile time) that `eps` is
    /// finite and `>= 0` and that `momentum` is in `[0, 1]`. Every pass evaluates it.
    pub const HYPERPARAMETERS_VALID: () = assert!(
        Self::EPS_F64 >= 0.0
            && Self::EPS_F64.is_finite()
            && Self::MOMENTUM_F64 >= 0.0
            && Self::MOMENTUM_F64 <= 1.0,
        "batch_norm: eps must be finite and >= 0, and momentum in [0, 1]"
    );

    /// PyTorch's initial values: `weight` 1, `bias` 0, `running_mean` 0, `running_var` 1,
    /// `num_batches_tracked` 0.
    pub fn new() -> Self {
        let one = SVector::from_element(<T as Scalar>::from_f64(1.0));
        Self {
            weight: one,
            bias: SVector::zeros(),
            running_mean: SVector::zeros(),
            running_var: one,
            num_batches_tracked: 0,
        }
    }

    /// Every tensor zero and the counter 0 (the all-zero value).
    pub fn zeros() -> Self {
        Self {
            weight: SVector::zeros(),
            bias: SVector::zeros(),
            running_mean: SVector::zeros(),
            running_var: SVector::zeros(),
            num_batches_tracked: 0,
        }
    }

    #[inline(always)]
    fn eps() -> T {
        let () = Self::HYPERPARAMETERS_VALID;
        <T as Scalar>::from_f64(Self::EPS_F64)
    }

    /// The batch statistics of `x`, per feature (two passes: the mean, then the mean
    /// squared deviation from it).
    #[inline]
    fn statistics<const B: usize>(x: &SMatrix<T, N, B>) -> BatchNormTape<T, N, B> {
        let inv_b = <T as Scalar>::from_f64(1.0 / B as f64);
        let mut mean = SVector::<T, N>::zeros();
        for col in x.column_iter() {
            mean += col;
        }
        mean *= inv_b;
        let mut var = SVector::<T, N>::zeros();
        for col in x.column_iter() {
            for i in 0..N {
                let d = col[i] - mean[i];
                var[i] += d * d;
            }
        }
        var *= inv_b;
        let eps = Self::eps();
        let one = <T as Scalar>::from_f64(1.0);
        let inv_std = var.map(|v| one / (v + eps).sqrt());
        BatchNormTape {
            mean,
            var,
            inv_std,
            batch: PhantomData,
        }
    }

    /// `y = (x - mean) · (inv_std · γ) + β`, per feature.
    #[inline]
    fn normalise<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        mean: &SVector<T, N>,
        inv_std: &SVector<T, N>,
        y: &mut SMatrix<T, N, B>,
    ) {
        let scale = inv_std.component_mul(&self.weight);
        for (xc, mut yc) in x.column_iter().zip(y.column_iter_mut()) {
            for i in 0..N {
                yc[i] = (xc[i] - mean[i]) * scale[i] + self.bias[i];
            }
        }
    }

    /// The evaluation-mode statistics: the running mean and `1 / sqrt(running_var + eps)`.
    #[inline]
    fn running_inv_std(&self) -> SVector<T, N> {
        let eps = Self::eps();
        let one = <T as Scalar>::from_f64(1.0);
        self.running_var.map(|v| one / (v + eps).sqrt())
    }

    /// The batch-coupled backward pass: returns `(Σ dy, Σ dy·x̂)` per feature (dLoss/dβ and
    /// dLoss/dγ) and writes dLoss/dx as `dx` asks, with the current γ:
    /// `dx = γ · inv_std · (dy − Σdy / B − x̂ · Σ(dy·x̂) / B)`.
    #[inline]
    fn backward_parts<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        tape: &BatchNormTape<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
    ) -> (SVector<T, N>, SVector<T, N>) {
        training_batch::<B>();
        let (mean, inv_std) = (&tape.mean, &tape.inv_std);
        let mut sum_dy = SVector::<T, N>::zeros();
        let mut sum_dy_xhat = SVector::<T, N>::zeros();
        for (xc, dyc) in x.column_iter().zip(dy.column_iter()) {
            for i in 0..N {
                let xhat = (xc[i] - mean[i]) * inv_std[i];
                sum_dy[i] += dyc[i];
                sum_dy_xhat[i] += dyc[i] * xhat;
            }
        }
        let (out, gated) = match dx {
            InputGrad::Skip => return (sum_dy, sum_dy_xhat),
            InputGrad::Write(dx) => (dx, false),
            InputGrad::WriteReluGated(dx) => (dx, true),
        };
        let inv_b = <T as Scalar>::from_f64(1.0 / B as f64);
        let zero = <T as Scalar>::from_f64(0.0);
        let scale = inv_std.component_mul(&self.weight);
        let mean_dy = sum_dy * inv_b;
        let mean_dy_xhat = sum_dy_xhat * inv_b;
        for ((xc, dyc), mut dxc) in x
            .column_iter()
            .zip(dy.column_iter())
            .zip(out.column_iter_mut())
        {
            for i in 0..N {
                dxc[i] = if gated && xc[i] <= zero {
                    zero
                } else {
                    let xhat = (xc[i] - mean[i]) * inv_std[i];
                    scale[i] * (dyc[i] - mean_dy[i] - xhat * mean_dy_xhat[i])
                };
            }
        }
        (sum_dy, sum_dy_xhat)
    }
}

/// Fails to compile for a training batch of one sample, which has no variance (PyTorch:
/// "Expected more than 1 value per channel when training").
#[inline(always)]
fn training_batch<const B: usize>() {
    const {
        assert!(
            B > 1,
            "batch_norm: training needs a batch of more than one sample (a batch of one has no variance)"
        )
    }
}

impl<T: Scalar, const N: usize, const EPS: u64, const MOMENTUM: u64> Default
    for BatchNorm<T, N, EPS, MOMENTUM>
{
    /// [`BatchNorm::new`]: PyTorch's initial values.
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const N: usize, const EPS: u64, const MOMENTUM: u64> Layer<T, N, N>
    for BatchNorm<T, N, EPS, MOMENTUM>
{
    type Grads = BatchNormGrads<T, N>;
    type Tape<const B: usize> = BatchNormTape<T, N, B>;

    /// Evaluation mode: normalises with the running statistics.
    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        self.normalise(x, &self.running_mean, &self.running_inv_std(), y);
    }

    /// Training mode: normalises with the batch's statistics and records them.
    #[inline]
    fn forward_train<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        tape: &mut BatchNormTape<T, N, B>,
        _cx: &mut super::TrainCx<'_>,
    ) {
        training_batch::<B>();
        *tape = Self::statistics(x);
        self.normalise(x, &tape.mean, &tape.inv_std, y);
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        tape: &BatchNormTape<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        grads: &mut BatchNormGrads<T, N>,
        accumulate: bool,
    ) {
        let (d_bias, d_weight) = self.backward_parts(x, tape, dy, dx);
        if accumulate {
            grads.weight += d_weight;
            grads.bias += d_bias;
        } else {
            grads.weight = d_weight;
            grads.bias = d_bias;
        }
    }

    #[inline]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        tape: &BatchNormTape<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        alpha: T,
    ) {
        let (d_bias, d_weight) = self.backward_parts(x, tape, dy, dx);
        self.weight += d_weight * alpha;
        self.bias += d_bias * alpha;
    }

    /// Moves the running statistics towards the batch's (the variance made unbiased,
    /// `σ² B / (B - 1)`) and counts the batch, as PyTorch does in its training forward.
    #[inline]
    fn update_buffers<const B: usize>(&mut self, tape: &BatchNormTape<T, N, B>) {
        training_batch::<B>();
        let () = Self::HYPERPARAMETERS_VALID;
        let m = <T as Scalar>::from_f64(Self::MOMENTUM_F64);
        let keep = <T as Scalar>::from_f64(1.0 - Self::MOMENTUM_F64);
        let unbias = <T as Scalar>::from_f64(B as f64 / (B - 1) as f64);
        for i in 0..N {
            self.running_mean[i] = m * tape.mean[i] + keep * self.running_mean[i];
            self.running_var[i] = m * (tape.var[i] * unbias) + keep * self.running_var[i];
        }
        self.num_batches_tracked += 1;
    }
}

impl<T: Scalar, const N: usize, const EPS: u64, const MOMENTUM: u64> InPlace<T, N>
    for BatchNorm<T, N, EPS, MOMENTUM>
{
    /// Evaluation mode, in place: each element depends only on itself and its feature's
    /// running statistics.
    #[inline]
    fn forward_inplace<const B: usize>(&self, x: &mut SMatrix<T, N, B>) {
        let scale = self.running_inv_std().component_mul(&self.weight);
        for mut c in x.column_iter_mut() {
            for i in 0..N {
                c[i] = (c[i] - self.running_mean[i]) * scale[i] + self.bias[i];
            }
        }
    }
}

impl<T: Scalar, const N: usize, const EPS: u64, const MOMENTUM: u64> super::Init<T>
    for BatchNorm<T, N, EPS, MOMENTUM>
{
    /// PyTorch's initial values (scale 1, shift 0, running mean 0, running variance 1, no
    /// batches tracked); draws nothing.
    fn init<R: rand::Rng + ?Sized>(&mut self, _rng: &mut R, _scheme: crate::init::Scheme) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, input, ParamAccess};
    use super::super::TrainCx;
    use super::*;
    use rand::{RngExt, SeedableRng};

    type Bn = BatchNorm<f64, 3>;

    fn params() -> ParamAccess<Bn, BatchNormGrads<f64, 3>> {
        ParamAccess {
            count: 6,
            get: |l, k| {
                if k < 3 {
                    &mut l.weight[k]
                } else {
                    &mut l.bias[k - 3]
                }
            },
            grad: |g, k| if k < 3 { g.weight[k] } else { g.bias[k - 3] },
        }
    }

    fn layer() -> Bn {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let mut bn = Bn::new();
        bn.weight = SVector::from_fn(|_, _| rng.random_range(0.5..1.5));
        bn.bias = SVector::from_fn(|_, _| rng.random_range(-1.0..1.0));
        // Running statistics unlike the batch's, so that a pass using them is noticed.
        bn.running_mean = SVector::from_fn(|_, _| rng.random_range(-1.0..1.0));
        bn.running_var = SVector::from_fn(|_, _| rng.random_range(0.5..2.0));
        bn
    }

    #[test]
    fn gradients_match_finite_differences() {
        // The loss couples every sample of a feature through the batch statistics; the
        // harness perturbs one input at a time and re-runs the whole batch.
        let err = check::<_, 3, 3, 5>(&layer(), &input(31), params(), BatchNormGrads::zeros);
        eprintln!("batch_norm: max relative error vs finite differences {err:e}");
        let err = check::<_, 3, 3, 2>(&layer(), &input(32), params(), BatchNormGrads::zeros);
        eprintln!("batch_norm (B = 2): max relative error vs finite differences {err:e}");
        let err = check::<_, 3, 3, 16>(&layer(), &input(33), params(), BatchNormGrads::zeros);
        eprintln!("batch_norm (B = 16): max relative error vs finite differences {err:e}");
    }

    #[test]
    fn hyperparameters_round_trip_through_bits() {
        assert_eq!(Bn::EPS_F64, 1e-5);
        assert_eq!(Bn::MOMENTUM_F64, 0.1);
        type Custom = BatchNorm<f32, 4, { f64::to_bits(1e-3) }, { f64::to_bits(0.25) }>;
        assert_eq!(Custom::EPS_F64, 1e-3);
        assert_eq!(Custom::MOMENTUM_F64, 0.25);
        let () = Custom::HYPERPARAMETERS_VALID;
    }

    #[test]
    fn new_and_zeros() {
        let bn = Bn::new();
        assert_eq!(bn.weight, SVector::<f64, 3>::from_element(1.0));
        assert_eq!(bn.bias, SVector::<f64, 3>::zeros());
        assert_eq!(bn.running_mean, SVector::<f64, 3>::zeros());
        assert_eq!(bn.running_var, SVector::<f64, 3>::from_element(1.0));
        assert_eq!(bn.num_batches_tracked, 0);
        assert_eq!(Bn::default(), bn);
        let z = Bn::zeros();
        assert_eq!(z.weight, SVector::<f64, 3>::zeros());
        assert_eq!(z.running_var, SVector::<f64, 3>::zeros());
        assert_eq!(z.num_batches_tracked, 0);
        assert_eq!(
            BatchNormGrads::<f64, 3>::zeros().weight,
            SVector::<f64, 3>::zeros()
        );
    }

    /// Mean and biased/unbiased variance of each row, computed directly.
    fn row_stats<const B: usize>(x: &SMatrix<f64, 3, B>) -> [(f64, f64, f64); 3] {
        core::array::from_fn(|i| {
            let row: Vec<f64> = (0..B).map(|j| x[(i, j)]).collect();
            let mean = row.iter().sum::<f64>() / B as f64;
            let ss: f64 = row.iter().map(|v| (v - mean) * (v - mean)).sum();
            (mean, ss / B as f64, ss / (B - 1) as f64)
        })
    }

    #[test]
    fn running_statistics_after_one_and_two_steps() {
        let start = layer();
        let mut bn = start;
        let x1: SMatrix<f64, 3, 4> = input(41);
        let x2: SMatrix<f64, 3, 4> = input(42);
        let mut y = SMatrix::zeros();
        let mut tape = BatchNormTape::zeroed();

        bn.forward_train(&x1, &mut y, &mut tape, &mut TrainCx::none());
        // The training output is normalised with the batch's biased variance.
        let s1 = row_stats(&x1);
        for i in 0..3 {
            assert!((tape.mean[i] - s1[i].0).abs() < 1e-15);
            assert!((tape.var[i] - s1[i].1).abs() < 1e-14);
            for j in 0..4 {
                let want =
                    (x1[(i, j)] - s1[i].0) / (s1[i].1 + 1e-5).sqrt() * bn.weight[i] + bn.bias[i];
                assert!((y[(i, j)] - want).abs() < 1e-14, "y[{i},{j}]");
            }
        }
        bn.update_buffers(&tape);
        assert_eq!(bn.num_batches_tracked, 1);
        let (mut rm, mut rv) = (start.running_mean, start.running_var);
        for i in 0..3 {
            rm[i] = 0.9 * rm[i] + 0.1 * s1[i].0;
            rv[i] = 0.9 * rv[i] + 0.1 * s1[i].2;
            assert!(
                (bn.running_mean[i] - rm[i]).abs() < 1e-15,
                "step 1 mean {i}"
            );
            assert!((bn.running_var[i] - rv[i]).abs() < 1e-15, "step 1 var {i}");
        }
        // The forward passes never touch the parameters or the buffers themselves.
        assert_eq!((bn.weight, bn.bias), (start.weight, start.bias));

        bn.forward_train(&x2, &mut y, &mut tape, &mut TrainCx::none());
        bn.update_buffers(&tape);
        assert_eq!(bn.num_batches_tracked, 2);
        let s2 = row_stats(&x2);
        for i in 0..3 {
            rm[i] = 0.9 * rm[i] + 0.1 * s2[i].0;
            rv[i] = 0.9 * rv[i] + 0.1 * s2[i].2;
            assert!(
                (bn.running_mean[i] - rm[i]).abs() < 1e-15,
                "step 2 mean {i}"
            );
            assert!((bn.running_var[i] - rv[i]).abs() < 1e-15, "step 2 var {i}");
        }
    }

    #[test]
    fn custom_momentum_and_eps() {
        type Custom = BatchNorm<f64, 3, { f64::to_bits(1e-2) }, { f64::to_bits(0.5) }>;
        let mut bn = Custom::new();
        let x: SMatrix<f64, 3, 3> = input(43);
        let (mut y, mut tape) = (SMatrix::zeros(), BatchNormTape::zeroed());
        bn.forward_train(&x, &mut y, &mut tape, &mut TrainCx::none());
        let s = row_stats(&x);
        for i in 0..3 {
            let want = (x[(i, 0)] - s[i].0) / (s[i].1 + 1e-2).sqrt();
            assert!((y[(i, 0)] - want).abs() < 1e-14);
        }
        bn.update_buffers(&tape);
        for (i, (mean, _, unbiased)) in s.iter().enumerate() {
            assert!((bn.running_mean[i] - 0.5 * mean).abs() < 1e-15);
            assert!((bn.running_var[i] - (0.5 + 0.5 * unbiased)).abs() < 1e-15);
        }
    }

    #[test]
    fn evaluation_uses_running_statistics() {
        let bn = layer();
        let x: SMatrix<f64, 3, 1> = input(44);
        let mut y = SMatrix::zeros();
        // Evaluation works at batch 1: it reads only the running statistics.
        bn.forward(&x, &mut y);
        for i in 0..3 {
            let want = (x[i] - bn.running_mean[i]) / (bn.running_var[i] + 1e-5).sqrt()
                * bn.weight[i]
                + bn.bias[i];
            assert!((y[i] - want).abs() < 1e-14);
        }
        let mut z = x;
        bn.forward_inplace(&mut z);
        assert_eq!(z, y);
        let xb: SMatrix<f64, 3, 6> = input(45);
        let (mut yb, mut zb) = (SMatrix::zeros(), xb);
        bn.forward(&xb, &mut yb);
        bn.forward_inplace(&mut zb);
        assert_eq!(yb, zb);
    }

    #[test]
    fn f32_forward() {
        let b64 = layer();
        let mut b32 = BatchNorm::<f32, 3>::zeros();
        b32.weight = b64.weight.cast();
        b32.bias = b64.bias.cast();
        b32.running_mean = b64.running_mean.cast();
        b32.running_var = b64.running_var.cast();
        let x64: SMatrix<f64, 3, 8> = input(46);
        let x32: SMatrix<f32, 3, 8> = x64.cast();
        let (mut y64, mut y32) = (SMatrix::zeros(), SMatrix::<f32, 3, 8>::zeros());
        let (mut t64, mut t32) = (BatchNormTape::zeroed(), BatchNormTape::zeroed());
        b64.forward_train(&x64, &mut y64, &mut t64, &mut TrainCx::none());
        b32.forward_train(&x32, &mut y32, &mut t32, &mut TrainCx::none());
        assert!((y32.cast::<f64>() - y64).abs().max() < 1e-5);
        b64.forward(&x64, &mut y64);
        b32.forward(&x32, &mut y32);
        assert!((y32.cast::<f64>() - y64).abs().max() < 1e-5);
        let (mut u64_, mut u32_) = (b64, b32);
        u64_.update_buffers(&t64);
        u32_.update_buffers(&t32);
        assert!(
            (u32_.running_var.cast::<f64>() - u64_.running_var)
                .abs()
                .max()
                < 1e-5
        );
        assert_eq!(u32_.num_batches_tracked, 1);
    }
}
