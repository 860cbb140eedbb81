//! Per-feature standardisation.

use super::dataset::{DataError, Dataset, Part};
use crate::scalar::Scalar;
use nalgebra::SVector;

/// Per-feature standardisation `z = (x - mean) / std`, fitted on one data set (the
/// training set) and applied to any other (the test set, new inputs).
///
/// `std` is the population standard deviation (divided by `n`, numpy's `std()` default),
/// computed in `f64` with two passes. A constant feature (all values equal) gets
/// `std = 1`, so it maps to 0 rather than to NaN.
///
/// ```
/// use nn_runtime::data::{Dataset, Standardizer};
/// use nn_runtime::SVector;
///
/// let mut train = Dataset::<f64, 2, 1>::from_arrays(
///     &[[1.0, 5.0], [3.0, 5.0]],
///     &[[0.0], [1.0]],
/// )?;
/// let s = Standardizer::fit(&train)?;
/// assert_eq!(s.mean().as_slice(), &[2.0, 5.0]);
/// assert_eq!(s.std().as_slice(), &[1.0, 1.0]); // the second feature is constant
/// s.transform(&mut train)?;
/// assert_eq!(train.inputs()[0].as_slice(), &[-1.0, 0.0]);
/// assert_eq!(s.transform_vec(&SVector::from([4.0, 7.0])).as_slice(), &[2.0, 2.0]);
/// # Ok::<(), nn_runtime::data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<T: Scalar, const IN: usize> {
    mean: SVector<T, IN>,
    std: SVector<T, IN>,
}

impl<T: Scalar, const IN: usize> Standardizer<T, IN> {
    /// Fits the mean and standard deviation of every input feature of `data`.
    ///
    /// # Errors
    ///
    /// [`DataError::Empty`] without samples; [`DataError::NonFiniteStatistics`] if the
    /// statistics overflow (values near the largest `f64`).
    pub fn fit<const OUT: usize>(data: &Dataset<T, IN, OUT>) -> Result<Self, DataError> {
        Self::fit_inputs(data.inputs())
    }

    /// Fits on a slice of input vectors; see [`fit`](Self::fit).
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit).
    pub fn fit_inputs(inputs: &[SVector<T, IN>]) -> Result<Self, DataError> {
        if inputs.is_empty() {
            return Err(DataError::Empty);
        }
        let n = inputs.len() as f64;
        let mut mean = SVector::<T, IN>::zeros();
        let mut std = SVector::<T, IN>::zeros();
        for k in 0..IN {
            let first = inputs[0][k];
            let constant = inputs.iter().all(|x| x[k] == first);
            let m = inputs.iter().map(|x| x[k].to_f64()).sum::<f64>() / n;
            let var = inputs
                .iter()
                .map(|x| {
                    let d = x[k].to_f64() - m;
                    d * d
                })
                .sum::<f64>()
                / n;
            let (m, s) = if constant {
                (first, T::one())
            } else {
                (
                    <T as Scalar>::from_f64(m),
                    <T as Scalar>::from_f64(var.sqrt()),
                )
            };
            // A non-constant feature whose spread is below the smallest positive value of
            // `T` behaves as a constant one.
            let s = if s > T::zero() { s } else { T::one() };
            if !m.is_finite() || !s.is_finite() {
                return Err(DataError::NonFiniteStatistics { component: k });
            }
            mean[k] = m;
            std[k] = s;
        }
        Ok(Standardizer { mean, std })
    }

    /// A standardiser with given statistics (for instance saved from an earlier fit).
    ///
    /// # Errors
    ///
    /// [`DataError::NonFiniteStatistics`] for a non-finite mean, [`DataError::BadStd`] for
    /// a standard deviation that is not finite and positive.
    pub fn from_parts(mean: SVector<T, IN>, std: SVector<T, IN>) -> Result<Self, DataError> {
        if let Some(component) = mean.iter().position(|m| !m.is_finite()) {
            return Err(DataError::NonFiniteStatistics { component });
        }
        if let Some(component) = std.iter().position(|s| !(s.is_finite() && *s > T::zero())) {
            return Err(DataError::BadStd {
                component,
                value: std[component].to_f64(),
            });
        }
        Ok(Standardizer { mean, std })
    }

    /// The per-feature means.
    pub fn mean(&self) -> &SVector<T, IN> {
        &self.mean
    }

    /// The per-feature standard deviations (1 for constant features).
    pub fn std(&self) -> &SVector<T, IN> {
        &self.std
    }

    /// `(x - mean) / std`, feature by feature. May overflow to infinity for inputs
    /// astronomically far from the fitted data; [`transform`](Self::transform) checks
    /// for that, this does not.
    pub fn transform_vec(&self, x: &SVector<T, IN>) -> SVector<T, IN> {
        (x - self.mean).component_div(&self.std)
    }

    /// `z * std + mean`: undoes [`transform_vec`](Self::transform_vec).
    pub fn inverse_transform_vec(&self, z: &SVector<T, IN>) -> SVector<T, IN> {
        z.component_mul(&self.std) + self.mean
    }

    /// Standardises every input of `data` in place; the targets are left alone.
    ///
    /// # Errors
    ///
    /// [`DataError::NonFinite`] if a result overflows; `data` is then unchanged.
    pub fn transform<const OUT: usize>(
        &self,
        data: &mut Dataset<T, IN, OUT>,
    ) -> Result<(), DataError> {
        for (index, x) in data.inputs().iter().enumerate() {
            let z = self.transform_vec(x);
            if let Some(component) = z.iter().position(|v| !v.is_finite()) {
                return Err(DataError::NonFinite {
                    index,
                    part: Part::Input,
                    component,
                    value: z[component].to_f64(),
                });
            }
        }
        for x in data.inputs_mut() {
            *x = self.transform_vec(x);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_matches_numpy() {
        // Reference: nn-runtime/tests/reference/standardize.py (numpy, ddof=0).
        // x = [[1, 10, 3], [2, 20, 3], [4, 60, 3], [9, 30, 3]]
        //   x.mean(0) = [4, 30, 3]; x.std(0) = [3.082207001484488, 18.708286933869708, 0]
        let x = [
            [1.0, 10.0, 3.0],
            [2.0, 20.0, 3.0],
            [4.0, 60.0, 3.0],
            [9.0, 30.0, 3.0],
        ];
        let y = [[0.0]; 4];
        let mut d = Dataset::<f64, 3, 1>::from_arrays(&x, &y).unwrap();
        let s = Standardizer::fit(&d).unwrap();
        assert_eq!(s.mean().as_slice(), &[4.0, 30.0, 3.0]);
        assert!((s.std()[0] - 3.082207001484488).abs() < 1e-14);
        assert!((s.std()[1] - 18.708286933869708).abs() < 1e-13);
        assert_eq!(s.std()[2], 1.0);
        s.transform(&mut d).unwrap();
        // Standardised columns have mean 0 and population std 1 (the constant one 0 and 0).
        for k in 0..3 {
            let m: f64 = d.inputs().iter().map(|x| x[k]).sum::<f64>() / 4.0;
            let v: f64 = d.inputs().iter().map(|x| x[k] * x[k]).sum::<f64>() / 4.0;
            assert!(m.abs() < 1e-15);
            let want = if k == 2 { 0.0 } else { 1.0 };
            assert!((v - want).abs() < 1e-14, "{k}: {v}");
        }
        assert_eq!(d.targets()[0][0], 0.0, "targets untouched");
        let z = s.transform_vec(&SVector::from([7.0, 30.0, 5.0]));
        assert!((z[0] - 0.9733285267845753).abs() < 1e-15);
        assert_eq!(z[1], 0.0);
        assert_eq!(z[2], 2.0);
        let back = s.inverse_transform_vec(&z);
        assert!((back - SVector::from([7.0, 30.0, 5.0])).norm() < 1e-14);
    }

    #[test]
    fn fit_on_train_applies_to_test() {
        let train = Dataset::<f32, 1, 1>::from_arrays(&[[0.0], [2.0]], &[[0.0], [0.0]]).unwrap();
        let mut test =
            Dataset::<f32, 1, 1>::from_arrays(&[[4.0], [-1.0]], &[[0.0], [0.0]]).unwrap();
        let s = Standardizer::fit(&train).unwrap();
        s.transform(&mut test).unwrap();
        assert_eq!(test.inputs()[0][0], 3.0);
        assert_eq!(test.inputs()[1][0], -2.0);
    }

    #[test]
    fn errors() {
        assert_eq!(
            Standardizer::fit(&Dataset::<f64, 2, 1>::empty()).unwrap_err(),
            DataError::Empty
        );
        // A single sample: every feature is constant.
        let one = Dataset::<f64, 2, 1>::from_arrays(&[[5.0, -1.0]], &[[0.0]]).unwrap();
        let s = Standardizer::fit(&one).unwrap();
        assert_eq!(s.std().as_slice(), &[1.0, 1.0]);
        // Overflowing statistics.
        let huge =
            Dataset::<f64, 1, 1>::from_arrays(&[[f64::MAX], [-f64::MAX], [f64::MAX]], &[[0.0]; 3])
                .unwrap();
        assert_eq!(
            Standardizer::fit(&huge).unwrap_err(),
            DataError::NonFiniteStatistics { component: 0 }
        );
        // f32 values whose spread underflows f32: treated as constant.
        let tiny = Dataset::<f32, 1, 1>::from_arrays(&[[0.0], [1e-45]], &[[0.0]; 2]).unwrap();
        let s = Standardizer::fit(&tiny).unwrap();
        assert!(s.std()[0] > 0.0);
        // Transform overflow leaves the data unchanged.
        let s =
            Standardizer::from_parts(SVector::from([0.0f32]), SVector::from([1e-30f32])).unwrap();
        let mut d = Dataset::<f32, 1, 1>::from_arrays(&[[1.0], [1e10]], &[[0.0]; 2]).unwrap();
        let before = d.clone();
        assert!(matches!(
            s.transform(&mut d).unwrap_err(),
            DataError::NonFinite {
                index: 1,
                part: Part::Input,
                component: 0,
                ..
            }
        ));
        assert_eq!(d, before);
        assert!(matches!(
            Standardizer::from_parts(SVector::from([0.0f32, 0.0]), SVector::from([1.0, 0.0])),
            Err(DataError::BadStd { component: 1, .. })
        ));
        assert!(matches!(
            Standardizer::from_parts(SVector::from([f32::NAN]), SVector::from([1.0])),
            Err(DataError::NonFiniteStatistics { component: 0 })
        ));
    }
}
