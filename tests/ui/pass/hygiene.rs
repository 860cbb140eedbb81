//! The expansion uses absolute paths only: it compiles with no prelude, with `Option`,
//! `Result`, `Box`, `Some`, `Vec`, `T`, `B` and `core` shadowed, with every public item
//! documented, and with no warnings.
#![no_implicit_prelude]
#![deny(missing_docs, warnings)]
//! A crate that denies missing docs.

#[allow(dead_code)]
mod shadows {
    pub struct Option;
    pub struct Result;
    pub struct Box;
    pub struct Vec;
    pub struct Some;
    pub struct T;
    pub struct B;
    pub struct Clone;
    pub struct Default;
    pub mod core {}
}
#[allow(unused_imports)]
use shadows::*;

::nn::network! {
    /// A documented network.
    pub struct Documented {
        input: 3,
        dense(4), relu,
        named: dense(2), prelu,
        dense(2), softmax,
    }

    /// A network called `T`.
    pub struct T { input: 2, dense(1), sigmoid }
}

::nn::network! {
    /// A network called `B`.
    pub struct B { input: 2, dense(1) }
}

fn main() {
    let mut net = Documented::<f64>::seeded(1);
    let x = ::nn::SMatrix::<f64, 3, 2>::zeros();
    let y = ::nn::SMatrix::<f64, 2, 2>::identity();
    let (_l, _g) = net.loss_and_gradients(&x, &y, &::nn::loss::CrossEntropy);
    let _ = T::<f32>::seeded(2).forward(&::nn::SVector::<f32, 2>::zeros());
    let _ = B::<f64>::zeros();
}
