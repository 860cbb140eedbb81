//! [`Dropout`]: inverted dropout (`dropout(p)`), PyTorch's `nn.Dropout(p)`.
//!
//! Training mode zeroes each element with probability `p` and scales the kept ones by
//! `1 / (1 - p)`, so that the expectation of every output is its input; evaluation mode is
//! the identity.

use super::{InPlace, InputGrad, Layer, NoGrads, TrainCx};
use crate::scalar::Scalar;
use nalgebra::SMatrix;
use rand::distr::{Bernoulli, Distribution};

/// Inverted dropout with drop probability `p`, `0 <= p < 1` (`dropout(p)`), PyTorch's
/// `nn.Dropout(p)`.
///
/// - **Training** ([`forward_train`](Layer::forward_train)): each element is kept with
///   probability `1 - p` and scaled by `1 / (1 - p)`, or zeroed; the mask, holding `0` or
///   `1 / (1 - p)` per element, is recorded in the tape and the backward pass multiplies
///   the output gradient by it. The draws come from [`TrainCx::rng`], one Bernoulli draw per
///   element, column by column (sample by sample), so that the same generator state gives
///   the same mask. Generated code always passes a generator to the training passes of a
///   network with dropout, so a context without one is a broken invariant: the training
///   forward pass panics. With `p == 0` it is exactly the identity, draws nothing and needs
///   no generator.
/// - **Evaluation** ([`forward`](Layer::forward), [`forward_inplace`](InPlace::forward_inplace)):
///   the identity.
///
/// No parameters: its gradients are [`NoGrads`].
///
/// ```
/// use nn_runtime::layer::{Dropout, Layer, TrainCx};
/// use nn_runtime::rand::SeedableRng;
/// use nn_runtime::SMatrix;
///
/// let drop = Dropout::<f64>::new(0.5);
/// let x = SMatrix::<f64, 4, 2>::from_element(1.0);
/// let mut y = SMatrix::zeros();
/// let mut mask = SMatrix::zeros();
/// let mut rng = nn_runtime::rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// drop.forward_train(&x, &mut y, &mut mask, &mut TrainCx { rng: Some(&mut rng) });
/// // Every output is 0 or 2 (kept and scaled by 1 / (1 - 0.5)).
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// // Evaluation is the identity.
/// drop.forward(&x, &mut y);
/// assert_eq!(y, x);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout<T: Scalar> {
    p: T,
}

impl<T: Scalar> Dropout<T> {
    /// Dropout with drop probability `p`.
    ///
    /// # Panics
    /// Unless `0 <= p < 1` (`network!` checks it at compile time).
    pub fn new(p: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "dropout: the drop probability must be in [0, 1), got {p}"
        );
        Self {
            p: <T as Scalar>::from_f64(p),
        }
    }

    /// The drop probability `p`.
    pub fn p(&self) -> T {
        self.p
    }
}

impl<T: Scalar, const N: usize> Layer<T, N, N> for Dropout<T> {
    type Grads = NoGrads;
    /// The mask: `0` (dropped) or `1 / (1 - p)` (kept) per element.
    type Tape<const B: usize> = SMatrix<T, N, B>;

    /// Evaluation mode: the identity.
    #[inline(always)]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        y.copy_from(x);
    }

    /// Training mode: draws the mask from `cx.rng` (unless `p == 0`) and applies it.
    ///
    /// # Panics
    /// If `p > 0` and `cx` holds no generator.
    #[inline]
    fn forward_train<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        mask: &mut SMatrix<T, N, B>,
        cx: &mut TrainCx<'_>,
    ) {
        let p = self.p.to_f64();
        if p == 0.0 {
            mask.fill(<T as Scalar>::from_f64(1.0));
            y.copy_from(x);
            return;
        }
        let rng = cx.rng.as_deref_mut().expect(
            "dropout: the training forward pass needs a random generator in `TrainCx::rng` \
             (generated code always passes one to a network with dropout)",
        );
        // `p` as stored, so that an f32 layer keeps with probability 1 - (p as f32).
        let keep = Bernoulli::new(1.0 - p).expect("0 < 1 - p <= 1");
        let scale = <T as Scalar>::from_f64(1.0 / (1.0 - p));
        let zero = <T as Scalar>::from_f64(0.0);
        for m in mask.iter_mut() {
            *m = if keep.sample(rng) { scale } else { zero };
        }
        for ((yv, &xv), &m) in y.iter_mut().zip(x.iter()).zip(mask.iter()) {
            *yv = xv * m;
        }
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        mask: &SMatrix<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        _grads: &mut NoGrads,
        _accumulate: bool,
    ) {
        let zero = <T as Scalar>::from_f64(0.0);
        match dx {
            InputGrad::Skip => {}
            InputGrad::Write(dx) => {
                // Element by element: no N x B temporary on the stack.
                for ((d, &g), &m) in dx.iter_mut().zip(dy.iter()).zip(mask.iter()) {
                    *d = g * m;
                }
            }
            InputGrad::WriteReluGated(dx) => {
                for (((d, &g), &m), &xv) in
                    dx.iter_mut().zip(dy.iter()).zip(mask.iter()).zip(x.iter())
                {
                    *d = if xv > zero { g * m } else { zero };
                }
            }
        }
    }

    #[inline]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, N, B>,
        y: &SMatrix<T, N, B>,
        mask: &SMatrix<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        _alpha: T,
    ) {
        Layer::<T, N, N>::backward(self, x, y, mask, dy, dx, &mut NoGrads, true)
    }
}

impl<T: Scalar, const N: usize> InPlace<T, N> for Dropout<T> {
    /// Evaluation mode: the identity, so nothing to do.
    #[inline(always)]
    fn forward_inplace<const B: usize>(&self, _x: &mut SMatrix<T, N, B>) {}
}

/// The random stream a network with dropout draws its masks from: the seed drawn when the
/// network was initialised and the number of training steps taken. Step `k`'s masks come
/// from a ChaCha8 generator on stream `k` of the seed, so a run is reproducible from its
/// seeds alone, and two passes of the same step (a gradient check) draw the same masks.
///
/// All-zero bits are a valid stream (seed 0, step 0), as a network's heap constructors
/// need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropoutStream {
    /// The seed.
    pub seed: u64,
    /// Training steps taken.
    pub step: u64,
}

impl DropoutStream {
    /// A stream at step 0.
    pub fn new(seed: u64) -> Self {
        DropoutStream { seed, step: 0 }
    }

    /// The generator of the current step.
    pub fn rng(&self) -> rand_chacha::ChaCha8Rng {
        let mut g = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(self.seed);
        g.set_stream(self.step);
        g
    }

    /// Moves to the next step.
    pub fn advance(&mut self) {
        self.step = self.step.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check_seeded, input, no_params};
    use super::super::Zeroed;
    use super::*;
    use rand::SeedableRng;

    fn train<const N: usize, const B: usize>(
        d: &Dropout<f64>,
        x: &SMatrix<f64, N, B>,
        seed: u64,
    ) -> (SMatrix<f64, N, B>, SMatrix<f64, N, B>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (mut y, mut mask) = (SMatrix::zeros(), SMatrix::zeros());
        d.forward_train(
            x,
            &mut y,
            &mut mask,
            &mut TrainCx {
                rng: Some(&mut rng),
            },
        );
        (y, mask)
    }

    #[test]
    fn gradients_match_finite_differences_with_a_fixed_mask() {
        for p in [0.0, 0.3, 0.5] {
            let d = Dropout::<f64>::new(p);
            let err = check_seeded::<_, 6, 6, 4>(&d, &input(61), no_params(), || NoGrads, Some(5));
            eprintln!("dropout(p = {p}): max relative error vs finite differences {err:e}");
        }
    }

    #[test]
    fn p_zero_is_exactly_the_identity_and_draws_nothing() {
        let d = Dropout::<f64>::new(0.0);
        let x: SMatrix<f64, 5, 3> = input(62);
        let (mut y, mut mask) = (SMatrix::zeros(), SMatrix::zeros());
        // No generator needed.
        d.forward_train(&x, &mut y, &mut mask, &mut TrainCx::none());
        assert_eq!(y, x);
        // With a generator: left untouched.
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut fresh = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        d.forward_train(
            &x,
            &mut y,
            &mut mask,
            &mut TrainCx {
                rng: Some(&mut rng),
            },
        );
        assert_eq!(y, x);
        assert_eq!(rng.next_u64(), fresh.next_u64());
        let mut dx = SMatrix::zeros();
        let dy: SMatrix<f64, 5, 3> = input(63);
        d.backward(
            &x,
            &y,
            &mask,
            &dy,
            InputGrad::Write(&mut dx),
            &mut NoGrads,
            false,
        );
        assert_eq!(dx, dy);
    }

    #[test]
    fn evaluation_is_the_identity() {
        let d = Dropout::<f64>::new(0.7);
        let x: SMatrix<f64, 5, 3> = input(64);
        let mut y = SMatrix::zeros();
        d.forward(&x, &mut y);
        assert_eq!(y, x);
        let mut z = x;
        d.forward_inplace(&mut z);
        assert_eq!(z, x);
    }

    #[test]
    fn keep_rate_and_expectation() {
        for p in [0.1, 0.3, 0.5, 0.9] {
            let d = Dropout::<f64>::new(p);
            let x = SMatrix::<f64, 100, 100>::from_element(1.0);
            let (y, mask) = train(&d, &x, 11);
            let n = 10_000.0;
            let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / n;
            let sd = (p * (1.0 - p) / n).sqrt();
            assert!(
                (kept - (1.0 - p)).abs() < 5.0 * sd,
                "p = {p}: kept {kept}, expected {}",
                1.0 - p
            );
            // Kept elements are scaled by exactly 1 / (1 - p); the mean stays near 1.
            let scale = 1.0 / (1.0 - p);
            assert!(mask.iter().all(|&m| m == 0.0 || m == scale));
            assert!(y.iter().zip(mask.iter()).all(|(&v, &m)| v == m));
            let mean = y.sum() / n;
            assert!(
                (mean - 1.0).abs() < 5.0 * scale * sd,
                "p = {p}: mean output {mean}"
            );
        }
    }

    #[test]
    fn same_seed_same_mask_different_seed_different_mask() {
        let d = Dropout::<f64>::new(0.5);
        let x: SMatrix<f64, 8, 4> = input(65);
        let (y1, m1) = train(&d, &x, 3);
        let (y2, m2) = train(&d, &x, 3);
        let (_, m3) = train(&d, &x, 4);
        assert_eq!((y1, m1), (y2, m2));
        assert_ne!(m1, m3);
    }

    #[test]
    #[should_panic(expected = "needs a random generator")]
    fn training_without_a_generator_panics() {
        let d = Dropout::<f64>::new(0.5);
        let x: SMatrix<f64, 2, 2> = input(66);
        let (mut y, mut mask) = (SMatrix::zeros(), <SMatrix<f64, 2, 2> as Zeroed>::zeroed());
        d.forward_train(&x, &mut y, &mut mask, &mut TrainCx::none());
    }

    #[test]
    #[should_panic(expected = "must be in [0, 1)")]
    fn p_of_one_is_rejected() {
        let _ = Dropout::<f32>::new(1.0);
    }

    #[test]
    fn f32_forward() {
        let d = Dropout::<f32>::new(0.25);
        let x = SMatrix::<f32, 16, 8>::from_element(3.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let (mut y, mut mask) = (SMatrix::zeros(), SMatrix::zeros());
        d.forward_train(
            &x,
            &mut y,
            &mut mask,
            &mut TrainCx {
                rng: Some(&mut rng),
            },
        );
        let scale = 1.0f32 / (1.0 - 0.25);
        assert!(y.iter().all(|&v| v == 0.0 || v == 3.0 * scale));
        assert!(y.iter().any(|&v| v == 0.0) && y.iter().any(|&v| v != 0.0));
        // The same draws as an f64 layer with the same p and seed.
        let (_, m64) = train(
            &Dropout::<f64>::new(0.25),
            &SMatrix::<f64, 16, 8>::zeros(),
            12,
        );
        assert!(mask
            .iter()
            .zip(m64.iter())
            .all(|(&a, &b)| (a == 0.0) == (b == 0.0)));
        let mut same = x;
        d.forward_inplace(&mut same);
        assert_eq!(same, x);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::DropoutStream;
    use rand::Rng;

    #[test]
    fn steps_differ_and_repeat() {
        let mut s = DropoutStream::new(5);
        let a = s.rng().next_u64();
        assert_eq!(a, s.rng().next_u64());
        s.advance();
        assert_ne!(a, s.rng().next_u64());
        assert_ne!(a, DropoutStream::new(6).rng().next_u64());
    }
}
