//! The [`Dataset`] type and its errors.

use crate::loss::argmax;
use crate::scalar::Scalar;
use nalgebra::{SMatrix, SVector};
use rand::Rng;

/// Which half of a sample a value belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The input vector.
    Input,
    /// The target vector.
    Target,
}

impl core::fmt::Display for Part {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Part::Input => "input",
            Part::Target => "target",
        })
    }
}

/// What can go wrong building or using a [`Dataset`] or a
/// [`Standardizer`](super::Standardizer).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The inputs and the targets (or labels) have different lengths.
    #[error("{inputs} inputs but {targets} targets")]
    LengthMismatch {
        /// The number of inputs.
        inputs: usize,
        /// The number of targets or labels.
        targets: usize,
    },
    /// A value is NaN or infinite.
    #[error("sample {index}: {part} component {component} is not finite ({value})")]
    NonFinite {
        /// The index of the sample (0-based).
        index: usize,
        /// Whether the value is in the input or the target.
        part: Part,
        /// The index of the value in its vector (0-based).
        component: usize,
        /// The value (as `f64`).
        value: f64,
    },
    /// A class label is not below the number of classes.
    #[error("sample {index}: class {class} is out of range for {classes} classes")]
    ClassOutOfRange {
        /// The index of the sample (0-based).
        index: usize,
        /// The label given.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A split fraction that is not strictly between 0 and 1.
    #[error("split fraction {fraction} is not strictly between 0 and 1")]
    BadFraction {
        /// The fraction given.
        fraction: f64,
    },
    /// A split that would leave the training or the test side empty.
    #[error("splitting {len} samples by {fraction} leaves {train} for training and {test} for testing; both need at least one")]
    EmptySplit {
        /// The number of samples.
        len: usize,
        /// The fraction given.
        fraction: f64,
        /// The samples the training side would get.
        train: usize,
        /// The samples the test side would get.
        test: usize,
    },
    /// A sample index (or split point) past the end of the data set.
    #[error("index {index} is out of range for {len} samples")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// A mini-batch given a number of indices different from its width `B`.
    #[error("a batch of {expected} columns was given {found} indices")]
    BatchSize {
        /// The batch width `B`.
        expected: usize,
        /// The number of indices given.
        found: usize,
    },
    /// Statistics asked of a data set without samples.
    #[error("the data set is empty")]
    Empty,
    /// A standard deviation that is not finite and positive.
    #[error("feature {component}: standard deviation {value} is not finite and positive")]
    BadStd {
        /// The feature index (0-based).
        component: usize,
        /// The value given.
        value: f64,
    },
    /// A mean that is not finite, or statistics that overflowed.
    #[error("feature {component}: mean or standard deviation is not finite")]
    NonFiniteStatistics {
        /// The feature index (0-based).
        component: usize,
    },
}

/// `(input, target)` pairs in a network's fixed-size types, stored on the heap.
///
/// Invariants, checked by every constructor: as many inputs as targets, and every value
/// finite.
///
/// ```
/// use nn_runtime::data::Dataset;
/// use nn_runtime::SMatrix;
///
/// // XOR.
/// let xor = Dataset::<f32, 2, 1>::from_arrays(
///     &[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
///     &[[0.0], [1.0], [1.0], [0.0]],
/// )?;
/// assert_eq!(xor.len(), 4);
/// let (x, y) = xor.get(2).unwrap();
/// assert_eq!((x[0], y[0]), (1.0, 1.0));
///
/// // A mini-batch of samples 3 and 1, one column each.
/// let mut xb = SMatrix::<f32, 2, 2>::zeros();
/// let mut yb = SMatrix::<f32, 1, 2>::zeros();
/// xor.fill_batch(&[3, 1], &mut xb, &mut yb)?;
/// assert_eq!(xb, SMatrix::<f32, 2, 2>::new(1.0, 0.0, 1.0, 1.0));
/// assert_eq!(yb, SMatrix::<f32, 1, 2>::new(0.0, 1.0));
///
/// // Bad data is rejected with the place of the bad value.
/// let err = Dataset::<f32, 2, 1>::from_arrays(&[[0.0, f32::NAN]], &[[1.0]]).unwrap_err();
/// assert_eq!(err.to_string(), "sample 0: input component 1 is not finite (NaN)");
/// # Ok::<(), nn_runtime::data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T: Scalar, const IN: usize, const OUT: usize> {
    inputs: Vec<SVector<T, IN>>,
    targets: Vec<SVector<T, OUT>>,
}

impl<T: Scalar, const IN: usize, const OUT: usize> Default for Dataset<T, IN, OUT> {
    fn default() -> Self {
        Self::empty()
    }
}

fn check_finite<T: Scalar, const N: usize>(
    v: &SVector<T, N>,
    index: usize,
    part: Part,
) -> Result<(), DataError> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(component) => Err(DataError::NonFinite {
            index,
            part,
            component,
            value: v[component].to_f64(),
        }),
    }
}

/// The one-hot targets for `labels`, one `SVector<T, N>` each.
///
/// ```
/// let y = nn_runtime::data::one_hot_encode::<f64, 3>(&[2, 0])?;
/// assert_eq!(y[0].as_slice(), &[0.0, 0.0, 1.0]);
/// assert_eq!(y[1].as_slice(), &[1.0, 0.0, 0.0]);
/// assert!(nn_runtime::data::one_hot_encode::<f64, 3>(&[3]).is_err());
/// # Ok::<(), nn_runtime::data::DataError>(())
/// ```
///
/// # Errors
///
/// [`DataError::ClassOutOfRange`] for a label `>= N`, with its index.
pub fn one_hot_encode<T: Scalar, const N: usize>(
    labels: &[usize],
) -> Result<Vec<SVector<T, N>>, DataError> {
    labels
        .iter()
        .enumerate()
        .map(|(index, &class)| {
            crate::loss::one_hot::<T, N>(class).map_err(|e| DataError::ClassOutOfRange {
                index,
                class: e.class,
                classes: e.classes,
            })
        })
        .collect()
}

/// How many of `labels` fall in each of `N` classes.
///
/// ```
/// assert_eq!(nn_runtime::data::count_classes::<3>(&[0, 2, 2])?, [1, 0, 2]);
/// # Ok::<(), nn_runtime::data::DataError>(())
/// ```
///
/// # Errors
///
/// [`DataError::ClassOutOfRange`] for a label `>= N`.
pub fn count_classes<const N: usize>(labels: &[usize]) -> Result<[usize; N], DataError> {
    let mut counts = [0; N];
    for (index, &class) in labels.iter().enumerate() {
        match counts.get_mut(class) {
            Some(c) => *c += 1,
            None => {
                return Err(DataError::ClassOutOfRange {
                    index,
                    class,
                    classes: N,
                })
            }
        }
    }
    Ok(counts)
}

/// The iterator of [`Dataset::iter`]: `(input, target)` references.
pub type Iter<'a, T, const IN: usize, const OUT: usize> =
    core::iter::Zip<core::slice::Iter<'a, SVector<T, IN>>, core::slice::Iter<'a, SVector<T, OUT>>>;

impl<T: Scalar, const IN: usize, const OUT: usize> Dataset<T, IN, OUT> {
    /// A data set without samples.
    pub fn empty() -> Self {
        Dataset {
            inputs: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// The pairs `(inputs[i], targets[i])`.
    ///
    /// # Errors
    ///
    /// [`DataError::LengthMismatch`] if the lengths differ, [`DataError::NonFinite`] for
    /// the first NaN or infinite value (sample, input or target, component).
    pub fn new(
        inputs: Vec<SVector<T, IN>>,
        targets: Vec<SVector<T, OUT>>,
    ) -> Result<Self, DataError> {
        if inputs.len() != targets.len() {
            return Err(DataError::LengthMismatch {
                inputs: inputs.len(),
                targets: targets.len(),
            });
        }
        for (index, (x, y)) in inputs.iter().zip(&targets).enumerate() {
            check_finite(x, index, Part::Input)?;
            check_finite(y, index, Part::Target)?;
        }
        Ok(Dataset { inputs, targets })
    }

    /// A classification data set: `labels[i]` is the class of `inputs[i]`, one-hot
    /// encoded into `OUT` classes.
    ///
    /// ```
    /// use nn_runtime::data::Dataset;
    /// use nn_runtime::SVector;
    ///
    /// let x = vec![SVector::<f32, 1>::new(0.5), SVector::<f32, 1>::new(-0.5)];
    /// let data = Dataset::<f32, 1, 3>::from_classes(x.clone(), &[2, 0])?;
    /// assert_eq!(data.targets()[0].as_slice(), &[0.0, 0.0, 1.0]);
    /// assert_eq!(data.labels(), vec![2, 0]);
    /// assert!(Dataset::<f32, 1, 3>::from_classes(x, &[2, 3]).is_err());
    /// # Ok::<(), nn_runtime::data::DataError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError::LengthMismatch`], [`DataError::ClassOutOfRange`] for a label `>= OUT`,
    /// [`DataError::NonFinite`] for a non-finite input.
    pub fn from_classes(inputs: Vec<SVector<T, IN>>, labels: &[usize]) -> Result<Self, DataError> {
        if inputs.len() != labels.len() {
            return Err(DataError::LengthMismatch {
                inputs: inputs.len(),
                targets: labels.len(),
            });
        }
        let targets = one_hot_encode::<T, OUT>(labels)?;
        Self::new(inputs, targets)
    }

    /// The pairs of two slices of arrays, handy for small literal data sets.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn from_arrays(inputs: &[[T; IN]], targets: &[[T; OUT]]) -> Result<Self, DataError> {
        Self::new(
            inputs.iter().map(|x| SVector::from(*x)).collect(),
            targets.iter().map(|y| SVector::from(*y)).collect(),
        )
    }

    /// Appends one sample.
    ///
    /// # Errors
    ///
    /// [`DataError::NonFinite`] (with the index the sample would have had); the data set
    /// is then unchanged.
    pub fn push(
        &mut self,
        input: SVector<T, IN>,
        target: SVector<T, OUT>,
    ) -> Result<(), DataError> {
        let index = self.len();
        check_finite(&input, index, Part::Input)?;
        check_finite(&target, index, Part::Target)?;
        self.inputs.push(input);
        self.targets.push(target);
        Ok(())
    }

    /// Moves all samples of `other` to the end of this data set.
    pub fn append(&mut self, mut other: Self) {
        self.inputs.append(&mut other.inputs);
        self.targets.append(&mut other.targets);
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Sample `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<(&SVector<T, IN>, &SVector<T, OUT>)> {
        Some((self.inputs.get(i)?, self.targets.get(i)?))
    }

    /// The samples in order, as `(input, target)` references.
    pub fn iter(&self) -> Iter<'_, T, IN, OUT> {
        self.inputs.iter().zip(self.targets.iter())
    }

    /// All inputs, in order.
    pub fn inputs(&self) -> &[SVector<T, IN>] {
        &self.inputs
    }

    /// All targets, in order.
    pub fn targets(&self) -> &[SVector<T, OUT>] {
        &self.targets
    }

    /// The inputs and targets, giving up the data set.
    pub fn into_parts(self) -> (Vec<SVector<T, IN>>, Vec<SVector<T, OUT>>) {
        (self.inputs, self.targets)
    }

    /// Shuffles the samples (inputs and targets together) with the Fisher–Yates shuffle of
    /// [`shuffle_in_place`](super::shuffle_in_place): the same order for the same seeded
    /// generator on every platform.
    pub fn shuffle<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        // The swaps `shuffle_in_place` makes, applied to both lists: the same permutation
        // as shuffling any slice of this length with the same generator, and no allocation.
        for i in (1..self.len()).rev() {
            let j = super::below(rng, i + 1);
            self.inputs.swap(i, j);
            self.targets.swap(i, j);
        }
    }

    /// Shuffles, then splits into `(train, test)`: the training side gets
    /// `round(fraction * len)` samples, the test side the rest.
    ///
    /// ```
    /// use nn_runtime::data::Dataset;
    /// use nn_runtime::init::seeded_rng;
    ///
    /// let x: Vec<[f64; 1]> = (0..10).map(|i| [i as f64]).collect();
    /// let data = Dataset::<f64, 1, 1>::from_arrays(&x, &x)?;
    /// let (train, test) = data.clone().split(0.8, &mut seeded_rng(1))?;
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// assert!(data.clone().split(1.0, &mut seeded_rng(1)).is_err());
    /// assert!(data.split(0.01, &mut seeded_rng(1)).is_err()); // nothing left to train on
    /// # Ok::<(), nn_runtime::data::DataError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError::BadFraction`] unless `0 < fraction < 1`; [`DataError::EmptySplit`] if
    /// either side would be empty. The data set is consumed either way; split a clone to
    /// keep it.
    pub fn split<R: Rng + ?Sized>(
        mut self,
        fraction: f64,
        rng: &mut R,
    ) -> Result<(Self, Self), DataError> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(DataError::BadFraction { fraction });
        }
        let len = self.len();
        // `fraction * len` is finite and in [0, len], so the cast cannot saturate.
        let train = ((fraction * len as f64).round() as usize).min(len);
        if train == 0 || train == len {
            return Err(DataError::EmptySplit {
                len,
                fraction,
                train,
                test: len - train,
            });
        }
        self.shuffle(rng);
        self.split_at(train)
    }

    /// Splits without shuffling: the first `at` samples and the rest. Either side may be
    /// empty.
    ///
    /// # Errors
    ///
    /// [`DataError::IndexOutOfRange`] if `at > len`.
    pub fn split_at(mut self, at: usize) -> Result<(Self, Self), DataError> {
        if at > self.len() {
            return Err(DataError::IndexOutOfRange {
                index: at,
                len: self.len(),
            });
        }
        let inputs = self.inputs.split_off(at);
        let targets = self.targets.split_off(at);
        Ok((self, Dataset { inputs, targets }))
    }

    /// The samples at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    ///
    /// [`DataError::IndexOutOfRange`] for an index `>= len`.
    pub fn select(&self, indices: &[usize]) -> Result<Self, DataError> {
        let mut out = Dataset {
            inputs: Vec::with_capacity(indices.len()),
            targets: Vec::with_capacity(indices.len()),
        };
        for &i in indices {
            let (x, y) = self.get(i).ok_or(DataError::IndexOutOfRange {
                index: i,
                len: self.len(),
            })?;
            out.inputs.push(*x);
            out.targets.push(*y);
        }
        Ok(out)
    }

    /// The class of every sample: the index of the largest target component (the first
    /// on ties), as [`argmax`](crate::loss::argmax).
    pub fn labels(&self) -> Vec<usize> {
        self.targets.iter().map(|y| argmax(y.as_slice())).collect()
    }

    /// How many samples [`labels`](Self::labels) puts in each class.
    pub fn class_counts(&self) -> [usize; OUT] {
        let mut counts = [0; OUT];
        for y in &self.targets {
            // `argmax` is below OUT whenever OUT > 0, and there is nothing to count
            // otherwise.
            if let Some(c) = counts.get_mut(argmax(y.as_slice())) {
                *c += 1;
            }
        }
        counts
    }

    /// Copies the samples at `indices` into the columns of `x` and `y`: column `j` gets
    /// sample `indices[j]`. Allocates nothing; `indices` must have exactly `B` entries.
    ///
    /// # Errors
    ///
    /// [`DataError::BatchSize`] if `indices.len() != B`, [`DataError::IndexOutOfRange`]
    /// for an index `>= len`. `x` and `y` are untouched on error.
    pub fn fill_batch<const B: usize>(
        &self,
        indices: &[usize],
        x: &mut SMatrix<T, IN, B>,
        y: &mut SMatrix<T, OUT, B>,
    ) -> Result<(), DataError> {
        if indices.len() != B {
            return Err(DataError::BatchSize {
                expected: B,
                found: indices.len(),
            });
        }
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        for (j, &i) in indices.iter().enumerate() {
            x.set_column(j, &self.inputs[i]);
            y.set_column(j, &self.targets[i]);
        }
        Ok(())
    }

    /// Replaces every input by `f(input)`, possibly of another width `IN2` (feature
    /// engineering, scaling, flattening...).
    ///
    /// ```
    /// use nn_runtime::data::Dataset;
    /// use nn_runtime::SVector;
    ///
    /// let data = Dataset::<f64, 1, 1>::from_arrays(&[[2.0], [3.0]], &[[0.0], [1.0]])?;
    /// // Add the square as a second feature.
    /// let poly = data.map_inputs(|x| SVector::<f64, 2>::new(x[0], x[0] * x[0]))?;
    /// assert_eq!(poly.inputs()[1].as_slice(), &[3.0, 9.0]);
    /// # Ok::<(), nn_runtime::data::DataError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError::NonFinite`] if `f` returns a NaN or infinite value.
    pub fn map_inputs<const IN2: usize, F>(
        self,
        mut f: F,
    ) -> Result<Dataset<T, IN2, OUT>, DataError>
    where
        F: FnMut(&SVector<T, IN>) -> SVector<T, IN2>,
    {
        let mut inputs = Vec::with_capacity(self.len());
        for (index, x) in self.inputs.iter().enumerate() {
            let x2 = f(x);
            check_finite(&x2, index, Part::Input)?;
            inputs.push(x2);
        }
        Ok(Dataset {
            inputs,
            targets: self.targets,
        })
    }

    /// Replaces every target by `f(target)`, possibly of another width `OUT2`.
    ///
    /// # Errors
    ///
    /// [`DataError::NonFinite`] if `f` returns a NaN or infinite value.
    pub fn map_targets<const OUT2: usize, F>(
        self,
        mut f: F,
    ) -> Result<Dataset<T, IN, OUT2>, DataError>
    where
        F: FnMut(&SVector<T, OUT>) -> SVector<T, OUT2>,
    {
        let mut targets = Vec::with_capacity(self.len());
        for (index, y) in self.targets.iter().enumerate() {
            let y2 = f(y);
            check_finite(&y2, index, Part::Target)?;
            targets.push(y2);
        }
        Ok(Dataset {
            inputs: self.inputs,
            targets,
        })
    }

    /// The same data in another scalar type (`f64` to `f32` rounds to nearest).
    ///
    /// ```
    /// use nn_runtime::data::Dataset;
    ///
    /// let d = Dataset::<f64, 1, 1>::from_arrays(&[[0.1]], &[[1.0]])?;
    /// let f: Dataset<f32, 1, 1> = d.cast()?;
    /// assert_eq!(f.inputs()[0][0], 0.1f32);
    /// assert!(Dataset::<f64, 1, 1>::from_arrays(&[[1e300]], &[[1.0]])?.cast::<f32>().is_err());
    /// # Ok::<(), nn_runtime::data::DataError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError::NonFinite`] if a value overflows the new type.
    pub fn cast<U: Scalar>(&self) -> Result<Dataset<U, IN, OUT>, DataError> {
        let conv_x = |x: &SVector<T, IN>| x.map(|v| <U as Scalar>::from_f64(v.to_f64()));
        let conv_y = |y: &SVector<T, OUT>| y.map(|v| <U as Scalar>::from_f64(v.to_f64()));
        Dataset::new(
            self.inputs.iter().map(conv_x).collect(),
            self.targets.iter().map(conv_y).collect(),
        )
    }

    /// Mutable access to the inputs for crate-internal transforms that keep them finite.
    pub(crate) fn inputs_mut(&mut self) -> &mut [SVector<T, IN>] {
        &mut self.inputs
    }

    /// Builds from parts already known to be valid (crate-internal loaders).
    pub(crate) fn from_parts_unchecked(
        inputs: Vec<SVector<T, IN>>,
        targets: Vec<SVector<T, OUT>>,
    ) -> Self {
        debug_assert_eq!(inputs.len(), targets.len());
        Dataset { inputs, targets }
    }
}

impl<'a, T: Scalar, const IN: usize, const OUT: usize> IntoIterator for &'a Dataset<T, IN, OUT> {
    type Item = (&'a SVector<T, IN>, &'a SVector<T, OUT>);
    type IntoIter = Iter<'a, T, IN, OUT>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::seeded_rng;

    fn ramp(n: usize) -> Dataset<f64, 2, 1> {
        let x: Vec<[f64; 2]> = (0..n).map(|i| [i as f64, -(i as f64)]).collect();
        let y: Vec<[f64; 1]> = (0..n).map(|i| [10.0 * i as f64]).collect();
        Dataset::from_arrays(&x, &y).unwrap()
    }

    /// Every sample still pairs input i with target 10*i.
    fn assert_pairs_intact(d: &Dataset<f64, 2, 1>) {
        for (x, y) in d {
            assert_eq!(x[1], -x[0]);
            assert_eq!(y[0], 10.0 * x[0]);
        }
    }

    fn firsts(d: &Dataset<f64, 2, 1>) -> Vec<usize> {
        d.inputs().iter().map(|x| x[0] as usize).collect()
    }

    #[test]
    fn new_validates_lengths_and_finiteness() {
        let x = vec![SVector::<f64, 2>::new(1.0, 2.0); 3];
        let y = vec![SVector::<f64, 1>::new(0.0); 2];
        assert_eq!(
            Dataset::new(x.clone(), y).unwrap_err(),
            DataError::LengthMismatch {
                inputs: 3,
                targets: 2
            }
        );
        let mut y = vec![SVector::<f64, 1>::new(0.0); 3];
        y[2][0] = f64::NEG_INFINITY;
        assert_eq!(
            Dataset::new(x.clone(), y).unwrap_err(),
            DataError::NonFinite {
                index: 2,
                part: Part::Target,
                component: 0,
                value: f64::NEG_INFINITY
            }
        );
        let mut x2 = x.clone();
        x2[1][1] = f64::NAN;
        let err = Dataset::new(x2, vec![SVector::<f64, 1>::new(0.0); 3]).unwrap_err();
        assert!(matches!(
            err,
            DataError::NonFinite {
                index: 1,
                part: Part::Input,
                component: 1,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "sample 1: input component 1 is not finite (NaN)"
        );
        let ok = Dataset::new(x, vec![SVector::<f64, 1>::new(0.0); 3]).unwrap();
        assert_eq!(ok.len(), 3);
        assert!(!ok.is_empty());
        assert!(Dataset::<f32, 1, 1>::empty().is_empty());
        assert_eq!(Dataset::<f32, 1, 1>::default().len(), 0);
    }

    #[test]
    fn from_classes_one_hot_encodes() {
        let x = vec![SVector::<f32, 1>::new(0.0); 4];
        let d = Dataset::<f32, 1, 3>::from_classes(x.clone(), &[1, 0, 2, 1]).unwrap();
        assert_eq!(d.targets()[0].as_slice(), &[0.0, 1.0, 0.0]);
        assert_eq!(d.targets()[2].as_slice(), &[0.0, 0.0, 1.0]);
        assert_eq!(d.labels(), vec![1, 0, 2, 1]);
        assert_eq!(d.class_counts(), [1, 2, 1]);
        assert_eq!(
            Dataset::<f32, 1, 3>::from_classes(x.clone(), &[1, 0, 3, 1]).unwrap_err(),
            DataError::ClassOutOfRange {
                index: 2,
                class: 3,
                classes: 3
            }
        );
        assert!(matches!(
            Dataset::<f32, 1, 3>::from_classes(x, &[1]).unwrap_err(),
            DataError::LengthMismatch {
                inputs: 4,
                targets: 1
            }
        ));
        assert_eq!(count_classes::<2>(&[1, 1, 0]).unwrap(), [1, 2]);
        assert!(matches!(
            count_classes::<2>(&[1, 2]).unwrap_err(),
            DataError::ClassOutOfRange {
                index: 1,
                class: 2,
                classes: 2
            }
        ));
    }

    #[test]
    fn push_get_iter_append() {
        let mut d = Dataset::<f64, 2, 1>::empty();
        d.push(SVector::from([1.0, 2.0]), SVector::from([3.0]))
            .unwrap();
        let err = d
            .push(SVector::from([1.0, 2.0]), SVector::from([f64::NAN]))
            .unwrap_err();
        assert!(matches!(
            err,
            DataError::NonFinite {
                index: 1,
                part: Part::Target,
                ..
            }
        ));
        assert_eq!(d.len(), 1);
        assert_eq!(d.get(0).unwrap().1[0], 3.0);
        assert!(d.get(1).is_none());
        d.append(ramp(3));
        assert_eq!(d.len(), 4);
        assert_eq!(d.iter().len(), 4);
        assert_eq!(d.iter().nth(3).unwrap().0[0], 2.0);
        let (xs, ys) = d.into_parts();
        assert_eq!((xs.len(), ys.len()), (4, 4));
    }

    #[test]
    fn shuffle_is_deterministic_and_keeps_pairs() {
        let mut a = ramp(50);
        let mut b = ramp(50);
        a.shuffle(&mut seeded_rng(42));
        b.shuffle(&mut seeded_rng(42));
        assert_eq!(a, b);
        assert_ne!(firsts(&a), (0..50).collect::<Vec<_>>());
        assert_pairs_intact(&a);
        let mut sorted = firsts(&a);
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        // The permutation is the one shuffle_in_place draws with the same seed.
        let mut order: Vec<usize> = (0..50).collect();
        crate::data::shuffle_in_place(&mut order, &mut seeded_rng(42));
        assert_eq!(firsts(&a), order);
        let mut c = ramp(50);
        c.shuffle(&mut seeded_rng(43));
        assert_ne!(a, c);
    }

    #[test]
    fn split_sizes_and_errors() {
        let (train, test) = ramp(10).split(0.7, &mut seeded_rng(1)).unwrap();
        assert_eq!((train.len(), test.len()), (7, 3));
        assert_pairs_intact(&train);
        assert_pairs_intact(&test);
        let mut all = firsts(&train);
        all.extend(firsts(&test));
        assert_ne!(all, (0..10).collect::<Vec<_>>(), "split must shuffle");
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        // Deterministic.
        let (train2, _) = ramp(10).split(0.7, &mut seeded_rng(1)).unwrap();
        assert_eq!(train, train2);
        // Rounding: 0.25 * 10 = 2.5 rounds to 3.
        let (t, s) = ramp(10).split(0.25, &mut seeded_rng(1)).unwrap();
        assert_eq!((t.len(), s.len()), (3, 7));
        for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            let err = ramp(10).split(bad, &mut seeded_rng(1)).unwrap_err();
            assert!(matches!(err, DataError::BadFraction { .. }), "{bad}: {err}");
        }
        assert_eq!(
            ramp(10).split(0.04, &mut seeded_rng(1)).unwrap_err(),
            DataError::EmptySplit {
                len: 10,
                fraction: 0.04,
                train: 0,
                test: 10
            }
        );
        assert!(matches!(
            ramp(10).split(0.96, &mut seeded_rng(1)).unwrap_err(),
            DataError::EmptySplit {
                train: 10,
                test: 0,
                ..
            }
        ));
        assert!(matches!(
            ramp(0).split(0.5, &mut seeded_rng(1)).unwrap_err(),
            DataError::EmptySplit { len: 0, .. }
        ));
        assert!(ramp(1).split(0.5, &mut seeded_rng(1)).is_err());
        let (a, b) = ramp(2).split(0.5, &mut seeded_rng(1)).unwrap();
        assert_eq!((a.len(), b.len()), (1, 1));
    }

    #[test]
    fn split_at_and_select() {
        let (a, b) = ramp(5).split_at(2).unwrap();
        assert_eq!(firsts(&a), vec![0, 1]);
        assert_eq!(firsts(&b), vec![2, 3, 4]);
        let (a, b) = ramp(5).split_at(5).unwrap();
        assert_eq!((a.len(), b.len()), (5, 0));
        let (a, b) = ramp(5).split_at(0).unwrap();
        assert_eq!((a.len(), b.len()), (0, 5));
        assert_eq!(
            ramp(5).split_at(6).unwrap_err(),
            DataError::IndexOutOfRange { index: 6, len: 5 }
        );
        let s = ramp(5).select(&[4, 0, 4]).unwrap();
        assert_eq!(firsts(&s), vec![4, 0, 4]);
        assert_pairs_intact(&s);
        assert_eq!(
            ramp(5).select(&[1, 5]).unwrap_err(),
            DataError::IndexOutOfRange { index: 5, len: 5 }
        );
    }

    #[test]
    fn fill_batch_copies_columns_and_validates() {
        let d = ramp(6);
        let mut x = SMatrix::<f64, 2, 3>::repeat(7.0);
        let mut y = SMatrix::<f64, 1, 3>::repeat(7.0);
        d.fill_batch(&[5, 0, 2], &mut x, &mut y).unwrap();
        assert_eq!(x, SMatrix::<f64, 2, 3>::new(5.0, 0.0, 2.0, -5.0, 0.0, -2.0));
        assert_eq!(y, SMatrix::<f64, 1, 3>::new(50.0, 0.0, 20.0));
        let before = (x, y);
        assert_eq!(
            d.fill_batch(&[1, 2], &mut x, &mut y).unwrap_err(),
            DataError::BatchSize {
                expected: 3,
                found: 2
            }
        );
        assert_eq!(
            d.fill_batch(&[1, 6, 2], &mut x, &mut y).unwrap_err(),
            DataError::IndexOutOfRange { index: 6, len: 6 }
        );
        assert_eq!((x, y), before, "untouched on error");
    }

    #[test]
    fn labels_break_ties_to_the_first() {
        let d = Dataset::<f64, 1, 3>::from_arrays(
            &[[0.0], [0.0], [0.0]],
            &[[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.0, 0.0, 0.0]],
        )
        .unwrap();
        assert_eq!(d.labels(), vec![1, 0, 0]);
        assert_eq!(d.class_counts(), [2, 1, 0]);
    }

    #[test]
    fn map_and_cast() {
        let d = ramp(3);
        let m = d
            .clone()
            .map_inputs(|x| SVector::<f64, 1>::new(x[0] * 2.0))
            .unwrap();
        assert_eq!(m.inputs()[2][0], 4.0);
        assert_eq!(m.targets(), d.targets());
        let err = d
            .clone()
            .map_inputs(|x| SVector::<f64, 1>::new(1.0 / x[0]))
            .unwrap_err();
        assert!(matches!(
            err,
            DataError::NonFinite {
                index: 0,
                part: Part::Input,
                component: 0,
                ..
            }
        ));
        let t = d
            .clone()
            .map_targets(|y| SVector::<f64, 2>::new(y[0], 1.0))
            .unwrap();
        assert_eq!(t.targets()[1].as_slice(), &[10.0, 1.0]);
        assert!(d
            .clone()
            .map_targets(|_| SVector::<f64, 1>::new(f64::NAN))
            .is_err());
        let f: Dataset<f32, 2, 1> = d.cast().unwrap();
        assert_eq!(f.inputs()[2].as_slice(), &[2.0f32, -2.0]);
        let back: Dataset<f64, 2, 1> = f.cast().unwrap();
        assert_eq!(back, d);
        let big = Dataset::<f64, 1, 1>::from_arrays(&[[1.0], [1.0]], &[[0.0], [-1e39]]).unwrap();
        assert!(matches!(
            big.cast::<f32>().unwrap_err(),
            DataError::NonFinite {
                index: 1,
                part: Part::Target,
                component: 0,
                ..
            }
        ));
    }
}
