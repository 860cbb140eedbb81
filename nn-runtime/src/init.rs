//! Weight initialisation: Glorot/Xavier and He/Kaiming uniform, and the seeded generator.

use crate::scalar::Scalar;
use rand::Rng;

/// The generator behind `seeded(seed)`: ChaCha8, portable and reproducible on every
/// platform and release of this crate.
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A [`SeededRng`] from a 64-bit seed.
pub fn seeded_rng(seed: u64) -> SeededRng {
    <SeededRng as rand::SeedableRng>::seed_from_u64(seed)
}

/// A uniform sample in `[0, 1)` with 53 random bits.
#[inline]
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Fills `w` uniformly in `[-bound, bound)`.
pub fn fill_uniform<T: Scalar, R: Rng + ?Sized>(rng: &mut R, w: &mut [T], bound: f64) {
    for v in w {
        *v = <T as Scalar>::from_f64((2.0 * uniform01(rng) - 1.0) * bound);
    }
}

/// How a dense layer's weights are drawn, chosen by the activation that follows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scheme {
    /// Glorot/Xavier uniform: `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))`; ahead of
    /// sigmoid, tanh, softmax, identity and step.
    Glorot,
    /// He/Kaiming uniform with the given gain: `U(-a, a)`, `a = gain * sqrt(3 / fan_in)`;
    /// gain `sqrt(2)` ahead of ReLU and its relatives, `sqrt(2 / (1 + slope²))` ahead of
    /// leaky ReLU and PReLU.
    He {
        /// The gain (PyTorch's `calculate_gain`).
        gain: f64,
    },
}

/// Fills a weight tensor with `fan_in` inputs and `fan_out` outputs by `scheme`.
pub fn init_weights<T: Scalar, R: Rng + ?Sized>(
    rng: &mut R,
    w: &mut [T],
    fan_in: usize,
    fan_out: usize,
    scheme: Scheme,
) {
    let bound = match scheme {
        Scheme::Glorot => (6.0 / (fan_in + fan_out).max(1) as f64).sqrt(),
        Scheme::He { gain } => gain * (3.0 / fan_in.max(1) as f64).sqrt(),
    };
    fill_uniform(rng, w, bound);
}
