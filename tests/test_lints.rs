//! The expansion is clean under clippy's pedantic group (CI runs clippy on every target
//! with `-D warnings`), and under rustc's strictest common lints.
#![deny(
    clippy::pedantic,
    missing_docs,
    unused,
    rust_2018_idioms,
    unreachable_pub
)]
//! Lint test.

use nn::prelude::*;

nn::network! {
    /// Pedantic-clean.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Pedantic {
        input: 10000,
        dense(12345), relu,
        out: dense(10), softmax,
    }

    /// Every layer kind.
    pub struct Everything {
        input: 3,
        dense(4, bias = false), identity, step, sigmoid, tanh, relu, leaky_relu, leaky_relu(-0.5),
        prelu, elu, elu(2.0), gelu, softplus, silu, softmax,
    }
}

#[test]
fn compiles_under_pedantic_lints() {
    assert_eq!(Pedantic::<f32>::OUTPUTS, 10);
    let net = Everything::<f64>::seeded(1);
    let _ = net.forward(&SVector::<f64, 3>::zeros());
}
