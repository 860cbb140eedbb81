//! # nn — neural networks checked by the compiler
//!
//! Declare a network with [`network!`]; the macro expands it into a struct of nalgebra
//! fixed-size matrices with straight-line forward and backward code. A wrong dimension is
//! a compile error, and no heap allocation happens in the hot path.
//!
//! ```
//! # use nn_runtime as nn;
//! use nn::prelude::*;
//!
//! nn::network! {
//!     /// The two-layer quadrant classifier.
//!     #[derive(Clone, Debug, PartialEq)]
//!     pub struct Quadrants {
//!         input: 2,
//!         dense(50), relu,
//!         dense(4), softmax,
//!     }
//! }
//!
//! let net = Quadrants::<f64>::seeded(1);
//! let p: SVector<f64, 4> = net.forward(&SVector::<f64, 2>::new(1.0, -1.0));
//! assert!((p.sum() - 1.0).abs() < 1e-12);
//! ```
//!
//! The crate is meant to be depended on as `nn = { package = "nn-runtime", ... }`; the
//! generated code works under that name, under `nn_runtime`, and with nothing imported.
#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

// Lets the generated code name this crate as `::nn_runtime` inside its own tests.
#[allow(unused_extern_crates)]
extern crate self as nn_runtime;

pub use nalgebra;
pub use rand;
pub use rand_chacha;

pub use nalgebra::{SMatrix, SVector};
#[doc = include_str!("network_macro.md")]
pub use nn_macros::network;

pub mod activation;
pub mod data;
pub mod gradcheck;
pub mod init;
pub mod io;
pub mod kernels;
pub mod layer;
pub mod layers;
pub mod loss;
pub mod network;
pub mod optim;
pub mod params;
pub mod scalar;
pub mod schedule;
pub mod train;

pub use io::{LoadError, SaveError};
pub use layer::Layer;
pub use network::{Network, Trainable};
pub use params::{Parameters, TensorInfo, TensorKind};
pub use scalar::{Dtype, Scalar};

/// Everything a user of the library usually needs, in one import.
pub mod prelude {
    pub use crate::data::Dataset;
    pub use crate::loss::{BinaryCrossEntropy, CrossEntropy, Loss, Mae, Mse};
    pub use crate::network;
    pub use crate::network::{Network, Trainable};
    pub use crate::optim::{AdaBound, Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};
    pub use crate::params::Parameters;
    pub use crate::scalar::Scalar;
    pub use crate::schedule::LrSchedule;
    pub use crate::train::Trainer;
    pub use nalgebra::{SMatrix, SVector};
}

/// Items the generated code calls. Not part of the public API: they may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::activation;
    pub use crate::init;
    pub use crate::io;
    pub use crate::kernels;
    pub use crate::layer;
    pub use crate::layers;
    pub use crate::loss::Loss;
    pub use crate::network::{Network, Trainable};
    pub use crate::params::{
        Parameters, TensorInfo, TensorKind, ZeroableField, ZeroableParameters,
    };
    pub use crate::scalar::Scalar;
    pub use ::core;
    pub use ::nalgebra::{SMatrix, SVector};
    pub use ::rand;
    pub use ::std::boxed::Box;
}
