//! The layer protocol: one runtime type per layer kind behind one trait, [`Layer`].
//!
//! `network!` expands a declaration into straight-line code that calls, for every layer and
//! every pass, one method of that layer's [`Layer`] implementation, with every size a
//! literal. What a kind does — its forward and backward passes, what it records for the
//! backward pass, how its parameter gradients are written or applied — lives in its
//! runtime type, never in the macro. The macro only knows, from its layer table, each
//! kind's grammar, shape rule and capabilities (whether it can run in place, whether its
//! backward pass reads only its output, whether it can be the fused head of a loss), and
//! makes every fusion decision from those.
//!
//! Sizes are const generics: `IN` and `OUT` are the flat sizes of one sample's input and
//! output, and a batch is an `SMatrix<T, IN, B>` with one column per sample.
//!
//! # The kinds
//! | kind | type | parameters |
//! |---|---|---|
//! | `dense(N)` | [`Dense`](crate::layers::Dense) | `weight [OUT, IN]`, `bias [OUT]` |
//! | `dense(N, bias = false)` | [`DenseNoBias`](crate::layers::DenseNoBias) | `weight [OUT, IN]` |
//! | `prelu` | [`PRelu`](crate::layers::PRelu) | `weight [1]` |
//! | `relu`, `tanh`, ... | [`Act`] over an [`Activation`](crate::activation::Activation) | none |
//! | `softmax` | [`Softmax`] | none |
//! | `batch_norm` | [`BatchNorm`] | `weight [N]`, `bias [N]`; buffers `running_mean [N]`, `running_var [N]`, `num_batches_tracked []` (int64) |
//! | `layer_norm` | [`LayerNorm`] | `weight [N]`, `bias [N]` |
//! | `dropout(p)` | [`Dropout`] | none |
//!
//! # Adding a layer kind
//! A kind is one type implementing [`Layer`] (and [`Zeroed`] for its tape, if it keeps one;
//! [`InPlace`], [`Epilogue`] or [`LossHead`] if it has those capabilities), plus one entry
//! in the macro's layer table (`nn-macros/src/table.rs`) that names it, parses its
//! arguments, computes its output size and states its capabilities.

mod act;
mod batch_norm;
mod dense;
mod dropout;
mod layer_norm;
mod residual;

pub use act::{Act, Softmax};
pub use batch_norm::{BatchNorm, BatchNormGrads, BatchNormTape, DEFAULT_EPS, DEFAULT_MOMENTUM};
pub use dropout::{Dropout, DropoutStream};
pub use layer_norm::{LayerNorm, LayerNormTape};
pub use residual::{Residual, ResidualProject, ResidualTape};

use crate::loss::Loss;
use crate::scalar::Scalar;
use nalgebra::SMatrix;

/// A value that can be created with every element zero: the tapes layers keep for their
/// backward pass.
pub trait Zeroed {
    /// The all-zero value.
    fn zeroed() -> Self;
}

impl Zeroed for () {
    #[inline(always)]
    fn zeroed() -> Self {}
}

impl<T: Scalar, const R: usize, const C: usize> Zeroed for SMatrix<T, R, C> {
    #[inline(always)]
    fn zeroed() -> Self {
        SMatrix::zeros()
    }
}

/// Multiplies `dx` by `[x > 0]`: the gradient passed back through a ReLU whose output is
/// `x` (what [`InputGrad::WriteReluGated`] asks of a layer that has no fused form of it).
#[inline]
pub fn gate_relu<T: Scalar, const N: usize, const B: usize>(
    x: &SMatrix<T, N, B>,
    dx: &mut SMatrix<T, N, B>,
) {
    let zero = <T as Scalar>::from_f64(0.0);
    for (d, &v) in dx.iter_mut().zip(x.iter()) {
        if v <= zero {
            *d = zero;
        }
    }
}

/// A layer's initialisation: what `Net::random` does to it.
pub trait Init<T: Scalar> {
    /// Draws the parameters from `rng` (weights by `scheme`, which the macro chooses from
    /// the layer after this one) and sets the buffers to their initial values.
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R, scheme: crate::init::Scheme);
}

/// The gradients of a layer without parameters: nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoGrads;

/// What a layer's backward pass does with the gradient with respect to its input.
pub enum InputGrad<'a, T: Scalar, const IN: usize, const B: usize> {
    /// Not wanted (the network's first layer in training): the layer skips computing it
    /// when it can.
    Skip,
    /// Written (overwriting) into the matrix.
    Write(&'a mut SMatrix<T, IN, B>),
    /// Written into the matrix, multiplied element-wise by `[x > 0]` where `x` is this
    /// layer's input: the layer's input is a ReLU's output, and the gradient is passed back
    /// through the ReLU too (a dense layer does it in its product's epilogue).
    WriteReluGated(&'a mut SMatrix<T, IN, B>),
}

/// The training context: what a training forward pass may need besides its input.
///
/// Holds the random generator that stochastic layers (dropout) draw from; the trainer
/// derives it from its seed, so that runs stay bit-identical.
pub struct TrainCx<'a> {
    /// The generator, if the caller gave one.
    pub rng: Option<&'a mut dyn rand::Rng>,
}

impl TrainCx<'_> {
    /// A context without a random generator (enough for every deterministic layer).
    pub fn none() -> Self {
        TrainCx { rng: None }
    }
}

/// One layer of a network: `IN` inputs and `OUT` outputs per sample, flat.
///
/// `self` holds the layer's parameters and buffers (for a kind without any, a zero-sized
/// or hyper-parameter-only value the generated code builds in place). Passes take the
/// layer's input `x` and output `y` for the whole batch; the network keeps them, so a
/// layer's [`Tape`](Self::Tape) holds only what it needs besides them.
pub trait Layer<T: Scalar, const IN: usize, const OUT: usize> {
    /// The gradients of the parameters: [`NoGrads`] for a kind without parameters, else a
    /// value of the same shapes (for [`Dense`](crate::layers::Dense), `Self`).
    type Grads;
    /// What the training forward pass records for the backward pass besides the input and
    /// the output: `()` for most kinds.
    type Tape<const B: usize>: Zeroed;

    /// Inference (evaluation mode): writes `y` from `x`.
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>, y: &mut SMatrix<T, OUT, B>);

    /// Training forward pass (training mode): writes `y` and records the tape. The default
    /// is [`forward`](Self::forward).
    #[inline(always)]
    fn forward_train<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        y: &mut SMatrix<T, OUT, B>,
        tape: &mut Self::Tape<B>,
        cx: &mut TrainCx<'_>,
    ) {
        let _ = (tape, cx);
        self.forward(x, y)
    }

    /// Backward pass: given dLoss/dy, handles dLoss/dx as `dx` asks, and writes
    /// (`accumulate == false`) or adds (`accumulate == true`) the parameter gradients to
    /// `grads`. `x`, `y` and `tape` are those of the training forward pass.
    #[allow(clippy::too_many_arguments)]
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        y: &SMatrix<T, OUT, B>,
        tape: &Self::Tape<B>,
        dy: &SMatrix<T, OUT, B>,
        dx: InputGrad<'_, T, IN, B>,
        grads: &mut Self::Grads,
        accumulate: bool,
    );

    /// Backward pass fused with a plain SGD update: handles dLoss/dx as `dx` asks (with
    /// the parameters as they were), then adds `alpha · ∇θ` to every parameter
    /// (`alpha = -lr`), so that no gradient is stored.
    #[allow(clippy::too_many_arguments)]
    fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, IN, B>,
        y: &SMatrix<T, OUT, B>,
        tape: &Self::Tape<B>,
        dy: &SMatrix<T, OUT, B>,
        dx: InputGrad<'_, T, IN, B>,
        alpha: T,
    );

    /// Updates the non-trainable buffers (running statistics) from a training forward
    /// pass's tape. The default does nothing.
    #[inline(always)]
    fn update_buffers<const B: usize>(&mut self, tape: &Self::Tape<B>) {
        let _ = tape;
    }
}

/// A layer whose output has its input's shape and can be computed in place: element-wise
/// activations and softmax. Inference runs them on the previous layer's output without a
/// copy.
pub trait InPlace<T: Scalar, const N: usize>: Layer<T, N, N> {
    /// Replaces `x` by the layer's inference output.
    fn forward_inplace<const B: usize>(&self, x: &mut SMatrix<T, N, B>);
}

/// An element-wise activation a producer layer (dense) can apply in its product's
/// epilogue, while the outputs are in cache.
pub trait Epilogue<T: Scalar> {
    /// The element-wise function.
    type Fn: crate::activation::Activation<T>;
    /// The function as a value.
    fn function(&self) -> &Self::Fn;
    /// Whether the function is ReLU, which the product kernels apply themselves.
    const RELU: bool = false;
}

/// A layer that runs an [`Epilogue`] activation fused into its own forward pass.
pub trait FusedForward<T: Scalar, const IN: usize, const OUT: usize>: Layer<T, IN, OUT> {
    /// `y = act(self(x))`, equal to [`forward`](Layer::forward) followed by `act`.
    fn forward_fused<E: Epilogue<T>, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        act: &E,
        y: &mut SMatrix<T, OUT, B>,
    );
}

/// A final layer a loss can fuse with (softmax with cross-entropy, sigmoid with binary
/// cross-entropy): the loss then computes its gradient with respect to this layer's input
/// directly, in the numerically stable form `(p - y) / n`.
pub trait LossHead<T: Scalar, const N: usize>: Layer<T, N, N> {
    /// If `loss` has a fused form for this head, writes dLoss/dz (`z` the head's input, `p`
    /// its output) into `dz` and returns the loss.
    fn fused_loss<L: Loss<T>, const B: usize>(
        &self,
        loss: &L,
        z: &SMatrix<T, N, B>,
        p: &SMatrix<T, N, B>,
        target: &SMatrix<T, N, B>,
        dz: &mut SMatrix<T, N, B>,
    ) -> Option<T>;
}

#[cfg(test)]
mod tests;
