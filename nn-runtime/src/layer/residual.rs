//! Residual blocks (He et al., 2015): `y = x + body(x)` ([`Residual`]), or
//! `y = W x + body(x)` with a learned linear shortcut when the body changes the size
//! ([`ResidualProject`], ResNet's projection shortcut). The body is any layer: `network!`
//! makes it a hidden generated network of the block's members.

use super::{gate_relu, Init, InputGrad, Layer, TrainCx, Zeroed};
use crate::kernels;
use crate::layers::DenseNoBias;
use crate::scalar::Scalar;
use nalgebra::SMatrix;

/// `y = x + body(x)`: `residual { ... }`. Its tensors are the body's, named as the members
/// of a PyTorch module whose `forward` returns `x + body(x)` (`3.0.weight`, `3.2.weight`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Residual<L> {
    /// The block's members.
    pub body: L,
}

/// `y = W x + body(x)`: `residual(project) { ... }`, whose body maps `IN` inputs to `OUT`
/// outputs; the shortcut `W` is a linear map without bias (`{i}.shortcut.weight`
/// `[OUT, IN]`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct ResidualProject<T: Scalar, L, const IN: usize, const OUT: usize> {
    /// The block's members.
    pub body: L,
    /// The learned shortcut.
    pub shortcut: DenseNoBias<T, OUT, IN>,
}

/// What a residual block keeps for its backward pass: its body's tape and output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResidualTape<Tb, Y> {
    /// The body's tape.
    pub body: Tb,
    /// The body's output.
    pub body_out: Y,
}

impl<Tb: Zeroed, Y: Zeroed> Zeroed for ResidualTape<Tb, Y> {
    fn zeroed() -> Self {
        ResidualTape {
            body: Tb::zeroed(),
            body_out: Y::zeroed(),
        }
    }
}

impl<L: Zeroed> Residual<L> {
    /// A block whose every parameter is zero.
    pub fn zeros() -> Self {
        Residual { body: L::zeroed() }
    }
}

impl<L: Zeroed> Zeroed for Residual<L> {
    fn zeroed() -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, L: Zeroed, const IN: usize, const OUT: usize> ResidualProject<T, L, IN, OUT> {
    /// A block whose every parameter is zero.
    pub fn zeros() -> Self {
        ResidualProject {
            body: L::zeroed(),
            shortcut: DenseNoBias::zeros(),
        }
    }
}

impl<T: Scalar, L: Zeroed, const IN: usize, const OUT: usize> Zeroed
    for ResidualProject<T, L, IN, OUT>
{
    fn zeroed() -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, L: Init<T>> Init<T> for Residual<L> {
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R, scheme: crate::init::Scheme) {
        self.body.init(rng, scheme)
    }
}

impl<T: Scalar, L: Init<T>, const IN: usize, const OUT: usize> Init<T>
    for ResidualProject<T, L, IN, OUT>
{
    /// The body as it initialises itself, then the shortcut Glorot-uniform.
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R, scheme: crate::init::Scheme) {
        self.body.init(rng, scheme);
        self.shortcut.init(rng, crate::init::Scheme::Glorot);
    }
}

impl<T: Scalar, L: Layer<T, N, N>, const N: usize> Layer<T, N, N> for Residual<L> {
    type Grads = Residual<L::Grads>;
    type Tape<const B: usize> = ResidualTape<L::Tape<B>, SMatrix<T, N, B>>;

    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        self.body.forward(x, y);
        *y += x;
    }

    fn forward_train<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        tape: &mut Self::Tape<B>,
        cx: &mut TrainCx<'_>,
    ) {
        self.body
            .forward_train(x, &mut tape.body_out, &mut tape.body, cx);
        *y = tape.body_out + x;
    }

    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        tape: &Self::Tape<B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        grads: &mut Self::Grads,
        accumulate: bool,
    ) {
        let (out, bt, g) = (&tape.body_out, &tape.body, &mut grads.body);
        match dx {
            InputGrad::Skip => self
                .body
                .backward(x, out, bt, dy, InputGrad::Skip, g, accumulate),
            InputGrad::Write(d) => {
                self.body
                    .backward(x, out, bt, dy, InputGrad::Write(d), g, accumulate);
                *d += dy;
            }
            InputGrad::WriteReluGated(d) => {
                self.body
                    .backward(x, out, bt, dy, InputGrad::Write(d), g, accumulate);
                *d += dy;
                gate_relu(x, d);
            }
        }
    }

    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        tape: &Self::Tape<B>,
        dy: &SMatrix<T, N, B>,
        dx: InputGrad<'_, T, N, B>,
        alpha: T,
    ) {
        let (out, bt) = (&tape.body_out, &tape.body);
        match dx {
            InputGrad::Skip => self
                .body
                .backward_sgd(x, out, bt, dy, InputGrad::Skip, alpha),
            InputGrad::Write(d) => {
                self.body
                    .backward_sgd(x, out, bt, dy, InputGrad::Write(d), alpha);
                *d += dy;
            }
            InputGrad::WriteReluGated(d) => {
                self.body
                    .backward_sgd(x, out, bt, dy, InputGrad::Write(d), alpha);
                *d += dy;
                gate_relu(x, d);
            }
        }
    }

    fn update_buffers<const B: usize>(&mut self, tape: &Self::Tape<B>) {
        self.body.update_buffers(&tape.body)
    }
}

/// The gradient through the shortcut added to `d`, with the weights as they are.
fn add_shortcut_input_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    dy: &SMatrix<T, OUT, B>,
    d: &mut SMatrix<T, IN, B>,
) {
    let mut through = SMatrix::<T, IN, B>::zeros();
    kernels::dense_input_grad(w, dy, &mut through);
    *d += through;
}

impl<T: Scalar, L: Layer<T, IN, OUT>, const IN: usize, const OUT: usize> Layer<T, IN, OUT>
    for ResidualProject<T, L, IN, OUT>
{
    type Grads = ResidualProject<T, L::Grads, IN, OUT>;
    type Tape<const B: usize> = ResidualTape<L::Tape<B>, SMatrix<T, OUT, B>>;

    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>, y: &mut SMatrix<T, OUT, B>) {
        let mut body = SMatrix::<T, OUT, B>::zeros();
        self.body.forward(x, &mut body);
        kernels::dense_forward(&self.shortcut.weight, None, x, y);
        *y += body;
    }

    fn forward_train<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        y: &mut SMatrix<T, OUT, B>,
        tape: &mut Self::Tape<B>,
        cx: &mut TrainCx<'_>,
    ) {
        self.body
            .forward_train(x, &mut tape.body_out, &mut tape.body, cx);
        kernels::dense_forward(&self.shortcut.weight, None, x, y);
        *y += tape.body_out;
    }

    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        tape: &Self::Tape<B>,
        dy: &SMatrix<T, OUT, B>,
        dx: InputGrad<'_, T, IN, B>,
        grads: &mut Self::Grads,
        accumulate: bool,
    ) {
        let (out, bt, w) = (&tape.body_out, &tape.body, &self.shortcut.weight);
        let g = &mut grads.body;
        match dx {
            InputGrad::Skip => self
                .body
                .backward(x, out, bt, dy, InputGrad::Skip, g, accumulate),
            InputGrad::Write(d) => {
                self.body
                    .backward(x, out, bt, dy, InputGrad::Write(d), g, accumulate);
                add_shortcut_input_grad(w, dy, d);
            }
            InputGrad::WriteReluGated(d) => {
                self.body
                    .backward(x, out, bt, dy, InputGrad::Write(d), g, accumulate);
                add_shortcut_input_grad(w, dy, d);
                gate_relu(x, d);
            }
        }
        let one = <T as Scalar>::from_f64(1.0);
        kernels::dense_weight_grad_scaled(dy, x, &mut grads.shortcut.weight, one, accumulate);
    }

    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        tape: &Self::Tape<B>,
        dy: &SMatrix<T, OUT, B>,
        dx: InputGrad<'_, T, IN, B>,
        alpha: T,
    ) {
        let (out, bt) = (&tape.body_out, &tape.body);
        match dx {
            InputGrad::Skip => self
                .body
                .backward_sgd(x, out, bt, dy, InputGrad::Skip, alpha),
            InputGrad::Write(d) => {
                self.body
                    .backward_sgd(x, out, bt, dy, InputGrad::Write(d), alpha);
                add_shortcut_input_grad(&self.shortcut.weight, dy, d);
            }
            InputGrad::WriteReluGated(d) => {
                self.body
                    .backward_sgd(x, out, bt, dy, InputGrad::Write(d), alpha);
                add_shortcut_input_grad(&self.shortcut.weight, dy, d);
                gate_relu(x, d);
            }
        }
        kernels::dense_weight_grad_scaled(dy, x, &mut self.shortcut.weight, alpha, true);
    }

    fn update_buffers<const B: usize>(&mut self, tape: &Self::Tape<B>) {
        self.body.update_buffers(&tape.body)
    }
}
