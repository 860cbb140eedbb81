//! Data sets and utilities: splitting, shuffling, one-hot encoding, standardisation, CSV and
//! IDX (MNIST) loading.
//!
//! A [`Dataset<T, IN, OUT>`](Dataset) holds `(input, target)` pairs in exactly the types a
//! network with `IN` inputs and `OUT` outputs takes: `SVector<T, IN>` and
//! `SVector<T, OUT>`. Every constructor checks that the two lists have the same length
//! and that every value is finite, so a training loop never meets a NaN that came from
//! the data.
//!
//! - [`Dataset`]: construction ([`Dataset::new`], [`Dataset::from_classes`],
//!   [`Dataset::from_arrays`]), [`shuffle`](Dataset::shuffle),
//!   [`split`](Dataset::split), [`split_at`](Dataset::split_at), class
//!   [`labels`](Dataset::labels) and [`class_counts`](Dataset::class_counts), and
//!   [`fill_batch`](Dataset::fill_batch), which copies a mini-batch into fixed-size
//!   matrices without allocating.
//! - [`Standardizer`]: per-feature mean and standard deviation, fitted on the training set
//!   and applied to both sets.
//! - [`csv`]: CSV files into fixed-size samples, with numeric or class-label targets.
//! - [`idx`] and [`mnist`]: the IDX format of MNIST, gzipped or not.
//!
//! ```
//! use nn_runtime::data::{Dataset, Standardizer};
//! use nn_runtime::init::seeded_rng;
//!
//! // Four samples with two features, in two classes.
//! let inputs = [[0.0, 10.0], [1.0, 20.0], [2.0, 30.0], [3.0, 40.0]];
//! let data = Dataset::<f64, 2, 2>::from_classes(
//!     inputs.iter().map(|x| (*x).into()).collect(),
//!     &[0, 0, 1, 1],
//! )?;
//! assert_eq!(data.class_counts(), [2, 2]);
//!
//! let mut rng = seeded_rng(7);
//! let (mut train, mut test) = data.split(0.5, &mut rng)?;
//! let scaler = Standardizer::fit(&train)?;
//! scaler.transform(&mut train)?;
//! scaler.transform(&mut test)?;
//! assert_eq!((train.len(), test.len()), (2, 2));
//! # Ok::<(), nn_runtime::data::DataError>(())
//! ```

pub mod csv;
mod dataset;
pub mod idx;
pub mod mnist;
mod standardize;

pub use dataset::{count_classes, one_hot_encode, DataError, Dataset, Iter, Part};
pub use standardize::Standardizer;

pub use crate::loss::{argmax, one_hot};

use rand::Rng;

/// A uniform index in `0..n` (`n > 0`), without bias (Lemire's multiply-and-reject).
fn below<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    debug_assert!(n > 0);
    let n = n as u64;
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as usize;
        }
    }
}

/// Shuffles `items` in place: a Fisher–Yates shuffle driven by [`Rng::next_u64`], so it
/// gives the same order on every platform for a seeded generator such as
/// [`seeded_rng`](crate::init::seeded_rng).
///
/// [`Dataset::shuffle`] applies the same permutation; a trainer can instead shuffle a list
/// of sample indices with this function and leave the data in place.
///
/// ```
/// use nn_runtime::data::shuffle_in_place;
/// use nn_runtime::init::seeded_rng;
///
/// let mut order: Vec<usize> = (0..10).collect();
/// shuffle_in_place(&mut order, &mut seeded_rng(3));
/// let mut again: Vec<usize> = (0..10).collect();
/// shuffle_in_place(&mut again, &mut seeded_rng(3));
/// assert_eq!(order, again);
/// order.sort();
/// assert_eq!(order, (0..10).collect::<Vec<_>>());
/// ```
pub fn shuffle_in_place<X, R: Rng + ?Sized>(items: &mut [X], rng: &mut R) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i + 1);
        items.swap(i, j);
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, empty directory under the system temp dir, removed on drop.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "nn-runtime-test-{tag}-{}-{n}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            ));
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::seeded_rng;

    #[test]
    fn below_is_in_range_and_covers_all_values() {
        let mut rng = seeded_rng(1);
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            let k = below(&mut rng, 7);
            seen[k] += 1;
        }
        // Each of the 7 values about 1000 times.
        assert!(seen.iter().all(|&c| (850..1150).contains(&c)), "{seen:?}");
        assert_eq!(below(&mut rng, 1), 0);
    }

    #[test]
    fn shuffle_is_a_permutation_and_deterministic() {
        let mut a: Vec<u32> = (0..100).collect();
        let mut b = a.clone();
        shuffle_in_place(&mut a, &mut seeded_rng(9));
        shuffle_in_place(&mut b, &mut seeded_rng(9));
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        let mut c = a.clone();
        c.sort();
        assert_eq!(c, (0..100).collect::<Vec<_>>());
        let mut d: Vec<u32> = (0..100).collect();
        shuffle_in_place(&mut d, &mut seeded_rng(10));
        assert_ne!(a, d);
        // Empty and single-element slices are fine.
        shuffle_in_place::<u8, _>(&mut [], &mut seeded_rng(1));
        shuffle_in_place(&mut [1], &mut seeded_rng(1));
    }

    #[test]
    fn shuffle_is_roughly_uniform() {
        // All 6 permutations of 3 items about equally often.
        let mut rng = seeded_rng(5);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..6000 {
            let mut v = [0, 1, 2];
            shuffle_in_place(&mut v, &mut rng);
            *counts.entry(v).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 6);
        assert!(
            counts.values().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
    }
}
