//! Activation functions: forward in place and backward, element-wise over slices, plus
//! the column-wise [`softmax`](softmax_forward) and the learnable [`prelu`](prelu_forward).
//!
//! Derivatives at the kinks follow PyTorch: ReLU's is 0 at 0, leaky ReLU's and PReLU's
//! is the slope at 0, the step function's is 0 everywhere.

use crate::scalar::Scalar;
use nalgebra::SMatrix;

/// An element-wise activation function.
pub trait Activation<T: Scalar> {
    /// Replaces every `x` by `f(x)`.
    fn forward_inplace(&self, x: &mut [T]);
    /// Writes `d_input = f'(input) * d_output`, given the `input` and `output` of the
    /// forward pass.
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]);
    /// The vectorised element function equal to [`forward_inplace`](Self::forward_inplace),
    /// if there is one: a kernel may then apply it in the same pass as the product before
    /// it. Not part of the stable API.
    #[doc(hidden)]
    fn __vmath(&self) -> Option<crate::kernels::vmath::Fun> {
        None
    }
}

#[inline(always)]
fn c<T: Scalar>(v: f64) -> T {
    <T as Scalar>::from_f64(v)
}

/// The numerically stable logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid<T: Scalar>(x: T) -> T {
    let one = c::<T>(1.0);
    if x >= c(0.0) {
        one / (one + (-x).exp())
    } else {
        let e = x.exp();
        e / (one + e)
    }
}

macro_rules! zip_backward {
    ($input:ident, $output:ident, $d_output:ident, $d_input:ident, |$x:ident, $y:ident| $e:expr) => {
        for (((di, &$x), &$y), &dy) in $d_input.iter_mut().zip($input).zip($output).zip($d_output) {
            let _ = (&$x, &$y);
            *di = dy * ($e);
        }
    };
}

/// `f(x) = x`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Identity;
impl<T: Scalar> Activation<T> for Identity {
    fn forward_inplace(&self, _x: &mut [T]) {}
    fn backward(&self, _i: &[T], _o: &[T], d_output: &[T], d_input: &mut [T]) {
        d_input.copy_from_slice(d_output);
    }
}

/// The Heaviside step: `1` for `x > 0`, else `0`. Its derivative is 0 everywhere, so it
/// is trained with the perceptron rule, not with back-propagation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Step;
impl<T: Scalar> Activation<T> for Step {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            *v = if *v > c(0.0) { c(1.0) } else { c(0.0) };
        }
    }
    fn backward(&self, _i: &[T], _o: &[T], _d: &[T], d_input: &mut [T]) {
        d_input.fill(c(0.0));
    }
}

/// The logistic sigmoid `1 / (1 + e^-x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;
impl<T: Scalar> Activation<T> for Sigmoid {
    fn forward_inplace(&self, x: &mut [T]) {
        // Vectorised; within a few ulp of `sigmoid` (see `kernels::vmath`).
        crate::kernels::vmath::sigmoid_inplace(x);
    }
    fn __vmath(&self) -> Option<crate::kernels::vmath::Fun> {
        Some(crate::kernels::vmath::Fun::Sigmoid)
    }
    /// Reads only the output (`y·(1 - y)`).
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        zip_backward!(input, output, d_output, d_input, |x, y| y
            * (c::<T>(1.0) - y));
    }
}

/// The hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;
impl<T: Scalar> Activation<T> for Tanh {
    fn forward_inplace(&self, x: &mut [T]) {
        // Vectorised; within a few ulp of `tanh` (see `kernels::vmath`).
        crate::kernels::vmath::tanh_inplace(x);
    }
    fn __vmath(&self) -> Option<crate::kernels::vmath::Fun> {
        Some(crate::kernels::vmath::Fun::Tanh)
    }
    /// Reads only the output (`1 - y²`).
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        zip_backward!(input, output, d_output, d_input, |x, y| c::<T>(1.0) - y * y);
    }
}

/// The rectified linear unit `max(0, x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Relu;
impl<T: Scalar> Activation<T> for Relu {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            *v = if *v > c(0.0) { *v } else { c(0.0) };
        }
    }
    /// Reads only the output: `y > 0` exactly when `x > 0` (a NaN input gives `y = 0`),
    /// so the layer before may skip storing its output (the generated training passes do).
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        zip_backward!(input, output, d_output, d_input, |x, y| if y > c(0.0) {
            c::<T>(1.0)
        } else {
            c::<T>(0.0)
        });
    }
}

/// Leaky ReLU: `x` for `x > 0`, else `slope * x` (PyTorch's default slope is 0.01).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu<T>(pub T);
impl<T: Scalar> Activation<T> for LeakyRelu<T> {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            if *v <= c(0.0) {
                *v *= self.0;
            }
        }
    }
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        let a = self.0;
        zip_backward!(input, output, d_output, d_input, |x, y| if x > c(0.0) {
            c::<T>(1.0)
        } else {
            a
        });
    }
}

/// The exponential linear unit: `x` for `x > 0`, else `alpha * (e^x - 1)` (default alpha 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu<T>(pub T);
impl<T: Scalar> Activation<T> for Elu<T> {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            if *v <= c(0.0) {
                *v = self.0 * v.exp_m1();
            }
        }
    }
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        let a = self.0;
        zip_backward!(input, output, d_output, d_input, |x, y| if x > c(0.0) {
            c::<T>(1.0)
        } else {
            y + a
        });
    }
}

/// The exact Gaussian error linear unit `x * Φ(x)` (PyTorch's default, `approximate='none'`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gelu;
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
fn phi_cdf(x: f64) -> f64 {
    0.5 * (1.0 + libm::erf(x * core::f64::consts::FRAC_1_SQRT_2))
}
impl<T: Scalar> Activation<T> for Gelu {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            let z = v.to_f64();
            *v = <T as Scalar>::from_f64(z * phi_cdf(z));
        }
    }
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        zip_backward!(input, output, d_output, d_input, |x, y| {
            let z = x.to_f64();
            <T as Scalar>::from_f64(phi_cdf(z) + z * FRAC_1_SQRT_2PI * (-0.5 * z * z).exp())
        });
    }
}

/// Softplus `ln(1 + e^x)`, linear above 20 as in PyTorch (`beta = 1`, `threshold = 20`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softplus;
impl<T: Scalar> Activation<T> for Softplus {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            if *v <= c(20.0) {
                *v = v.exp().ln_1p();
            }
        }
    }
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        zip_backward!(input, output, d_output, d_input, |x, y| if x > c(20.0) {
            c::<T>(1.0)
        } else {
            sigmoid(x)
        });
    }
}

/// The sigmoid linear unit (swish) `x * sigmoid(x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Silu;
impl<T: Scalar> Activation<T> for Silu {
    fn forward_inplace(&self, x: &mut [T]) {
        for v in x {
            *v *= sigmoid(*v);
        }
    }
    fn backward(&self, input: &[T], output: &[T], d_output: &[T], d_input: &mut [T]) {
        zip_backward!(input, output, d_output, d_input, |x, y| {
            let s = sigmoid(x);
            s * (c::<T>(1.0) + x * (c::<T>(1.0) - s))
        });
    }
}

/// PReLU forward in place: `x` for `x > 0`, else `slope * x`.
#[inline]
pub fn prelu_forward<T: Scalar>(slope: T, x: &mut [T]) {
    LeakyRelu(slope).forward_inplace(x)
}

/// PReLU backward: writes `d_input` and **adds** dLoss/dSlope to `d_slope`.
#[inline]
pub fn prelu_backward<T: Scalar>(
    slope: T,
    input: &[T],
    d_output: &[T],
    d_input: &mut [T],
    d_slope: &mut T,
) {
    let mut ds = c::<T>(0.0);
    for ((di, &x), &dy) in d_input.iter_mut().zip(input).zip(d_output) {
        if x > c(0.0) {
            *di = dy;
        } else {
            *di = slope * dy;
            ds += x * dy;
        }
    }
    *d_slope += ds;
}

/// Softmax over each column (each sample), in place, shifted by the column maximum so it
/// never overflows.
#[inline]
pub fn softmax_forward<T: Scalar, const R: usize, const C: usize>(x: &mut SMatrix<T, R, C>) {
    if R == 0 {
        return;
    }
    if C == 1 && R <= crate::kernels::vmath::SOFTMAX_SHORT {
        // One short column (a few classes, one sample): in one vector of the best
        // instruction set present.
        let col: &mut [T; R] = x.as_mut_slice().try_into().expect("one column of R");
        return crate::kernels::vmath::softmax_short(col);
    }
    for col in x.as_mut_slice().chunks_exact_mut(R) {
        let mut m = col[0];
        for &v in col.iter() {
            if v > m {
                m = v;
            }
        }
        for v in col.iter_mut() {
            *v -= m;
        }
    }
    // One vectorised pass over every column (see `kernels::vmath`).
    crate::kernels::vmath::exp_inplace(x.as_mut_slice());
    for col in x.as_mut_slice().chunks_exact_mut(R) {
        let mut s = c::<T>(0.0);
        for &v in col.iter() {
            s += v;
        }
        let inv = c::<T>(1.0) / s;
        for v in col.iter_mut() {
            *v *= inv;
        }
    }
}

/// Softmax backward given the output `p`: `dz = p ⊙ (dp - Σ p ⊙ dp)` per column.
pub fn softmax_backward<T: Scalar, const R: usize, const C: usize>(
    p: &SMatrix<T, R, C>,
    d_output: &SMatrix<T, R, C>,
    d_input: &mut SMatrix<T, R, C>,
) {
    if R == 0 {
        return;
    }
    let cols = p
        .as_slice()
        .chunks_exact(R)
        .zip(d_output.as_slice().chunks_exact(R))
        .zip(d_input.as_mut_slice().chunks_exact_mut(R));
    for ((p, dp), dz) in cols {
        let mut dot = c::<T>(0.0);
        for (&a, &b) in p.iter().zip(dp) {
            dot += a * b;
        }
        for ((z, &a), &b) in dz.iter_mut().zip(p).zip(dp) {
            *z = a * (b - dot);
        }
    }
}
