//! [`LayerNorm`]: normalisation of each sample over its own features (`layer_norm`),
//! exactly PyTorch's `nn.LayerNorm(N)` with its default `elementwise_affine=True`.
//!
//! Unlike batch normalisation, the statistics are per sample, so training and evaluation
//! compute the same thing and samples do not interact.

use super::batch_norm::DEFAULT_EPS;
use super::{InPlace, InputGrad, Layer, TrainCx, Zeroed};
use crate::scalar::Scalar;
use nalgebra::{SMatrix, SVector};

/// Layer normalisation of `N` features (`layer_norm`), PyTorch's `nn.LayerNorm(N)` with
/// an element-wise affine weight and bias.
///
/// `EPS` is the bits of an `f64` (`f64::to_bits`, default `1e-5`), read back as
/// [`EPS_F64`](Self::EPS_F64). For each sample, with `μ` the mean and `σ²` the biased
/// variance of its `N` features: `y = γ (x - μ) / sqrt(σ² + eps) + β`.
///
/// ```
/// use nn_runtime::layer::{Layer, LayerNorm};
/// use nn_runtime::SMatrix;
///
/// let ln = LayerNorm::<f64, 3>::new();
/// let x = SMatrix::<f64, 3, 2>::new(1.0, 5.0, 2.0, 6.0, 3.0, 7.0);
/// let mut y = SMatrix::zeros();
/// ln.forward(&x, &mut y);
/// // Each sample (column) now has mean 0 over its features.
/// assert!(y.column(0).sum().abs() < 1e-12 && y.column(1).sum().abs() < 1e-12);
/// assert_eq!(y.column(0), y.column(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm<T: Scalar, const N: usize, const EPS: u64 = { DEFAULT_EPS }> {
    /// The scale γ, PyTorch's `LayerNorm.weight` of shape `[N]` (initially 1).
    pub weight: SVector<T, N>,
    /// The shift β, PyTorch's `LayerNorm.bias` of shape `[N]` (initially 0).
    pub bias: SVector<T, N>,
}

/// What [`LayerNorm`]'s training forward pass records: each sample's statistics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormTape<T: Scalar, const B: usize> {
    /// Each sample's mean μ.
    pub mean: SVector<T, B>,
    /// Each sample's `1 / sqrt(σ² + eps)`.
    pub inv_std: SVector<T, B>,
}

impl<T: Scalar, const B: usize> Zeroed for LayerNormTape<T, B> {
    fn zeroed() -> Self {
        Self {
            mean: SVector::zeros(),
            inv_std: SVector::zeros(),
        }
    }
}

impl<T: Scalar, const N: usize, const EPS: u64> LayerNorm<T, N, EPS> {
    /// `eps`, read from the `EPS` bits.
    pub const EPS_F64: f64 = f64::from_bits(EPS);
    /// Evaluates (and so, when named in a `const`, checks at compile time) that `eps` is
    /// finite and `>= 0`. Every pass evaluates it.
    pub const HYPERPARAMETERS_VALID: () = assert!(
        Self::EPS_F64 >= 0.0 && Self::EPS_F64.is_finite(),
        "layer_norm: eps must be finite and >= 0"
    );

    /// PyTorch's initial values: `weight` 1, `bias` 0.
    pub fn new() -> Self {
        Self {
            weight: SVector::from_element(<T as Scalar>::from_f64(1.0)),
            bias: SVector::zeros(),
        }
    }

    /// Every tensor zero (as in zeroed gradients).
    pub fn zeros() -> Self {
        Self {
            weight: SVector::zeros(),
            bias: SVector::zeros(),
        }
    }

    /// The mean and `1 / sqrt(σ² + eps)` of one sample's features (two passes).
    #[inline]
    fn statistics(x: &[T]) -> (T, T) {
        let () = Self::HYPERPARAMETERS_VALID;
        let inv_n = <T as Scalar>::from_f64(1.0 / N as f64);
        let mut mean = <T as Scalar>::from_f64(0.0);
        for &v in x {
            mean += v;
        }
        mean *= inv_n;
        let mut var = <T as Scalar>::from_f64(0.0);
        for &v in x {
            let d = v - mean;
            var += d * d;
        }
        var *= inv_n;
        let eps = <T as Scalar>::from_f64(Self::EPS_F64);
        (mean, <T as Scalar>::from_f64(1.0) / (var + eps).sqrt())
    }

    /// Normalises one sample `x` into `y` and returns its mean and `1 / sqrt(σ² + eps)`.
    #[inline]
    fn normalise_column(&self, x: &[T], y: &mut [T]) -> (T, T) {
        let (mean, inv_std) = Self::statistics(x);
        for i in 0..N {
            y[i] = (x[i] - mean) * inv_std * self.weight[i] + self.bias[i];
        }
        (mean, inv_std)
    }

    /// Writes dLoss/dx as `dx` asks (with the current γ) and returns `(Σ dy, Σ dy·x̂)` over
    /// the batch (dLoss/dβ and dLoss/dγ). Per sample, with `g = γ ⊙ dy`:
    /// `dx = inv_std · (g − Σg / N − x̂ · Σ(g·x̂) / N)`.
    #[inline]
    fn backward_parts<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        tape: &LayerNormTape<T, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
    ) -> (SVector<T, N>, SVector<T, N>) {
        let zero = <T as Scalar>::from_f64(0.0);
        let inv_n = <T as Scalar>::from_f64(1.0 / N as f64);
        let (mut out, gated) = match dx {
            InputGrad::Skip => (None, false),
            InputGrad::Write(dx) => (Some(dx), false),
            InputGrad::WriteReluGated(dx) => (Some(dx), true),
        };
        let mut sum_dy = SVector::<T, N>::zeros();
        let mut sum_dy_xhat = SVector::<T, N>::zeros();
        for j in 0..B {
            let (mean, inv_std) = (tape.mean[j], tape.inv_std[j]);
            let (xc, dyc) = (x.column(j), dy.column(j));
            let (mut sum_g, mut sum_g_xhat) = (zero, zero);
            for i in 0..N {
                let xhat = (xc[i] - mean) * inv_std;
                sum_dy[i] += dyc[i];
                sum_dy_xhat[i] += dyc[i] * xhat;
                let g = dyc[i] * self.weight[i];
                sum_g += g;
                sum_g_xhat += g * xhat;
            }
            if let Some(out) = out.as_deref_mut() {
                let (mean_g, mean_g_xhat) = (sum_g * inv_n, sum_g_xhat * inv_n);
                let mut dxc = out.column_mut(j);
                for i in 0..N {
                    dxc[i] = if gated && xc[i] <= zero {
                        zero
                    } else {
                        let xhat = (xc[i] - mean) * inv_std;
                        inv_std * (dyc[i] * self.weight[i] - mean_g - xhat * mean_g_xhat)
                    };
                }
            }
        }
        (sum_dy, sum_dy_xhat)
    }
}

impl<T: Scalar, const N: usize, const EPS: u64> Default for LayerNorm<T, N, EPS> {
    /// [`LayerNorm::new`]: PyTorch's initial values.
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const N: usize, const EPS: u64> Layer<T, N, N> for LayerNorm<T, N, EPS> {
    type Grads = Self;
    type Tape<const B: usize> = LayerNormTape<T, B>;

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        for (xc, mut yc) in x.column_iter().zip(y.column_iter_mut()) {
            self.normalise_column(xc.as_slice(), yc.as_mut_slice());
        }
    }

    #[inline]
    fn forward_train<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        tape: &mut LayerNormTape<T, B>,
        _cx: &mut TrainCx<'_>,
    ) {
        for (j, (xc, mut yc)) in x.column_iter().zip(y.column_iter_mut()).enumerate() {
            let (mean, inv_std) = self.normalise_column(xc.as_slice(), yc.as_mut_slice());
            tape.mean[j] = mean;
            tape.inv_std[j] = inv_std;
        }
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        tape: &LayerNormTape<T, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        grads: &mut Self,
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
        tape: &LayerNormTape<T, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        alpha: T,
    ) {
        let (d_bias, d_weight) = self.backward_parts(x, tape, dy, dx);
        self.weight += d_weight * alpha;
        self.bias += d_bias * alpha;
    }
}

impl<T: Scalar, const N: usize, const EPS: u64> InPlace<T, N> for LayerNorm<T, N, EPS> {
    #[inline]
    fn forward_inplace<const B: usize>(&self, x: &mut SMatrix<T, N, B>) {
        for mut c in x.column_iter_mut() {
            let (mean, inv_std) = Self::statistics(c.as_slice());
            for i in 0..N {
                c[i] = (c[i] - mean) * inv_std * self.weight[i] + self.bias[i];
            }
        }
    }
}

impl<T: Scalar, const N: usize, const EPS: u64> super::Init<T> for LayerNorm<T, N, EPS> {
    /// PyTorch's initial values (scale 1, shift 0); draws nothing.
    fn init<R: rand::Rng + ?Sized>(&mut self, _rng: &mut R, _scheme: crate::init::Scheme) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, input, ParamAccess};
    use super::*;
    use rand::{RngExt, SeedableRng};

    type Ln = LayerNorm<f64, 4>;

    fn params() -> ParamAccess<Ln, Ln> {
        ParamAccess {
            count: 8,
            get: |l, k| {
                if k < 4 {
                    &mut l.weight[k]
                } else {
                    &mut l.bias[k - 4]
                }
            },
            grad: |g, k| if k < 4 { g.weight[k] } else { g.bias[k - 4] },
        }
    }

    fn layer() -> Ln {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
        let mut ln = Ln::new();
        ln.weight = SVector::from_fn(|_, _| rng.random_range(0.5..1.5));
        ln.bias = SVector::from_fn(|_, _| rng.random_range(-1.0..1.0));
        ln
    }

    #[test]
    fn gradients_match_finite_differences() {
        let err = check::<_, 4, 4, 3>(&layer(), &input(51), params(), Ln::zeros);
        eprintln!("layer_norm: max relative error vs finite differences {err:e}");
        let err = check::<_, 4, 4, 1>(&layer(), &input(52), params(), Ln::zeros);
        eprintln!("layer_norm (B = 1): max relative error vs finite differences {err:e}");
        let wide = LayerNorm::<f64, 9, { f64::to_bits(1e-3) }>::new();
        let access = ParamAccess {
            count: 18,
            get: |l: &mut LayerNorm<f64, 9, { f64::to_bits(1e-3) }>, k| {
                if k < 9 {
                    &mut l.weight[k]
                } else {
                    &mut l.bias[k - 9]
                }
            },
            grad: |g: &LayerNorm<f64, 9, { f64::to_bits(1e-3) }>, k| {
                if k < 9 {
                    g.weight[k]
                } else {
                    g.bias[k - 9]
                }
            },
        };
        let err = check::<_, 9, 9, 4>(&wide, &input(53), access, LayerNorm::zeros);
        eprintln!("layer_norm (N = 9, eps 1e-3): max relative error vs finite differences {err:e}");
    }

    #[test]
    fn forward_normalises_each_sample() {
        let ln = layer();
        let x: SMatrix<f64, 4, 5> = input(54);
        let (mut y, mut yt) = (SMatrix::zeros(), SMatrix::zeros());
        ln.forward(&x, &mut y);
        let mut tape = LayerNormTape::zeroed();
        ln.forward_train(&x, &mut yt, &mut tape, &mut TrainCx::none());
        // Training and evaluation are the same function.
        assert_eq!(y, yt);
        for j in 0..5 {
            let c: Vec<f64> = (0..4).map(|i| x[(i, j)]).collect();
            let mean = c.iter().sum::<f64>() / 4.0;
            let var = c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 4.0;
            assert!((tape.mean[j] - mean).abs() < 1e-15);
            for i in 0..4 {
                let want = (c[i] - mean) / (var + 1e-5).sqrt() * ln.weight[i] + ln.bias[i];
                assert!((y[(i, j)] - want).abs() < 1e-14, "y[{i},{j}]");
            }
        }
        let mut z = x;
        ln.forward_inplace(&mut z);
        assert_eq!(z, y);
    }

    #[test]
    fn new_and_zeros() {
        assert_eq!(Ln::new().weight, SVector::<f64, 4>::from_element(1.0));
        assert_eq!(Ln::new().bias, SVector::<f64, 4>::zeros());
        assert_eq!(Ln::default(), Ln::new());
        assert_eq!(Ln::zeros().weight, SVector::<f64, 4>::zeros());
        assert_eq!(Ln::EPS_F64, 1e-5);
        assert_eq!(LayerNorm::<f32, 2, { f64::to_bits(0.5) }>::EPS_F64, 0.5);
    }

    #[test]
    fn f32_forward() {
        let l64 = layer();
        let l32 = LayerNorm::<f32, 4> {
            weight: l64.weight.cast(),
            bias: l64.bias.cast(),
        };
        let x64: SMatrix<f64, 4, 6> = input(55);
        let x32: SMatrix<f32, 4, 6> = x64.cast();
        let (mut y64, mut y32) = (SMatrix::zeros(), SMatrix::<f32, 4, 6>::zeros());
        l64.forward(&x64, &mut y64);
        l32.forward(&x32, &mut y32);
        assert!((y32.cast::<f64>() - y64).abs().max() < 1e-5);
    }
}
