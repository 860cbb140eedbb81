//! A hand-written parameter set for optimizer tests: a 2x3 weight and a 2-element bias.
#![allow(dead_code)]

use nn_runtime::params::{Parameters, TensorInfo, TensorKind, ZeroableParameters};
use nn_runtime::{Scalar, Trainable};

/// `w` is column-major: element (o, i) at `i * 2 + o`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Toy<T> {
    pub w: [T; 6],
    pub b: [T; 2],
}

const INFO: [TensorInfo; 2] = [
    TensorInfo {
        name: "0.weight",
        shape: &[2, 3],
        kind: TensorKind::Weight,
    },
    TensorInfo {
        name: "0.bias",
        shape: &[2],
        kind: TensorKind::Bias,
    },
];

impl<T: Scalar> Parameters for Toy<T> {
    type Scalar = T;
    const TENSORS: usize = 2;
    const PARAMS: usize = 8;

    fn tensor_info(index: usize) -> TensorInfo {
        INFO[index]
    }

    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => &self.w,
            1 => &self.b,
            _ => panic!("tensor index {index} out of range"),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => &mut self.w,
            1 => &mut self.b,
            _ => panic!("tensor index {index} out of range"),
        }
    }
}

// SAFETY: `Toy<T>` consists only of two arrays of `T: Scalar` (f32 or f64), for which the
// all-zero bit pattern is the valid value 0.0.
unsafe impl<T: Scalar> ZeroableParameters for Toy<T> {}

impl<T: Scalar> Trainable for Toy<T> {
    type Gradients = Toy<T>;
}

impl<T: Scalar> Toy<T> {
    pub fn from_f64(w: &[f64; 6], b: &[f64; 2]) -> Self {
        Toy {
            w: w.map(<T as Scalar>::from_f64),
            b: b.map(<T as Scalar>::from_f64),
        }
    }

    pub fn values(&self) -> [f64; 8] {
        let mut out = [0.0; 8];
        for (o, v) in out.iter_mut().zip(self.w.iter().chain(self.b.iter())) {
            *o = v.to_f64();
        }
        out
    }

    /// Gradients of `0.5 * ||W x + b - y||²`, written into `g` (no allocation).
    #[allow(clippy::needless_range_loop)]
    pub fn gradients_into(&self, x: &[f64; 3], y: &[f64; 2], g: &mut Toy<T>) {
        for o in 0..2 {
            let mut r = self.b[o] - <T as Scalar>::from_f64(y[o]);
            for (i, &xi) in x.iter().enumerate() {
                r += self.w[i * 2 + o] * <T as Scalar>::from_f64(xi);
            }
            g.b[o] = r;
            for (i, &xi) in x.iter().enumerate() {
                g.w[i * 2 + o] = r * <T as Scalar>::from_f64(xi);
            }
        }
    }
}
