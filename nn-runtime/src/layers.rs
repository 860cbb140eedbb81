//! The parameter blocks a generated network is made of.
//!
//! A generated network has one public field per layer with parameters, named after the
//! layer (`hidden`) or its position (`layer0`); its gradients type has the same fields.

use crate::scalar::Scalar;
use nalgebra::{SMatrix, SVector};

/// A fully connected layer `y = W x + b`: `OUT` outputs, `IN` inputs.
///
/// Aligned to 64 bytes (a cache line), so the weight columns line up with the vector
/// loads of the kernels wherever the network lives: a misaligned 16x784 layer measured
/// 30% slower at batch 1, every 64-byte load then touching two cache lines.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct Dense<T: Scalar, const OUT: usize, const IN: usize> {
    /// The weight matrix, PyTorch's `Linear.weight` of shape `[OUT, IN]`.
    pub weight: SMatrix<T, OUT, IN>,
    /// The bias, PyTorch's `Linear.bias` of shape `[OUT]`.
    pub bias: SVector<T, OUT>,
}

impl<T: Scalar, const OUT: usize, const IN: usize> Dense<T, OUT, IN> {
    /// A layer with every parameter zero.
    pub fn zeros() -> Self {
        Self {
            weight: SMatrix::zeros(),
            bias: SVector::zeros(),
        }
    }
}

impl<T: Scalar, const OUT: usize, const IN: usize> Default for Dense<T, OUT, IN> {
    fn default() -> Self {
        Self::zeros()
    }
}

/// A fully connected layer without bias `y = W x` (`dense(N, bias = false)`), aligned to
/// 64 bytes as [`Dense`] is.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct DenseNoBias<T: Scalar, const OUT: usize, const IN: usize> {
    /// The weight matrix, PyTorch's `Linear.weight` of shape `[OUT, IN]`.
    pub weight: SMatrix<T, OUT, IN>,
}

impl<T: Scalar, const OUT: usize, const IN: usize> DenseNoBias<T, OUT, IN> {
    /// A layer with every parameter zero.
    pub fn zeros() -> Self {
        Self {
            weight: SMatrix::zeros(),
        }
    }
}

impl<T: Scalar, const OUT: usize, const IN: usize> Default for DenseNoBias<T, OUT, IN> {
    fn default() -> Self {
        Self::zeros()
    }
}

/// A PReLU activation's learnable slope (one for all channels, as PyTorch's default
/// `nn.PReLU()`), initialised to 0.25.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PRelu<T: Scalar> {
    /// The slope, PyTorch's `PReLU.weight` of shape `[1]`.
    pub weight: SVector<T, 1>,
}

impl<T: Scalar> PRelu<T> {
    /// PyTorch's initial slope.
    pub const INIT: f64 = 0.25;

    /// A slope of zero (as in a zeroed gradient).
    pub fn zeros() -> Self {
        Self {
            weight: SVector::zeros(),
        }
    }

    /// A slope of `0.25`, PyTorch's initial value.
    pub fn new() -> Self {
        Self {
            weight: SVector::from_element(<T as Scalar>::from_f64(Self::INIT)),
        }
    }

    /// The slope.
    pub fn slope(&self) -> T {
        self.weight[0]
    }
}

impl<T: Scalar> Default for PRelu<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_start_on_a_cache_line() {
        assert_eq!(core::mem::align_of::<Dense<f32, 16, 784>>(), 64);
        assert_eq!(core::mem::align_of::<DenseNoBias<f64, 3, 5>>(), 64);
        // Wherever a layer lives (heap, stack, inside a network), its weight matrix, the
        // first `repr(C)` field, starts on a 64-byte boundary.
        let boxed = Box::new(Dense::<f32, 16, 784>::zeros());
        assert_eq!(boxed.weight.as_ptr() as usize % 64, 0);
        let pair = (0u8, DenseNoBias::<f32, 3, 3>::zeros());
        assert_eq!(pair.1.weight.as_ptr() as usize % 64, 0);
    }
}
