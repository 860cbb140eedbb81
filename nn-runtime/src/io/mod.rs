//! Saving and loading parameters as safetensors, named as PyTorch names them.
//!
//! Every [`Parameters`] type (every network the macro generates, and its gradients) can
//! be written to and read from the [safetensors] format. Tensor names and shapes are the
//! ones PyTorch's `nn.Sequential` uses (`"0.weight"` of shape `[out, in]`, `"0.bias"` of
//! shape `[out]`, a PReLU slope `"1.weight"` of shape `[1]`), and the data is row-major as
//! PyTorch stores it, so a `state_dict` saved with `safetensors.torch.save_file` loads
//! directly, and a file saved here loads with `safetensors.torch.load_file` +
//! `load_state_dict`.
//!
//! - [`to_safetensors_bytes`] / [`save_safetensors`] write `F32` or `F64` data, whatever
//!   the scalar type of the network, with the header metadata `{"format": "pt"}` that
//!   torch writes.
//! - [`load_safetensors_bytes`] / [`load_safetensors`] read `F32` or `F64` data into a
//!   network of either scalar type. They check everything (names, shapes, dtypes, finite
//!   values) before changing anything: on error the parameters are untouched and the
//!   [`LoadError`] names the offending tensor. No input bytes make them panic.
//!
//! Any type implementing [`Parameters`] works; here is one written by hand, equivalent
//! to `nn.Sequential(nn.Linear(3, 2))`:
//!
//! ```
//! use nn_runtime::io::{load_safetensors_bytes, to_safetensors_bytes};
//! use nn_runtime::scalar::Dtype;
//! use nn_runtime::{Parameters, SMatrix, SVector, TensorInfo, TensorKind};
//!
//! struct Linear {
//!     weight: SMatrix<f32, 2, 3>, // PyTorch shape [out = 2, in = 3]
//!     bias: SVector<f32, 2>,
//! }
//!
//! impl Parameters for Linear {
//!     type Scalar = f32;
//!     const TENSORS: usize = 2;
//!     const PARAMS: usize = 8;
//!     fn tensor_info(i: usize) -> TensorInfo {
//!         const INFO: [TensorInfo; 2] = [
//!             TensorInfo { name: "0.weight", shape: &[2, 3], kind: TensorKind::Weight },
//!             TensorInfo { name: "0.bias", shape: &[2], kind: TensorKind::Bias },
//!         ];
//!         INFO[i]
//!     }
//!     fn tensor(&self, i: usize) -> &[f32] {
//!         [self.weight.as_slice(), self.bias.as_slice()][i]
//!     }
//!     fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
//!         match i {
//!             0 => self.weight.as_mut_slice(),
//!             1 => self.bias.as_mut_slice(),
//!             _ => panic!("no tensor {i}"),
//!         }
//!     }
//! }
//!
//! let a = Linear {
//!     weight: SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
//!     bias: SVector::<f32, 2>::new(0.5, -0.5),
//! };
//! let bytes = to_safetensors_bytes(&a, Dtype::F64)?;
//!
//! let mut b = Linear { weight: SMatrix::zeros(), bias: SVector::zeros() };
//! load_safetensors_bytes(&mut b, &bytes)?;
//! assert_eq!(b.weight, a.weight);
//! assert_eq!(b.bias, a.bias);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Metadata, TensorView};
use safetensors::{SafeTensorError, SafeTensors, View};

use crate::params::Parameters;
use crate::scalar::{Dtype, Scalar};

/// The `safetensors` crate this module is built on, for naming
/// [`safetensors::SafeTensorError`] and [`safetensors::Dtype`] in the errors.
pub use safetensors;

#[cfg(test)]
mod tests;

/// Why parameters could not be saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The file could not be written.
    #[error("cannot write safetensors file `{}`: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A scalar is NaN or infinite. Such a file could not be loaded back.
    #[error("tensor `{name}` holds a non-finite value ({value:?}) at {position:?}")]
    NonFinite {
        /// The tensor's name.
        name: String,
        /// The element's index in the PyTorch shape (`[row, col]` for a weight).
        position: Vec<usize>,
        /// The value.
        value: f64,
    },
    /// A finite scalar is too large for the requested on-disk dtype (an `f64` beyond the
    /// range of `f32`, saved as [`Dtype::F32`]).
    #[error("tensor `{name}` holds {value:?} at {position:?}, which does not fit in {dtype:?}")]
    OutOfRange {
        /// The tensor's name.
        name: String,
        /// The element's index in the PyTorch shape (`[row, col]` for a weight).
        position: Vec<usize>,
        /// The value.
        value: f64,
        /// The requested on-disk dtype.
        dtype: Dtype,
    },
    /// Two tensors of the parameters have the same name (a bug in a hand-written
    /// [`Parameters`] implementation).
    #[error("two tensors are named `{name}`: the Parameters implementation is inconsistent")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// A tensor's storage does not hold as many scalars as its shape says (a bug in a
    /// hand-written [`Parameters`] implementation).
    #[error(
        "tensor `{name}` has shape {shape:?} but its storage holds {len} scalars: \
         the Parameters implementation is inconsistent"
    )]
    StorageMismatch {
        /// The tensor's name.
        name: String,
        /// The shape from [`Parameters::tensor_info`].
        shape: Vec<usize>,
        /// The length of the storage slice.
        len: usize,
    },
    /// The safetensors serialiser refused the data.
    #[error("cannot serialise safetensors data: {0}")]
    Serialize(#[source] SafeTensorError),
}

/// Why parameters could not be loaded. When loading fails the parameters are unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read safetensors file `{}`: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (bad header, bad offsets, truncated...).
    #[error("malformed safetensors data: {0}")]
    Malformed(#[source] SafeTensorError),
    /// The network has a tensor the file lacks.
    #[error("tensor `{name}` is missing from the safetensors data")]
    MissingTensor {
        /// The tensor's name.
        name: String,
    },
    /// The file has a tensor the network lacks.
    #[error(
        "unexpected tensor `{name}` in the safetensors data: the network has no parameter \
         of that name"
    )]
    UnexpectedTensor {
        /// The tensor's name.
        name: String,
    },
    /// A tensor has a different shape in the file than in the network.
    #[error(
        "tensor `{name}` has shape {found:?} in the safetensors data, but the network \
         expects {expected:?}"
    )]
    ShapeMismatch {
        /// The tensor's name.
        name: String,
        /// The shape the network has (PyTorch order: `[out, in]` for a weight).
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor is stored in a dtype other than `F32` or `F64`.
    #[error("tensor `{name}` has dtype {dtype}; only F32 and F64 can be loaded")]
    UnsupportedDtype {
        /// The tensor's name.
        name: String,
        /// Its dtype in the file.
        dtype: safetensors::Dtype,
    },
    /// A tensor holds NaN or an infinity.
    #[error("tensor `{name}` holds a non-finite value ({value:?}) at {position:?}")]
    NonFinite {
        /// The tensor's name.
        name: String,
        /// The element's index in the PyTorch shape (`[row, col]` for a weight).
        position: Vec<usize>,
        /// The value.
        value: f64,
    },
    /// A finite `F64` value is too large for a network whose scalar is `f32`.
    #[error("tensor `{name}` holds {value:?} at {position:?}, which does not fit in {scalar:?}")]
    OutOfRange {
        /// The tensor's name.
        name: String,
        /// The element's index in the PyTorch shape (`[row, col]` for a weight).
        position: Vec<usize>,
        /// The value.
        value: f64,
        /// The scalar type of the network.
        scalar: Dtype,
    },
    /// A tensor's storage does not hold as many scalars as its shape says (a bug in a
    /// hand-written [`Parameters`] implementation).
    #[error(
        "tensor `{name}` has shape {shape:?} but its storage holds {len} scalars: \
         the Parameters implementation is inconsistent"
    )]
    StorageMismatch {
        /// The tensor's name.
        name: String,
        /// The shape from [`Parameters::tensor_info`].
        shape: Vec<usize>,
        /// The length of the storage slice.
        len: usize,
    },
}

impl From<SafeTensorError> for LoadError {
    fn from(e: SafeTensorError) -> Self {
        LoadError::Malformed(e)
    }
}

/// Serialises the parameters to safetensors bytes, each tensor stored as `dtype`.
///
/// Tensor names and shapes come from [`Parameters::tensor_info`]; 2-D tensors are
/// transposed from nalgebra's column-major storage to PyTorch's row-major layout. The
/// header carries the metadata `{"format": "pt"}`, as `safetensors.torch.save_file`
/// writes it.
///
/// # Errors
/// [`SaveError::NonFinite`] if a scalar is NaN or infinite, [`SaveError::OutOfRange`] if
/// an `f64` does not fit in `f32` when saving as [`Dtype::F32`], and
/// [`SaveError::DuplicateName`] / [`SaveError::StorageMismatch`] for an inconsistent
/// hand-written [`Parameters`] implementation.
///
/// # Example
/// ```
/// # use nn_runtime::{Parameters, SMatrix, SVector, TensorInfo, TensorKind};
/// # struct Linear { weight: SMatrix<f32, 2, 3>, bias: SVector<f32, 2> }
/// # impl Parameters for Linear {
/// #     type Scalar = f32;
/// #     const TENSORS: usize = 2;
/// #     const PARAMS: usize = 8;
/// #     fn tensor_info(i: usize) -> TensorInfo {
/// #         [TensorInfo { name: "0.weight", shape: &[2, 3], kind: TensorKind::Weight },
/// #          TensorInfo { name: "0.bias", shape: &[2], kind: TensorKind::Bias }][i]
/// #     }
/// #     fn tensor(&self, i: usize) -> &[f32] { [self.weight.as_slice(), self.bias.as_slice()][i] }
/// #     fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
/// #         if i == 0 { self.weight.as_mut_slice() } else { self.bias.as_mut_slice() }
/// #     }
/// # }
/// use nn_runtime::io::to_safetensors_bytes;
/// use nn_runtime::scalar::Dtype;
/// use nn_runtime::io::safetensors::SafeTensors;
///
/// // `Linear` is `nn.Linear(3, 2)`: a weight of PyTorch shape [2, 3] and a bias [2].
/// let net = Linear {
///     weight: SMatrix::<f32, 2, 3>::new(
///         1.0, 2.0, 3.0, //
///         4.0, 5.0, 6.0,
///     ),
///     bias: SVector::<f32, 2>::new(0.5, -0.5),
/// };
/// let bytes = to_safetensors_bytes(&net, Dtype::F32)?;
///
/// let file = SafeTensors::deserialize(&bytes)?;
/// let w = file.tensor("0.weight")?;
/// assert_eq!(w.shape(), &[2, 3]);
/// // Row-major on disk: the second element is row 0, column 1.
/// assert_eq!(&w.data()[4..8], &2.0f32.to_le_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_safetensors_bytes<P: Parameters>(p: &P, dtype: Dtype) -> Result<Vec<u8>, SaveError> {
    let tensors = encode_all(p, dtype, "")?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(tensors, Some(metadata)).map_err(SaveError::Serialize)
}

/// Saves the parameters to a safetensors file at `path`, each tensor stored as `dtype`.
///
/// The file is what [`to_safetensors_bytes`] returns. It is written to a temporary file
/// next to `path` and then renamed over it, so an existing file is replaced whole or not
/// at all.
///
/// # Errors
/// [`SaveError::Io`] (with the path) if the file cannot be written, and the errors of
/// [`to_safetensors_bytes`].
///
/// # Example
/// ```
/// # use nn_runtime::{Parameters, SMatrix, SVector, TensorInfo, TensorKind};
/// # struct Linear { weight: SMatrix<f32, 2, 3>, bias: SVector<f32, 2> }
/// # impl Parameters for Linear {
/// #     type Scalar = f32;
/// #     const TENSORS: usize = 2;
/// #     const PARAMS: usize = 8;
/// #     fn tensor_info(i: usize) -> TensorInfo {
/// #         [TensorInfo { name: "0.weight", shape: &[2, 3], kind: TensorKind::Weight },
/// #          TensorInfo { name: "0.bias", shape: &[2], kind: TensorKind::Bias }][i]
/// #     }
/// #     fn tensor(&self, i: usize) -> &[f32] { [self.weight.as_slice(), self.bias.as_slice()][i] }
/// #     fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
/// #         if i == 0 { self.weight.as_mut_slice() } else { self.bias.as_mut_slice() }
/// #     }
/// # }
/// use nn_runtime::io::{load_safetensors, save_safetensors};
/// use nn_runtime::scalar::Dtype;
///
/// let net = Linear {
///     weight: SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
///     bias: SVector::<f32, 2>::new(0.5, -0.5),
/// };
/// let path = std::env::temp_dir().join(format!("nn-doc-save-{}.safetensors", std::process::id()));
/// save_safetensors(&net, &path, Dtype::F32)?;
///
/// let mut copy = Linear { weight: SMatrix::zeros(), bias: SVector::zeros() };
/// load_safetensors(&mut copy, &path)?;
/// assert_eq!(copy.weight, net.weight);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_safetensors<P: Parameters>(
    p: &P,
    path: impl AsRef<Path>,
    dtype: Dtype,
) -> Result<(), SaveError> {
    let path = path.as_ref();
    let bytes = to_safetensors_bytes(p, dtype)?;
    write_replacing(path, &bytes).map_err(|source| SaveError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads parameters from safetensors bytes into `p`.
///
/// The data must hold exactly the tensors of `p`, by name, with their PyTorch shapes, as
/// `F32` or `F64` (either, whatever `P::Scalar` is; `F64` data is rounded to nearest for
/// an `f32` network). 2-D tensors are transposed from PyTorch's row-major layout to
/// nalgebra's column-major storage. The header metadata is ignored.
///
/// Everything is checked before anything is written: on error `p` is unchanged.
/// Problems with a network tensor are reported in the network's tensor order (missing,
/// then dtype, then shape), then unexpected extra tensors (the first by name), then
/// non-finite values. No input makes this function panic.
///
/// # Errors
/// [`LoadError::Malformed`] for bytes that are not safetensors,
/// [`LoadError::MissingTensor`], [`LoadError::UnexpectedTensor`],
/// [`LoadError::UnsupportedDtype`], [`LoadError::ShapeMismatch`],
/// [`LoadError::NonFinite`], [`LoadError::OutOfRange`] (an `F64` value beyond the range of
/// an `f32` network), and [`LoadError::StorageMismatch`] for an inconsistent hand-written
/// [`Parameters`] implementation.
///
/// # Example
/// ```
/// # use nn_runtime::{Parameters, SMatrix, SVector, TensorInfo, TensorKind};
/// # struct Linear { weight: SMatrix<f64, 2, 3>, bias: SVector<f64, 2> }
/// # impl Parameters for Linear {
/// #     type Scalar = f64;
/// #     const TENSORS: usize = 2;
/// #     const PARAMS: usize = 8;
/// #     fn tensor_info(i: usize) -> TensorInfo {
/// #         [TensorInfo { name: "0.weight", shape: &[2, 3], kind: TensorKind::Weight },
/// #          TensorInfo { name: "0.bias", shape: &[2], kind: TensorKind::Bias }][i]
/// #     }
/// #     fn tensor(&self, i: usize) -> &[f64] { [self.weight.as_slice(), self.bias.as_slice()][i] }
/// #     fn tensor_mut(&mut self, i: usize) -> &mut [f64] {
/// #         if i == 0 { self.weight.as_mut_slice() } else { self.bias.as_mut_slice() }
/// #     }
/// # }
/// use nn_runtime::io::safetensors::{serialize, tensor::TensorView, Dtype as StDtype};
/// use nn_runtime::io::{load_safetensors_bytes, LoadError};
///
/// // A PyTorch-style file: `nn.Linear(3, 2)` in f32, weight rows [1 2 3] and [4 5 6].
/// let w: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let b: Vec<u8> = [0.5f32, -0.5].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let bytes = serialize(
///     [
///         ("0.weight", TensorView::new(StDtype::F32, vec![2, 3], &w)?),
///         ("0.bias", TensorView::new(StDtype::F32, vec![2], &b)?),
///     ],
///     None,
/// )?;
///
/// // Loads into an f64 network; element (row 1, column 0) is 4.
/// let mut net = Linear { weight: SMatrix::zeros(), bias: SVector::zeros() };
/// load_safetensors_bytes(&mut net, &bytes)?;
/// assert_eq!(net.weight[(1, 0)], 4.0);
/// assert_eq!(net.bias[1], -0.5);
///
/// // Garbage is an error, and leaves the network as it was.
/// let err = load_safetensors_bytes(&mut net, b"not a safetensors file").unwrap_err();
/// assert!(matches!(err, LoadError::Malformed(_)));
/// assert_eq!(net.weight[(1, 0)], 4.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_safetensors_bytes<P: Parameters>(p: &mut P, bytes: &[u8]) -> Result<(), LoadError> {
    let file = deserialize(bytes)?;
    let views = tensor_views(p, &file, "")?;

    // No tensor the network lacks.
    let mut extra: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| P::tensor_index(n).is_none())
        .collect();
    extra.sort_unstable();
    if let Some(name) = extra.first() {
        return Err(LoadError::UnexpectedTensor {
            name: (*name).into(),
        });
    }

    check_values::<P>(&views, "")?;
    write_values(p, &views);
    Ok(())
}

/// Parses safetensors bytes, rejecting offsets that would overflow the crate's checks.
pub(crate) fn deserialize(bytes: &[u8]) -> Result<SafeTensors<'_>, LoadError> {
    guard_data_offsets(bytes)?;
    Ok(SafeTensors::deserialize(bytes)?)
}

/// The views of `p`'s tensors in `file`, each named `prefix` + its name: every tensor
/// present, with a supported dtype and its shape (errors name the tensor with its
/// prefix). Values are not looked at.
pub(crate) fn tensor_views<'a, P: Parameters>(
    p: &P,
    file: &SafeTensors<'a>,
    prefix: &str,
) -> Result<Vec<TensorView<'a>>, LoadError> {
    let mut views: Vec<TensorView<'a>> = Vec::with_capacity(P::TENSORS);
    for t in 0..P::TENSORS {
        let info = P::tensor_info(t);
        let full = format!("{prefix}{}", info.name);
        let name = full.as_str();
        let view = match file.tensor(name) {
            Ok(view) => view,
            Err(SafeTensorError::TensorNotFound(_)) => {
                return Err(LoadError::MissingTensor { name: name.into() })
            }
            Err(e) => return Err(LoadError::Malformed(e)),
        };
        if disk_dtype(view.dtype()).is_none() {
            return Err(LoadError::UnsupportedDtype {
                name: name.into(),
                dtype: view.dtype(),
            });
        }
        if view.shape() != info.shape {
            return Err(LoadError::ShapeMismatch {
                name: name.into(),
                expected: info.shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        let len = p.tensor(t).len();
        if shape_len(info.shape) != Some(len) {
            return Err(LoadError::StorageMismatch {
                name: name.into(),
                shape: info.shape.to_vec(),
                len,
            });
        }
        views.push(view);
    }
    Ok(views)
}

/// Checks the values of views from [`tensor_views`]: finite, and representable in the
/// scalar type of `P`.
pub(crate) fn check_values<P: Parameters>(
    views: &[TensorView<'_>],
    prefix: &str,
) -> Result<(), LoadError> {
    for (t, view) in views.iter().enumerate() {
        let info = P::tensor_info(t);
        for (flat, value) in disk_values(view).enumerate() {
            if !value.is_finite() {
                return Err(LoadError::NonFinite {
                    name: format!("{prefix}{}", info.name),
                    position: unravel(info.shape, flat),
                    value,
                });
            }
            if !<P::Scalar as Scalar>::from_f64(value).to_f64().is_finite() {
                return Err(LoadError::OutOfRange {
                    name: format!("{prefix}{}", info.name),
                    position: unravel(info.shape, flat),
                    value,
                    scalar: P::Scalar::DTYPE,
                });
            }
        }
    }
    Ok(())
}

/// Writes views checked by [`tensor_views`] and [`check_values`] into `p`.
pub(crate) fn write_values<P: Parameters>(p: &mut P, views: &[TensorView<'_>]) {
    for (t, view) in views.iter().enumerate() {
        let shape = P::tensor_info(t).shape;
        let storage = p.tensor_mut(t);
        for (flat, value) in disk_values(view).enumerate() {
            if let Some(slot) = storage.get_mut(storage_index(shape, flat)) {
                *slot = <P::Scalar as Scalar>::from_f64(value);
            }
        }
    }
}

/// Loads parameters from the safetensors file at `path` into `p`.
///
/// Reads the whole file, then behaves as [`load_safetensors_bytes`]: on error `p` is
/// unchanged.
///
/// # Errors
/// [`LoadError::Io`] (with the path) if the file cannot be read, and the errors of
/// [`load_safetensors_bytes`].
///
/// # Example
/// ```
/// # use nn_runtime::{Parameters, SMatrix, SVector, TensorInfo, TensorKind};
/// # struct Linear { weight: SMatrix<f32, 2, 3>, bias: SVector<f32, 2> }
/// # impl Parameters for Linear {
/// #     type Scalar = f32;
/// #     const TENSORS: usize = 2;
/// #     const PARAMS: usize = 8;
/// #     fn tensor_info(i: usize) -> TensorInfo {
/// #         [TensorInfo { name: "0.weight", shape: &[2, 3], kind: TensorKind::Weight },
/// #          TensorInfo { name: "0.bias", shape: &[2], kind: TensorKind::Bias }][i]
/// #     }
/// #     fn tensor(&self, i: usize) -> &[f32] { [self.weight.as_slice(), self.bias.as_slice()][i] }
/// #     fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
/// #         if i == 0 { self.weight.as_mut_slice() } else { self.bias.as_mut_slice() }
/// #     }
/// # }
/// use nn_runtime::io::{load_safetensors, save_safetensors, LoadError};
/// use nn_runtime::scalar::Dtype;
///
/// let dir = std::env::temp_dir();
/// let path = dir.join(format!("nn-doc-load-{}.safetensors", std::process::id()));
/// let net = Linear {
///     weight: SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
///     bias: SVector::<f32, 2>::new(0.5, -0.5),
/// };
/// save_safetensors(&net, &path, Dtype::F64)?;
///
/// let mut copy = Linear { weight: SMatrix::zeros(), bias: SVector::zeros() };
/// load_safetensors(&mut copy, &path)?;
/// assert_eq!(copy.weight[(0, 2)], 3.0);
///
/// // A missing file is an I/O error that names it.
/// let missing = dir.join("nn-doc-no-such-file.safetensors");
/// let err = load_safetensors(&mut copy, &missing).unwrap_err();
/// assert!(matches!(err, LoadError::Io { ref path, .. } if *path == missing));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_safetensors<P: Parameters>(p: &mut P, path: impl AsRef<Path>) -> Result<(), LoadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_safetensors_bytes(p, &bytes)
}

/// One tensor ready to serialise, owning its little-endian bytes.
pub(crate) struct Encoded {
    pub(crate) dtype: safetensors::Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<u8>,
}

impl View for Encoded {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Every tensor of `p` as `dtype`, named `prefix` + its name, in tensor order.
pub(crate) fn encode_all<P: Parameters>(
    p: &P,
    dtype: Dtype,
    prefix: &str,
) -> Result<Vec<(String, Encoded)>, SaveError> {
    let mut names = HashSet::with_capacity(P::TENSORS);
    let mut out = Vec::with_capacity(P::TENSORS);
    for t in 0..P::TENSORS {
        let info = P::tensor_info(t);
        if !names.insert(info.name) {
            return Err(SaveError::DuplicateName {
                name: info.name.into(),
            });
        }
        let storage = p.tensor(t);
        let Some(len) = shape_len(info.shape).filter(|&n| n == storage.len()) else {
            return Err(SaveError::StorageMismatch {
                name: info.name.into(),
                shape: info.shape.to_vec(),
                len: storage.len(),
            });
        };
        let mut data = Vec::with_capacity(len * element_bytes(dtype));
        for flat in 0..len {
            let value = storage
                .get(storage_index(info.shape, flat))
                .map_or(f64::NAN, |v| v.to_f64());
            if !value.is_finite() {
                return Err(SaveError::NonFinite {
                    name: info.name.into(),
                    position: unravel(info.shape, flat),
                    value,
                });
            }
            match dtype {
                Dtype::F32 => {
                    let v = value as f32;
                    if !v.is_finite() {
                        return Err(SaveError::OutOfRange {
                            name: info.name.into(),
                            position: unravel(info.shape, flat),
                            value,
                            dtype,
                        });
                    }
                    data.extend_from_slice(&v.to_le_bytes());
                }
                Dtype::F64 => data.extend_from_slice(&value.to_le_bytes()),
            }
        }
        out.push((
            format!("{prefix}{}", info.name),
            Encoded {
                dtype: st_dtype(dtype),
                shape: info.shape.to_vec(),
                data,
            },
        ));
    }
    Ok(out)
}

/// The safetensors dtype for an on-disk [`Dtype`].
fn st_dtype(dtype: Dtype) -> safetensors::Dtype {
    match dtype {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F64 => safetensors::Dtype::F64,
    }
}

/// The [`Dtype`] of a safetensors dtype, if it is one this module reads.
fn disk_dtype(dtype: safetensors::Dtype) -> Option<Dtype> {
    match dtype {
        safetensors::Dtype::F32 => Some(Dtype::F32),
        safetensors::Dtype::F64 => Some(Dtype::F64),
        _ => None,
    }
}

fn element_bytes(dtype: Dtype) -> usize {
    match dtype {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
    }
}

/// The values of a tensor of a supported dtype, as `f64`, in on-disk (row-major) order.
/// Yields nothing for any other dtype.
fn disk_values<'a>(view: &'a TensorView<'_>) -> impl Iterator<Item = f64> + 'a {
    let dtype = disk_dtype(view.dtype());
    let data: &[u8] = if dtype.is_some() { view.data() } else { &[] };
    data.chunks_exact(dtype.map_or(1, element_bytes))
        .map(move |c| match dtype {
            Some(Dtype::F32) => c
                .try_into()
                .map_or(f64::NAN, |b| f32::from_le_bytes(b) as f64),
            _ => c.try_into().map_or(f64::NAN, f64::from_le_bytes),
        })
}

/// Number of elements of `shape`, or `None` on overflow.
fn shape_len(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Where the element at row-major position `flat` of a tensor of PyTorch shape `shape`
/// sits in nalgebra's column-major storage: `(o, i)` of an `[out, in]` matrix is at
/// `o * in + i` on disk and at `i * out + o` in memory. Tensors of any other rank are
/// stored in the same order on disk and in memory.
fn storage_index(shape: &[usize], flat: usize) -> usize {
    match *shape {
        [rows, cols] if cols > 0 => (flat % cols) * rows + flat / cols,
        _ => flat,
    }
}

/// The multi-index, in `shape`, of row-major position `flat`.
fn unravel(shape: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        if dim > 0 {
            *slot = flat % dim;
            flat /= dim;
        }
    }
    index
}

/// `SafeTensors::deserialize` (safetensors 0.8) checks that the data section ends
/// exactly at the end of the buffer with an unchecked `data_len + 8 + header_len`; a
/// header whose offsets add up to nearly `usize::MAX` overflows there, which panics
/// when overflow checks are on (debug builds). This repeats the header parse and rejects
/// such data first. Anything it cannot parse is left to `deserialize` to report.
fn guard_data_offsets(bytes: &[u8]) -> Result<(), LoadError> {
    /// The largest header `SafeTensors` accepts.
    const MAX_HEADER_SIZE: usize = 100_000_000;
    let Some(Ok(len_bytes)) = bytes.get(..8).map(<[u8; 8]>::try_from) else {
        return Ok(());
    };
    let Ok(header_len) = usize::try_from(u64::from_le_bytes(len_bytes)) else {
        return Ok(());
    };
    if header_len > MAX_HEADER_SIZE {
        return Ok(());
    }
    let header_end = 8 + header_len;
    let Some(header) = bytes.get(8..header_end) else {
        return Ok(());
    };
    let Ok(text) = std::str::from_utf8(header) else {
        return Ok(());
    };
    let Ok(metadata) = serde_json::from_str::<Metadata>(text) else {
        return Ok(());
    };
    if metadata.data_len() != bytes.len() - header_end {
        return Err(LoadError::Malformed(
            SafeTensorError::MetadataIncompleteBuffer,
        ));
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary sibling file, flushed to disk, then
/// renamed over it.
pub(crate) fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    // Unique per process and per call, so concurrent saves never share a temporary.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tmp_name.push(format!(".{}-{n}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        // On disk before the rename makes it visible: after a crash the path holds the
        // old file or the whole new one.
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    let result = write();
    if result.is_err() {
        // Best effort: the temporary file may not even exist.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
