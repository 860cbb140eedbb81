//! Hand-written networks over fixed-size arrays (built from the layer loops in `hand.rs`),
//! with preallocated buffers: what a competent engineer writes without a library.
#![allow(dead_code)]

use super::hand::{self, boxed_zeroed};

/// The hidden activation.
#[derive(Clone, Copy)]
pub enum Act {
    /// ReLU.
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
}

/// The networks over one float type: instantiated below for `f32` (at the top of this module)
/// and for `f64` (in [`f64s`]), from the loops of the same type in `hand.rs` (the path
/// `hand` is resolved where the macro is invoked).
macro_rules! nets {
    ($t:ty) => {
        fn act<const N: usize, const B: usize>(a: Act, y: &mut [[$t; N]; B]) {
            match a {
                Act::Relu => hand::relu(y),
                Act::Sigmoid => hand::sigmoid(y),
            }
        }

        fn act_back<const N: usize, const B: usize>(
            a: Act,
            out: &[[$t; N]; B],
            d: &mut [[$t; N]; B],
        ) {
            match a {
                Act::Relu => hand::relu_back(out, d),
                Act::Sigmoid => hand::sigmoid_back(out, d),
            }
        }

        /// A dense layer and its gradients; the weights start on a cache line, as `nn`'s
        /// do (so neither side gains from where the allocator puts them).
        #[derive(Clone, Copy)]
        #[repr(C, align(64))]
        pub struct Dense<const O: usize, const I: usize> {
            w: [[$t; O]; I],
            b: [$t; O],
            dw: [[$t; O]; I],
            db: [$t; O],
        }

        impl<const O: usize, const I: usize> Dense<O, I> {
            fn new(seed: u64) -> Box<Self> {
                let mut d: Box<Self> = boxed_zeroed();
                hand::fill(hand::flat_mut(&mut d.w), seed, (1.0 / I as $t).sqrt());
                d
            }
            fn sgd(&mut self, lr: $t) {
                hand::sgd(&mut self.w, &self.dw, lr);
                for (b, g) in self.b.iter_mut().zip(&mut self.db) {
                    *b -= lr * *g;
                    *g = 0.0;
                }
                hand::flat_mut(&mut self.dw).fill(0.0);
            }
        }

        /// The output loss gradient: softmax + cross-entropy (`p - y) / B`, or MSE
        /// `2 (o - y) / (B·O)`, written into `out`.
        fn loss_grad<const O: usize, const B: usize>(
            out: &mut [[$t; O]; B],
            y: &[[$t; O]; B],
            ce: bool,
        ) {
            let k = if ce {
                1.0 / B as $t
            } else {
                2.0 / (B * O) as $t
            };
            for (o, &t) in out.iter_mut().flatten().zip(y.iter().flatten()) {
                *o = (*o - t) * k;
            }
        }

        /// `I → H → O` with an activation after the hidden layer and an optional softmax.
        pub struct Net2<const I: usize, const H: usize, const O: usize, const B: usize> {
            l1: Box<Dense<H, I>>,
            l2: Box<Dense<O, H>>,
            act: Act,
            softmax: bool,
            a1: Box<[[$t; H]; B]>,
            d1: Box<[[$t; H]; B]>,
            /// The output of the last inference or training forward pass.
            pub out: Box<[[$t; O]; B]>,
        }

        impl<const I: usize, const H: usize, const O: usize, const B: usize> Net2<I, H, O, B> {
            /// A seeded network with its buffers for batches of `B`.
            pub fn new(act: Act, softmax: bool) -> Self {
                Net2 {
                    l1: Dense::new(1),
                    l2: Dense::new(2),
                    act,
                    softmax,
                    a1: boxed_zeroed(),
                    d1: boxed_zeroed(),
                    out: boxed_zeroed(),
                }
            }
            /// Inference into `self.out`.
            pub fn forward(&mut self, x: &[[$t; I]; B]) {
                hand::forward(&self.l1.w, &self.l1.b, x, &mut self.a1);
                act(self.act, &mut self.a1);
                hand::forward(&self.l2.w, &self.l2.b, &self.a1, &mut self.out);
                if self.softmax {
                    hand::softmax(&mut self.out);
                }
            }
            /// One SGD step.
            pub fn train(&mut self, x: &[[$t; I]; B], y: &[[$t; O]; B], lr: $t) {
                self.forward(x);
                loss_grad(&mut self.out, y, self.softmax);
                hand::param_grad(&self.out, &self.a1, &mut self.l2.dw, &mut self.l2.db);
                hand::input_grad(&self.l2.w, &self.out, &mut self.d1);
                act_back(self.act, &self.a1, &mut self.d1);
                hand::param_grad(&self.d1, x, &mut self.l1.dw, &mut self.l1.db);
                self.l1.sgd(lr);
                self.l2.sgd(lr);
            }
        }

        /// `I → H1 → H2 → O` with an activation after each hidden layer and an optional softmax.
        pub struct Net3<
            const I: usize,
            const H1: usize,
            const H2: usize,
            const O: usize,
            const B: usize,
        > {
            l1: Box<Dense<H1, I>>,
            l2: Box<Dense<H2, H1>>,
            l3: Box<Dense<O, H2>>,
            act: Act,
            softmax: bool,
            a1: Box<[[$t; H1]; B]>,
            a2: Box<[[$t; H2]; B]>,
            d1: Box<[[$t; H1]; B]>,
            d2: Box<[[$t; H2]; B]>,
            /// The output of the last inference or training forward pass.
            pub out: Box<[[$t; O]; B]>,
        }

        impl<const I: usize, const H1: usize, const H2: usize, const O: usize, const B: usize>
            Net3<I, H1, H2, O, B>
        {
            /// A seeded network with its buffers for batches of `B`.
            pub fn new(act: Act, softmax: bool) -> Self {
                Net3 {
                    l1: Dense::new(1),
                    l2: Dense::new(2),
                    l3: Dense::new(3),
                    act,
                    softmax,
                    a1: boxed_zeroed(),
                    a2: boxed_zeroed(),
                    d1: boxed_zeroed(),
                    d2: boxed_zeroed(),
                    out: boxed_zeroed(),
                }
            }
            /// Inference into `self.out`.
            pub fn forward(&mut self, x: &[[$t; I]; B]) {
                hand::forward(&self.l1.w, &self.l1.b, x, &mut self.a1);
                act(self.act, &mut self.a1);
                hand::forward(&self.l2.w, &self.l2.b, &self.a1, &mut self.a2);
                act(self.act, &mut self.a2);
                hand::forward(&self.l3.w, &self.l3.b, &self.a2, &mut self.out);
                if self.softmax {
                    hand::softmax(&mut self.out);
                }
            }
            /// One SGD step.
            pub fn train(&mut self, x: &[[$t; I]; B], y: &[[$t; O]; B], lr: $t) {
                self.forward(x);
                loss_grad(&mut self.out, y, self.softmax);
                hand::param_grad(&self.out, &self.a2, &mut self.l3.dw, &mut self.l3.db);
                hand::input_grad(&self.l3.w, &self.out, &mut self.d2);
                act_back(self.act, &self.a2, &mut self.d2);
                hand::param_grad(&self.d2, &self.a1, &mut self.l2.dw, &mut self.l2.db);
                hand::input_grad(&self.l2.w, &self.d2, &mut self.d1);
                act_back(self.act, &self.a1, &mut self.d1);
                hand::param_grad(&self.d1, x, &mut self.l1.dw, &mut self.l1.db);
                self.l1.sgd(lr);
                self.l2.sgd(lr);
                self.l3.sgd(lr);
            }
        }
    };
}

nets!(f32);

/// The same networks over `f64`.
pub mod f64s {
    use super::super::hand::{boxed_zeroed, f64s as hand};
    use super::Act;

    nets!(f64);
}
