//! Uniform access to the parameter tensors of a network (and of its gradients).
//!
//! Every generated network and every generated gradients type implements [`Parameters`]:
//! its tensors are numbered `0..TENSORS` in declaration order, each with a name, a
//! PyTorch shape and a kind. Optimizers, serialisation and gradient utilities are written
//! once against this trait.

use crate::scalar::Scalar;

/// What a parameter tensor is, for rules that treat kinds differently (weight decay).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorKind {
    /// A weight matrix of a dense layer.
    Weight,
    /// A bias vector.
    Bias,
    /// The learnable negative slope of a PReLU activation.
    PReluSlope,
    /// The learnable scale (γ, PyTorch's `weight`) of a normalisation layer: not decayed
    /// by default, as it multiplies a normalised value.
    NormScale,
}

impl TensorKind {
    /// Whether classic L2 regularisation (`dW += lambda W`) applies to this tensor by
    /// default: weights only, not biases or PReLU slopes.
    pub const fn decayed_by_default(self) -> bool {
        matches!(self, TensorKind::Weight)
    }
}

/// Static description of one parameter tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorInfo {
    /// The name PyTorch's `nn.Sequential` gives the tensor (`"0.weight"`, `"hidden.bias"`).
    pub name: &'static str,
    /// The shape as PyTorch stores it, row-major: `[out, in]` for a weight, `[out]` for a
    /// bias, `[1]` for a PReLU slope.
    pub shape: &'static [usize],
    /// What the tensor is.
    pub kind: TensorKind,
}

impl TensorInfo {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements (never true for a generated network).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fixed set of parameter tensors: a network or its gradients.
///
/// [`tensor`](Self::tensor) gives the storage in nalgebra's order, which is column-major:
/// a weight of PyTorch shape `[out, in]` is an `SMatrix<T, out, in>` whose element
/// `(o, i)` sits at `i * out + o`. Element-wise rules (optimizers, norms) need not care;
/// serialisation transposes.
pub trait Parameters {
    /// The scalar type of every tensor.
    type Scalar: Scalar;
    /// Number of tensors.
    const TENSORS: usize;
    /// Total number of scalars over all tensors.
    const PARAMS: usize;

    /// Describes tensor `index`.
    ///
    /// # Panics
    /// If `index >= Self::TENSORS`.
    fn tensor_info(index: usize) -> TensorInfo;

    /// The storage of tensor `index` (column-major, see the trait docs).
    ///
    /// # Panics
    /// If `index >= Self::TENSORS`.
    fn tensor(&self, index: usize) -> &[Self::Scalar];

    /// The mutable storage of tensor `index`.
    ///
    /// # Panics
    /// If `index >= Self::TENSORS`.
    fn tensor_mut(&mut self, index: usize) -> &mut [Self::Scalar];

    /// Sets every scalar to zero.
    fn fill_zero(&mut self) {
        self.fill(<Self::Scalar as Scalar>::from_f64(0.0));
    }

    /// Sets every scalar to `value`.
    fn fill(&mut self, value: Self::Scalar) {
        for t in 0..Self::TENSORS {
            self.tensor_mut(t).fill(value);
        }
    }

    /// Multiplies every scalar by `factor`.
    fn scale(&mut self, factor: Self::Scalar) {
        for t in 0..Self::TENSORS {
            for v in self.tensor_mut(t) {
                *v *= factor;
            }
        }
    }

    /// Adds `other` element-wise.
    fn add_assign(&mut self, other: &Self) {
        self.add_scaled(other, <Self::Scalar as Scalar>::from_f64(1.0));
    }

    /// Adds `factor * other` element-wise.
    fn add_scaled(&mut self, other: &Self, factor: Self::Scalar) {
        for t in 0..Self::TENSORS {
            for (a, &b) in self.tensor_mut(t).iter_mut().zip(other.tensor(t)) {
                *a += factor * b;
            }
        }
    }

    /// Copies every scalar of `other`.
    fn copy_from(&mut self, other: &Self) {
        for t in 0..Self::TENSORS {
            self.tensor_mut(t).copy_from_slice(other.tensor(t));
        }
    }

    /// Sum of squares of every scalar, accumulated in `f64`.
    fn squared_norm(&self) -> f64 {
        let mut s = 0.0f64;
        for t in 0..Self::TENSORS {
            for &v in self.tensor(t) {
                let v = v.to_f64();
                s += v * v;
            }
        }
        s
    }

    /// The Euclidean (L2) norm over every scalar, as `torch.nn.utils.clip_grad_norm_`
    /// computes it.
    fn norm(&self) -> f64 {
        self.squared_norm().sqrt()
    }

    /// The largest absolute value of any scalar (0 for no scalars).
    fn max_abs(&self) -> f64 {
        let mut m = 0.0f64;
        for t in 0..Self::TENSORS {
            for &v in self.tensor(t) {
                m = m.max(v.to_f64().abs());
            }
        }
        m
    }

    /// Whether every scalar is finite (no NaN, no infinity).
    fn is_finite(&self) -> bool {
        (0..Self::TENSORS).all(|t| self.tensor(t).iter().all(|v| v.to_f64().is_finite()))
    }

    /// Index of the tensor called `name`, if any.
    fn tensor_index(name: &str) -> Option<usize> {
        (0..Self::TENSORS).find(|&t| Self::tensor_info(t).name == name)
    }
}

/// A parameter set that is nothing but scalars, so that an all-zero bit pattern is a
/// valid value (every tensor zero). Lets [`boxed_zeroed`](Self::boxed_zeroed) build a
/// large network directly on the heap, never on the stack.
///
/// # Safety
/// Implementors must consist only of `Self::Scalar` values (for instance fields that are
/// nalgebra `SMatrix<T, R, C>` with `T: Scalar`, which are plain arrays of `T`), primitive
/// integers (buffers such as batch norm's `num_batches_tracked`), zero-sized marker fields
/// and padding: exactly what [`ZeroableField`] admits. `network!` implements it for what it
/// generates and proves at compile time that every field is a [`ZeroableField`].
pub unsafe trait ZeroableParameters: Parameters + Sized {
    /// A value with every scalar zero, allocated on the heap without a stack temporary.
    fn boxed_zeroed() -> Box<Self> {
        let b = Box::<Self>::new_zeroed();
        // SAFETY: by the trait's contract `Self` consists only of `Self::Scalar` values
        // (f32 or f64, see `Scalar`), primitive integers and zero-sized fields; the all-zero
        // bit pattern is a valid f32/f64 (+0.0) and a valid integer (0), so the zeroed
        // allocation is a valid, initialised `Self`.
        unsafe { b.assume_init() }
    }
}

/// A field type of a generated network for which the all-zero bit pattern is a valid value
/// (every scalar +0.0, every integer counter 0; padding bytes may hold anything). `network!`
/// checks that each field of what it generates implements it, which proves its
/// [`ZeroableParameters`] impl sound.
///
/// # Safety
/// Implementors must consist only of `f32`/`f64` values (through a `T: Scalar`), primitive
/// unsigned or signed integers (a buffer such as batch norm's `num_batches_tracked`, for
/// which all-zero bits are the value 0), zero-sized fields and padding: no references,
/// pointers, `bool`s, `char`s, enums or `NonZero` types.
pub unsafe trait ZeroableField {}

// SAFETY: `Dense` is `repr(C)` over an `SMatrix<T, OUT, IN>` and an `SVector<T, OUT>`
// (nalgebra `ArrayStorage`: plain arrays of `T`) plus padding up to its 64-byte alignment;
// `T: Scalar` is f32 or f64.
unsafe impl<T: Scalar, const OUT: usize, const IN: usize> ZeroableField
    for crate::layers::Dense<T, OUT, IN>
{
}
// SAFETY: as `Dense`, with only the weight matrix.
unsafe impl<T: Scalar, const OUT: usize, const IN: usize> ZeroableField
    for crate::layers::DenseNoBias<T, OUT, IN>
{
}
// SAFETY: `PRelu` holds one `SVector<T, 1>`, a plain array of one `T`.
unsafe impl<T: Scalar> ZeroableField for crate::layers::PRelu<T> {}
// SAFETY: zero-sized.
unsafe impl<T: Scalar> ZeroableField for core::marker::PhantomData<T> {}
// SAFETY: `BatchNorm` holds four `SVector<T, N>` (nalgebra `ArrayStorage`: plain arrays of
// `T`, f32 or f64, for which all-zero bits are +0.0) and one `u64` (all-zero bits are 0),
// plus padding; its hyper-parameters are const generics, not fields. No field has a niche
// or an invalid bit pattern, so the zeroed value is a valid `BatchNorm` (every tensor 0,
// `num_batches_tracked` 0).
unsafe impl<T: Scalar, const N: usize, const EPS: u64, const MOMENTUM: u64> ZeroableField
    for crate::layer::BatchNorm<T, N, EPS, MOMENTUM>
{
}
// SAFETY: `BatchNormGrads` holds two `SVector<T, N>`, plain arrays of f32/f64 values.
unsafe impl<T: Scalar, const N: usize> ZeroableField for crate::layer::BatchNormGrads<T, N> {}
// SAFETY: `BatchNormTape` holds three `SVector<T, N>`, plain arrays of f32/f64 values, and a
// zero-sized `PhantomData<[(); B]>`.
unsafe impl<T: Scalar, const N: usize, const B: usize> ZeroableField
    for crate::layer::BatchNormTape<T, N, B>
{
}
// SAFETY: `LayerNorm` holds two `SVector<T, N>`, plain arrays of f32/f64 values; `EPS` is a
// const generic, not a field.
unsafe impl<T: Scalar, const N: usize, const EPS: u64> ZeroableField
    for crate::layer::LayerNorm<T, N, EPS>
{
}
// SAFETY: `LayerNormTape` holds two `SVector<T, B>`, plain arrays of f32/f64 values.
unsafe impl<T: Scalar, const B: usize> ZeroableField for crate::layer::LayerNormTape<T, B> {}

// SAFETY: `Residual` is `repr(C)` over its one field, the body, which is a `ZeroableField`.
unsafe impl<L: ZeroableField> ZeroableField for crate::layer::Residual<L> {}
// SAFETY: `ResidualProject` is `repr(C)` over the body (a `ZeroableField`) and a
// `DenseNoBias` (a `ZeroableField`, above), plus padding.
unsafe impl<T: Scalar, L: ZeroableField, const IN: usize, const OUT: usize> ZeroableField
    for crate::layer::ResidualProject<T, L, IN, OUT>
{
}

// SAFETY: `DropoutStream` is two `u64`s, for which all-zero bits are the value 0.
unsafe impl ZeroableField for crate::layer::DropoutStream {}

/// A zero matrix allocated directly on the heap, never on the stack (for batch buffers of
/// large layers).
pub fn boxed_zero_matrix<T: Scalar, const R: usize, const C: usize>(
) -> Box<nalgebra::SMatrix<T, R, C>> {
    let b = Box::<nalgebra::SMatrix<T, R, C>>::new_zeroed();
    // SAFETY: `SMatrix<T, R, C>` is nalgebra's `ArrayStorage<T, R, C>`, a plain
    // `[[T; R]; C]` array (plus zero-sized markers); `T: Scalar` is f32 or f64, for which
    // the all-zero bit pattern is the valid value +0.0.
    unsafe { b.assume_init() }
}
