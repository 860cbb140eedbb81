//! The scalar types a network can be built on: `f32` and `f64`.

use core::fmt::{Debug, Display};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The on-disk element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// 32-bit IEEE 754 float.
    F32,
    /// 64-bit IEEE 754 float.
    F64,
}

/// A floating-point scalar a network computes in: implemented for `f32` and `f64` only.
///
/// The trait is sealed. Every value whose bits are all zero is a valid `Scalar` equal to
/// `0.0`, which the heap constructors of generated networks rely on.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scalar type of `nn`: networks compute in `f32` or `f64`",
    label = "not `f32` or `f64`",
    note = "choose the scalar type with `Net::<f32>` (the default) or `Net::<f64>`"
)]
pub trait Scalar:
    nalgebra::RealField + Copy + Default + Debug + Display + Send + Sync + 'static + sealed::Sealed
{
    /// The element type of this scalar on disk.
    const DTYPE: Dtype;
    /// The machine epsilon of this type.
    const EPSILON: Self;
    /// The smallest positive normal value of this type (`f32::MIN_POSITIVE`,
    /// `f64::MIN_POSITIVE`): its reciprocal is finite.
    const MIN_POSITIVE: Self;
    /// Converts from `f64`, rounding to nearest.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact for both implementations).
    fn to_f64(self) -> f64;
    /// Converts from `usize`.
    fn from_usize(v: usize) -> Self {
        <Self as Scalar>::from_f64(v as f64)
    }
}

impl Scalar for f32 {
    const DTYPE: Dtype = Dtype::F32;
    const EPSILON: Self = f32::EPSILON;
    const MIN_POSITIVE: Self = f32::MIN_POSITIVE;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Scalar for f64 {
    const DTYPE: Dtype = Dtype::F64;
    const EPSILON: Self = f64::EPSILON;
    const MIN_POSITIVE: Self = f64::MIN_POSITIVE;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}
