//! The arithmetic inside a layer, specialised by the const dimensions.
//!
//! Generated code calls these; they may be made faster without touching the macro.
//! Matrices are nalgebra's column-major `SMatrix`; a batch has one column per sample.

use crate::scalar::Scalar;
use nalgebra::{SMatrix, SVector};

/// `y = w * x (+ b)`: the forward pass of a dense layer.
#[inline]
pub fn dense_forward<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
) {
    let w = w.as_slice();
    let x = x.as_slice();
    let y = y.as_mut_slice();
    for j in 0..B {
        let yc = &mut y[j * O..(j + 1) * O];
        match b {
            Some(b) => yc.copy_from_slice(b.as_slice()),
            None => yc.fill(<T as Scalar>::from_f64(0.0)),
        }
        for k in 0..I {
            let xv = x[j * I + k];
            let wc = &w[k * O..(k + 1) * O];
            for (yv, &wv) in yc.iter_mut().zip(wc) {
                *yv += wv * xv;
            }
        }
    }
}

/// `dx = wᵀ * dy`: the input gradient of a dense layer (overwrites `dx`).
#[inline]
pub fn dense_input_grad<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    dy: &SMatrix<T, O, B>,
    dx: &mut SMatrix<T, I, B>,
) {
    let w = w.as_slice();
    let dy = dy.as_slice();
    let dx = dx.as_mut_slice();
    for j in 0..B {
        let dyc = &dy[j * O..(j + 1) * O];
        for i in 0..I {
            let wc = &w[i * O..(i + 1) * O];
            let mut s = <T as Scalar>::from_f64(0.0);
            for (&a, &b) in wc.iter().zip(dyc) {
                s += a * b;
            }
            dx[j * I + i] = s;
        }
    }
}

/// `dw += dy * xᵀ`: accumulates the weight gradient of a dense layer.
#[inline]
pub fn dense_weight_grad<T: Scalar, const O: usize, const I: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    x: &SMatrix<T, I, B>,
    dw: &mut SMatrix<T, O, I>,
) {
    let dy = dy.as_slice();
    let x = x.as_slice();
    let dw = dw.as_mut_slice();
    for j in 0..B {
        let dyc = &dy[j * O..(j + 1) * O];
        for i in 0..I {
            let xv = x[j * I + i];
            let dwc = &mut dw[i * O..(i + 1) * O];
            for (d, &g) in dwc.iter_mut().zip(dyc) {
                *d += g * xv;
            }
        }
    }
}

/// `db += Σ_columns dy`: accumulates the bias gradient of a dense layer.
#[inline]
pub fn bias_grad<T: Scalar, const O: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    db: &mut SVector<T, O>,
) {
    let dy = dy.as_slice();
    let db = db.as_mut_slice();
    for j in 0..B {
        for (d, &g) in db.iter_mut().zip(&dy[j * O..(j + 1) * O]) {
            *d += g;
        }
    }
}
