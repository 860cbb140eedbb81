//! Loss functions, with PyTorch's default reductions.
//!
//! Outputs and targets have the same fixed-size type `SMatrix<T, R, C>`: one column a
//! sample, so `C` is the batch size. Targets of [`CrossEntropy`] are one-hot (or any
//! probability) columns: [`one_hot`] builds them from class indices.
//!
//! | loss | value | reduction |
//! |---|---|---|
//! | [`Mse`] | `(o - y)²` | mean over all elements (`nn.MSELoss`) |
//! | [`Mae`] | `|o - y|` | mean over all elements (`nn.L1Loss`) |
//! | [`BinaryCrossEntropy`] | `-(y ln p + (1-y) ln(1-p))`, logs clamped at -100 | mean over all elements (`nn.BCELoss`) |
//! | [`CrossEntropy`] | `-Σ_classes y ln p` | mean over the batch |
//!
//! A network ending in `softmax` trained with [`CrossEntropy`] uses the fused gradient
//! `(p - y) / C` on the logits and computes the loss from the logits
//! (`logsumexp(z) - y·z`), exactly PyTorch's `nn.CrossEntropyLoss` on the logits; one
//! ending in `sigmoid` with [`BinaryCrossEntropy`] likewise matches
//! `nn.BCEWithLogitsLoss`. Both stay finite when probabilities underflow.

use crate::scalar::Scalar;
use nalgebra::{SMatrix, SVector};

/// A loss function over a batch.
pub trait Loss<T: Scalar> {
    /// The loss of `output` against `target`.
    fn loss<const R: usize, const C: usize>(
        &self,
        output: &SMatrix<T, R, C>,
        target: &SMatrix<T, R, C>,
    ) -> T;

    /// Writes dLoss/dOutput into `grad`.
    fn gradient<const R: usize, const C: usize>(
        &self,
        output: &SMatrix<T, R, C>,
        target: &SMatrix<T, R, C>,
        grad: &mut SMatrix<T, R, C>,
    );

    /// Whether the targets are classes (one-hot or 0/1), so that accuracy means
    /// something: true for the cross-entropies.
    fn is_classification(&self) -> bool {
        false
    }

    /// For a network whose last layer is softmax: if this loss has a fused form, writes
    /// dLoss/dLogits into `grad_logits` and returns the loss computed from the logits.
    fn fused_softmax<const R: usize, const C: usize>(
        &self,
        logits: &SMatrix<T, R, C>,
        probs: &SMatrix<T, R, C>,
        target: &SMatrix<T, R, C>,
        grad_logits: &mut SMatrix<T, R, C>,
    ) -> Option<T> {
        let _ = (logits, probs, target, grad_logits);
        None
    }

    /// For a network whose last layer is sigmoid: the same as
    /// [`fused_softmax`](Self::fused_softmax).
    fn fused_sigmoid<const R: usize, const C: usize>(
        &self,
        logits: &SMatrix<T, R, C>,
        probs: &SMatrix<T, R, C>,
        target: &SMatrix<T, R, C>,
        grad_logits: &mut SMatrix<T, R, C>,
    ) -> Option<T> {
        let _ = (logits, probs, target, grad_logits);
        None
    }
}

#[inline(always)]
fn c<T: Scalar>(v: f64) -> T {
    <T as Scalar>::from_f64(v)
}

fn pairs<'a, T: Scalar, const R: usize, const C: usize>(
    a: &'a SMatrix<T, R, C>,
    b: &'a SMatrix<T, R, C>,
) -> impl Iterator<Item = (T, T)> + 'a {
    a.iter().copied().zip(b.iter().copied())
}

/// Mean squared error, averaged over all elements (PyTorch's `nn.MSELoss()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mse;

impl<T: Scalar> Loss<T> for Mse {
    fn loss<const R: usize, const C: usize>(
        &self,
        o: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
    ) -> T {
        let mut s = c::<T>(0.0);
        for (a, b) in pairs(o, y) {
            s += (a - b) * (a - b);
        }
        s / <T as Scalar>::from_usize(R * C)
    }
    fn gradient<const R: usize, const C: usize>(
        &self,
        o: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        g: &mut SMatrix<T, R, C>,
    ) {
        let k = c::<T>(2.0) / <T as Scalar>::from_usize(R * C);
        for (g, (a, b)) in g.iter_mut().zip(pairs(o, y)) {
            *g = k * (a - b);
        }
    }
}

/// Mean absolute error, averaged over all elements (PyTorch's `nn.L1Loss()`); its
/// gradient at `o == y` is 0, as `torch.sign` gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mae;

impl<T: Scalar> Loss<T> for Mae {
    fn loss<const R: usize, const C: usize>(
        &self,
        o: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
    ) -> T {
        let mut s = c::<T>(0.0);
        for (a, b) in pairs(o, y) {
            s += (a - b).abs();
        }
        s / <T as Scalar>::from_usize(R * C)
    }
    fn gradient<const R: usize, const C: usize>(
        &self,
        o: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        g: &mut SMatrix<T, R, C>,
    ) {
        let k = c::<T>(1.0) / <T as Scalar>::from_usize(R * C);
        for (g, (a, b)) in g.iter_mut().zip(pairs(o, y)) {
            *g = if a > b {
                k
            } else if a < b {
                -k
            } else {
                c(0.0)
            };
        }
    }
}

/// Binary cross-entropy on probabilities, averaged over all elements (PyTorch's
/// `nn.BCELoss()`: logarithms clamped at -100). After a `sigmoid` layer the network uses
/// the fused form, equal to `nn.BCEWithLogitsLoss()` on the logits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropy;

fn clamped_ln<T: Scalar>(p: T) -> T {
    let l = p.ln();
    // NaN-safe: ln(0) = -inf clamps to -100 as in PyTorch.
    if l >= c(-100.0) {
        l
    } else {
        c(-100.0)
    }
}

impl<T: Scalar> Loss<T> for BinaryCrossEntropy {
    fn is_classification(&self) -> bool {
        true
    }
    fn loss<const R: usize, const C: usize>(
        &self,
        p: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
    ) -> T {
        let one = c::<T>(1.0);
        let mut s = c::<T>(0.0);
        for (p, y) in pairs(p, y) {
            s -= y * clamped_ln(p) + (one - y) * clamped_ln(one - p);
        }
        s / <T as Scalar>::from_usize(R * C)
    }
    fn gradient<const R: usize, const C: usize>(
        &self,
        p: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        g: &mut SMatrix<T, R, C>,
    ) {
        // PyTorch: grad = (p - y) / max(p (1 - p), 1e-12) / N.
        let one = c::<T>(1.0);
        let n = <T as Scalar>::from_usize(R * C);
        let eps = c::<T>(1e-12);
        for (g, (p, y)) in g.iter_mut().zip(pairs(p, y)) {
            let d = p * (one - p);
            let d = if d > eps { d } else { eps };
            *g = (p - y) / d / n;
        }
    }
    fn fused_sigmoid<const R: usize, const C: usize>(
        &self,
        z: &SMatrix<T, R, C>,
        p: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        gz: &mut SMatrix<T, R, C>,
    ) -> Option<T> {
        let n = <T as Scalar>::from_usize(R * C);
        let mut s = c::<T>(0.0);
        for (z, y) in pairs(z, y) {
            // max(z, 0) - z y + ln(1 + e^-|z|)
            let m = if z > c(0.0) { z } else { c(0.0) };
            s += m - z * y + (-z.abs()).exp().ln_1p();
        }
        for (g, (p, y)) in gz.iter_mut().zip(pairs(p, y)) {
            *g = (p - y) / n;
        }
        Some(s / n)
    }
}

/// Categorical cross-entropy `-Σ y ln p` on probabilities, averaged over the batch
/// (columns). After a `softmax` layer the network uses the fused form, equal to PyTorch's
/// `nn.CrossEntropyLoss()` on the logits with probability targets.
///
/// Without the fused form, `ln p` is clamped at -100 (as `nn.BCELoss` clamps it) and the
/// gradient `-y / p` divides by `p` bounded below by `max(e^-100, T::MIN_POSITIVE)`: a
/// probability of 0 gives a loss of 100 and a finite gradient in `f32` (where `e^-100` is
/// subnormal) as in `f64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossEntropy;

impl<T: Scalar> Loss<T> for CrossEntropy {
    fn is_classification(&self) -> bool {
        true
    }
    fn loss<const R: usize, const C: usize>(
        &self,
        p: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
    ) -> T {
        let mut s = c::<T>(0.0);
        for (p, y) in pairs(p, y) {
            if y != c(0.0) {
                s -= y * clamped_ln(p);
            }
        }
        s / <T as Scalar>::from_usize(C)
    }
    fn gradient<const R: usize, const C: usize>(
        &self,
        p: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        g: &mut SMatrix<T, R, C>,
    ) {
        let n = <T as Scalar>::from_usize(C);
        // PyTorch's bound e^-100 (the loss's clamp), raised to the smallest normal value
        // of `T`: e^-100 is subnormal in f32, and `1 / e^-100` overflows it.
        let tiny = c::<T>((-100.0f64).exp().max(T::MIN_POSITIVE.to_f64()));
        for (g, (p, y)) in g.iter_mut().zip(pairs(p, y)) {
            *g = if y == c(0.0) {
                c(0.0)
            } else {
                -y / (if p > tiny { p } else { tiny }) / n
            };
        }
    }
    fn fused_softmax<const R: usize, const C: usize>(
        &self,
        z: &SMatrix<T, R, C>,
        p: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        gz: &mut SMatrix<T, R, C>,
    ) -> Option<T> {
        let n = <T as Scalar>::from_usize(C);
        let mut total = c::<T>(0.0);
        if R == 0 {
            return Some(total);
        }
        let cols = z
            .as_slice()
            .chunks_exact(R)
            .zip(p.as_slice().chunks_exact(R))
            .zip(y.as_slice().chunks_exact(R))
            .zip(gz.as_mut_slice().chunks_exact_mut(R));
        for (((z, p), y), g) in cols {
            let mut m = z[0];
            for &v in z {
                if v > m {
                    m = v;
                }
            }
            let mut se = c::<T>(0.0);
            for &v in z {
                se += (v - m).exp();
            }
            let lse = m + se.ln();
            let mut ysum = c::<T>(0.0);
            for (&z, &y) in z.iter().zip(y) {
                total += y * (lse - z);
                ysum += y;
            }
            for ((g, &p), &y) in g.iter_mut().zip(p).zip(y) {
                *g = (ysum * p - y) / n;
            }
        }
        Some(total / n)
    }
}

/// A class index that is not below the number of classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("class index {class} is out of range for {classes} classes")]
pub struct ClassOutOfRange {
    /// The index given.
    pub class: usize,
    /// The number of classes.
    pub classes: usize,
}

/// The one-hot column for class `class` of `N`.
///
/// ```
/// let y = nn_runtime::loss::one_hot::<f32, 3>(1).unwrap();
/// assert_eq!(y.as_slice(), &[0.0, 1.0, 0.0]);
/// assert!(nn_runtime::loss::one_hot::<f32, 3>(3).is_err());
/// ```
pub fn one_hot<T: Scalar, const N: usize>(class: usize) -> Result<SVector<T, N>, ClassOutOfRange> {
    if class >= N {
        return Err(ClassOutOfRange { class, classes: N });
    }
    let mut v = SVector::<T, N>::zeros();
    v[class] = c(1.0);
    Ok(v)
}

/// One-hot columns for a batch of class indices.
pub fn one_hot_batch<T: Scalar, const N: usize, const B: usize>(
    classes: &[usize; B],
) -> Result<SMatrix<T, N, B>, ClassOutOfRange> {
    let mut m = SMatrix::<T, N, B>::zeros();
    for (j, &class) in classes.iter().enumerate() {
        if class >= N {
            return Err(ClassOutOfRange { class, classes: N });
        }
        m[(class, j)] = c(1.0);
    }
    Ok(m)
}

/// The index of the largest element (the first on ties; 0 for an empty vector): the
/// predicted class of a classifier's output column.
pub fn argmax<T: Scalar>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::SMatrix;

    /// Cross-entropy on probabilities where the true class has probability 0 (a
    /// sigmoid-ended network at logit -120, whose output underflows to 0 in both types):
    /// the loss is the clamp's 100 and the gradient finite, in `T`.
    fn zero_probability_is_finite<T: Scalar>() {
        let p = SMatrix::<T, 2, 1>::new(c(0.0), c(1.0));
        let y = SMatrix::<T, 2, 1>::new(c(1.0), c(0.0));
        assert_eq!(CrossEntropy.loss(&p, &y).to_f64(), 100.0);
        let mut g = SMatrix::<T, 2, 1>::zeros();
        CrossEntropy.gradient(&p, &y, &mut g);
        assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
        assert!(g[0].to_f64() < -1e30, "{g:?}");
        assert_eq!(g[1].to_f64(), 0.0);
    }

    #[test]
    fn cross_entropy_of_a_zero_probability_f32() {
        zero_probability_is_finite::<f32>();
    }

    #[test]
    fn cross_entropy_of_a_zero_probability_f64() {
        zero_probability_is_finite::<f64>();
    }

    #[test]
    fn cross_entropy_after_sigmoid_at_logit_minus_120() {
        crate::network! { struct Sig { input: 1, dense(1), sigmoid } }
        fn check<T: Scalar>() {
            let mut net = Sig::<T>::zeros();
            net.layer0.bias[0] = c(-120.0);
            let x = SMatrix::<T, 1, 1>::new(c(0.0));
            let y = SMatrix::<T, 1, 1>::new(c(1.0));
            let (loss, grads) = net.loss_and_gradients(&x, &y, &CrossEntropy);
            assert!(loss.is_finite(), "{loss}");
            assert!(crate::params::Parameters::is_finite(&grads), "{grads:?}");
        }
        check::<f32>();
        check::<f64>();
    }
}
