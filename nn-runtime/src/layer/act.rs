//! [`Layer`] for the layers that keep their input's shape: the element-wise activations
//! (through one wrapper, [`Act`]), [`Softmax`] and the learnable
//! [`PRelu`](crate::layers::PRelu).

use super::{gate_relu, Epilogue, InPlace, Init, InputGrad, Layer, LossHead, NoGrads};
use crate::activation::{self, Activation};
use crate::layers::PRelu;
use crate::loss::Loss;
use crate::scalar::Scalar;
use nalgebra::SMatrix;

/// An element-wise activation as a layer (`relu`, `tanh`, `leaky_relu(0.1)`, ...): the
/// one wrapper that makes every [`Activation`] a [`Layer`] of any size.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Act<A>(pub A);

impl<T: Scalar, A: Activation<T>, const N: usize> Layer<T, N, N> for Act<A> {
    type Grads = NoGrads;
    type Tape<const B: usize> = ();

    #[inline(always)]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        y.copy_from(x);
        self.0.forward_inplace(y.as_mut_slice());
    }

    #[inline(always)]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &SMatrix<T, N, B>,
        _tape: &(),
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        _grads: &mut NoGrads,
        _accumulate: bool,
    ) {
        match dx {
            InputGrad::Skip => {}
            InputGrad::Write(dx) => {
                self.0
                    .backward(x.as_slice(), y.as_slice(), dy.as_slice(), dx.as_mut_slice())
            }
            InputGrad::WriteReluGated(dx) => {
                self.0
                    .backward(x.as_slice(), y.as_slice(), dy.as_slice(), dx.as_mut_slice());
                gate_relu(x, dx);
            }
        }
    }

    #[inline(always)]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, N, B>,
        y: &SMatrix<T, N, B>,
        tape: &(),
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        _alpha: T,
    ) {
        Layer::<T, N, N>::backward(self, x, y, tape, dy, dx, &mut NoGrads, true)
    }
}

impl<T: Scalar, A: Activation<T>, const N: usize> InPlace<T, N> for Act<A> {
    #[inline(always)]
    fn forward_inplace<const B: usize>(&self, x: &mut SMatrix<T, N, B>) {
        self.0.forward_inplace(x.as_mut_slice());
    }
}

impl<T: Scalar> Epilogue<T> for Act<activation::Relu> {
    type Fn = activation::Relu;
    const RELU: bool = true;
    #[inline(always)]
    fn function(&self) -> &activation::Relu {
        &self.0
    }
}

/// The epilogues applied after the product by the activation itself (tanh and sigmoid
/// vectorised in the product's kernel at batch 1).
macro_rules! epilogue {
    ($($f:ident),*) => {$(
        impl<T: Scalar> Epilogue<T> for Act<activation::$f> {
            type Fn = activation::$f;
            #[inline(always)]
            fn function(&self) -> &activation::$f {
                &self.0
            }
        }
    )*};
}
epilogue!(Identity, Step, Tanh, Sigmoid);

impl<T: Scalar, const N: usize> LossHead<T, N> for Act<activation::Sigmoid> {
    #[inline(always)]
    fn fused_loss<L: Loss<T>, const B: usize>(
        &self,
        loss: &L,
        z: &SMatrix<T, N, B>,
        p: &SMatrix<T, N, B>,
        target: &SMatrix<T, N, B>,
        dz: &mut SMatrix<T, N, B>,
    ) -> Option<T> {
        loss.fused_sigmoid(z, p, target, dz)
    }
}

/// Softmax over each sample's outputs (`softmax`), shifted by the maximum so that it never
/// overflows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

impl<T: Scalar, const N: usize> Layer<T, N, N> for Softmax {
    type Grads = NoGrads;
    type Tape<const B: usize> = ();

    #[inline(always)]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        y.copy_from(x);
        activation::softmax_forward(y);
    }

    #[inline(always)]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &SMatrix<T, N, B>,
        _tape: &(),
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        _grads: &mut NoGrads,
        _accumulate: bool,
    ) {
        match dx {
            InputGrad::Skip => {}
            InputGrad::Write(dx) => activation::softmax_backward(y, dy, dx),
            InputGrad::WriteReluGated(dx) => {
                activation::softmax_backward(y, dy, dx);
                gate_relu(x, dx);
            }
        }
    }

    #[inline(always)]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, N, B>,
        y: &SMatrix<T, N, B>,
        tape: &(),
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        _alpha: T,
    ) {
        Layer::<T, N, N>::backward(self, x, y, tape, dy, dx, &mut NoGrads, true)
    }
}

impl<T: Scalar, const N: usize> InPlace<T, N> for Softmax {
    #[inline(always)]
    fn forward_inplace<const B: usize>(&self, x: &mut SMatrix<T, N, B>) {
        activation::softmax_forward(x);
    }
}

impl<T: Scalar, const N: usize> LossHead<T, N> for Softmax {
    #[inline(always)]
    fn fused_loss<L: Loss<T>, const B: usize>(
        &self,
        loss: &L,
        z: &SMatrix<T, N, B>,
        p: &SMatrix<T, N, B>,
        target: &SMatrix<T, N, B>,
        dz: &mut SMatrix<T, N, B>,
    ) -> Option<T> {
        loss.fused_softmax(z, p, target, dz)
    }
}

/// PReLU's input gradient as `dx` asks, **adding** dLoss/dSlope to `ds` (computed even
/// when the input gradient is not wanted).
#[inline(always)]
fn prelu_backward<T: Scalar, const N: usize, const B: usize>(
    slope: T,
    x: &SMatrix<T, N, B>,
    dy: &SMatrix<T, N, B>,
    dx: InputGrad<'_, T, N, B>,
    ds: &mut T,
) {
    let (xs, dy) = (x.as_slice(), dy.as_slice());
    match dx {
        InputGrad::Skip => {
            let mut scratch = SMatrix::<T, N, B>::zeros();
            activation::prelu_backward(slope, xs, dy, scratch.as_mut_slice(), ds);
        }
        InputGrad::Write(dx) => activation::prelu_backward(slope, xs, dy, dx.as_mut_slice(), ds),
        InputGrad::WriteReluGated(dx) => {
            activation::prelu_backward(slope, xs, dy, dx.as_mut_slice(), ds);
            gate_relu(x, dx);
        }
    }
}

impl<T: Scalar, const N: usize> Layer<T, N, N> for PRelu<T> {
    type Grads = Self;
    type Tape<const B: usize> = ();

    #[inline(always)]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        y.copy_from(x);
        activation::prelu_forward(self.weight[0], y.as_mut_slice());
    }

    #[inline(always)]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        _tape: &(),
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        grads: &mut Self,
        accumulate: bool,
    ) {
        if !accumulate {
            grads.weight[0] = <T as Scalar>::from_f64(0.0);
        }
        prelu_backward(self.weight[0], x, dy, dx, &mut grads.weight[0]);
    }

    #[inline(always)]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        _tape: &(),
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        alpha: T,
    ) {
        let mut ds = <T as Scalar>::from_f64(0.0);
        prelu_backward(self.weight[0], x, dy, dx, &mut ds);
        self.weight[0] += alpha * ds;
    }
}

impl<T: Scalar, const N: usize> InPlace<T, N> for PRelu<T> {
    #[inline(always)]
    fn forward_inplace<const B: usize>(&self, x: &mut SMatrix<T, N, B>) {
        activation::prelu_forward(self.weight[0], x.as_mut_slice());
    }
}

impl<T: Scalar> Init<T> for PRelu<T> {
    /// PyTorch's initial slope, 0.25; draws nothing.
    fn init<R: rand::Rng + ?Sized>(&mut self, _rng: &mut R, _scheme: crate::init::Scheme) {
        self.weight.fill(<T as Scalar>::from_f64(Self::INIT));
    }
}
