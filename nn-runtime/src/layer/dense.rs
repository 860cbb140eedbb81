//! [`Layer`] for the fully connected layers, [`Dense`] and [`DenseNoBias`]: the forward
//! product (with an activation in its epilogue when fused), the input gradient (gated by a
//! ReLU before it when fused), and the weight and bias gradients written, added or applied
//! at once.

use super::{Epilogue, FusedForward, Init, InputGrad, Layer};
use crate::init::{init_weights, Scheme};
use crate::kernels;
use crate::layers::{Dense, DenseNoBias};
use crate::scalar::Scalar;
use nalgebra::{SMatrix, SVector};

#[inline(always)]
fn forward_fused<T: Scalar, E: Epilogue<T>, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    act: &E,
    y: &mut SMatrix<T, O, B>,
) {
    if E::RELU {
        kernels::dense_forward_relu(w, b, x, y)
    } else {
        kernels::dense_forward_act(w, b, x, act.function(), y)
    }
}

/// The input gradient as `dx` asks, from the weights as they are.
#[inline(always)]
fn input_grad<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    x: &SMatrix<T, I, B>,
    dy: &SMatrix<T, O, B>,
    dx: InputGrad<'_, T, I, B>,
) {
    match dx {
        InputGrad::Skip => {}
        InputGrad::Write(dx) => kernels::dense_input_grad(w, dy, dx),
        InputGrad::WriteReluGated(dx) => kernels::dense_input_grad_relu(w, dy, x, dx),
    }
}

impl<T: Scalar, const I: usize, const O: usize> Layer<T, I, O> for Dense<T, O, I> {
    type Grads = Self;
    type Tape<const B: usize> = ();

    #[inline(always)]
    fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>, y: &mut SMatrix<T, O, B>) {
        kernels::dense_forward(&self.weight, Some(&self.bias), x, y)
    }

    #[inline(always)]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        _y: &SMatrix<T, O, B>,
        _tape: &(),
        dy: &SMatrix<T, O, B>,
        dx: InputGrad<'_, T, I, B>,
        grads: &mut Self,
        accumulate: bool,
    ) {
        input_grad(&self.weight, x, dy, dx);
        let one = <T as Scalar>::from_f64(1.0);
        kernels::dense_weight_grad_scaled(dy, x, &mut grads.weight, one, accumulate);
        kernels::bias_grad_scaled(dy, &mut grads.bias, one, accumulate);
    }

    #[inline(always)]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, I, B>,
        _y: &SMatrix<T, O, B>,
        _tape: &(),
        dy: &SMatrix<T, O, B>,
        dx: InputGrad<'_, T, I, B>,
        alpha: T,
    ) {
        input_grad(&self.weight, x, dy, dx);
        kernels::dense_weight_grad_scaled(dy, x, &mut self.weight, alpha, true);
        kernels::bias_grad_scaled(dy, &mut self.bias, alpha, true);
    }
}

impl<T: Scalar, const I: usize, const O: usize> FusedForward<T, I, O> for Dense<T, O, I> {
    #[inline(always)]
    fn forward_fused<E: Epilogue<T>, const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        act: &E,
        y: &mut SMatrix<T, O, B>,
    ) {
        forward_fused(&self.weight, Some(&self.bias), x, act, y)
    }
}

impl<T: Scalar, const I: usize, const O: usize> Layer<T, I, O> for DenseNoBias<T, O, I> {
    type Grads = Self;
    type Tape<const B: usize> = ();

    #[inline(always)]
    fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>, y: &mut SMatrix<T, O, B>) {
        kernels::dense_forward(&self.weight, None, x, y)
    }

    #[inline(always)]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        _y: &SMatrix<T, O, B>,
        _tape: &(),
        dy: &SMatrix<T, O, B>,
        dx: InputGrad<'_, T, I, B>,
        grads: &mut Self,
        accumulate: bool,
    ) {
        input_grad(&self.weight, x, dy, dx);
        let one = <T as Scalar>::from_f64(1.0);
        kernels::dense_weight_grad_scaled(dy, x, &mut grads.weight, one, accumulate);
    }

    #[inline(always)]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, I, B>,
        _y: &SMatrix<T, O, B>,
        _tape: &(),
        dy: &SMatrix<T, O, B>,
        dx: InputGrad<'_, T, I, B>,
        alpha: T,
    ) {
        input_grad(&self.weight, x, dy, dx);
        kernels::dense_weight_grad_scaled(dy, x, &mut self.weight, alpha, true);
    }
}

impl<T: Scalar, const I: usize, const O: usize> FusedForward<T, I, O> for DenseNoBias<T, O, I> {
    #[inline(always)]
    fn forward_fused<E: Epilogue<T>, const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        act: &E,
        y: &mut SMatrix<T, O, B>,
    ) {
        forward_fused(&self.weight, None, x, act, y)
    }
}

impl<T: Scalar, const O: usize, const I: usize> Init<T> for Dense<T, O, I> {
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R, scheme: Scheme) {
        init_weights(rng, self.weight.as_mut_slice(), I, O, scheme);
        self.bias.fill(<T as Scalar>::from_f64(0.0));
    }
}

impl<T: Scalar, const O: usize, const I: usize> Init<T> for DenseNoBias<T, O, I> {
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R, scheme: Scheme) {
        init_weights(rng, self.weight.as_mut_slice(), I, O, scheme);
    }
}

impl<T: Scalar, const O: usize, const I: usize> super::Zeroed for Dense<T, O, I> {
    fn zeroed() -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, const O: usize, const I: usize> super::Zeroed for DenseNoBias<T, O, I> {
    fn zeroed() -> Self {
        Self::zeros()
    }
}
