//! Every valid form of the grammar compiles and runs.
use nn::prelude::*;

nn::network! {
    /// Attributes and doc comments are forwarded.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Public {
        input: 3,
        hidden: dense(4), relu,
        dense(4 -> 2, bias = false), leaky_relu(0.2),
        out: dense(1), sigmoid,
    }

    pub(crate) struct CrateVisible { input: 1, dense(1) }

    struct Private { input: 2, dense(1), tanh, dense(1), leaky_relu, elu(0.5), gelu, softplus, silu, prelu, step, identity, }

    /// One-unit layers everywhere.
    #[derive(Debug)]
    pub struct Units { input: 1, dense(1), sigmoid, dense(1 -> 1), softmax }
}

nn::network! { pub struct Second { input: 4, dense(2), softmax } }

mod inner {
    nn::network! { pub struct InModule { input: 2, dense(2) } }
}

fn main() {
    let a = Public::<f64>::seeded(1);
    let b = a.clone();
    assert_eq!(a, b);
    let _ = format!("{a:?}");
    let y: SVector<f64, 1> = a.forward(&SVector::<f64, 3>::new(0.1, 0.2, 0.3));
    assert!(y[0] > 0.0 && y[0] < 1.0);
    let _ = CrateVisible::<f32>::zeros().forward(&SVector::<f32, 1>::new(1.0));
    let _ = Private::<f32>::seeded(3).forward_batch(&SMatrix::<f32, 2, 5>::zeros());
    let u = Units::<f32>::random(&mut nn::init::seeded_rng(4));
    assert_eq!(u.forward(&SVector::<f32, 1>::new(1.0))[0], 1.0);
    let s: Second = Second::seeded(5);
    let _: SMatrix<f32, 2, 3> = s.forward_batch(&SMatrix::<f32, 4, 3>::zeros());
    let _ = inner::InModule::<f64>::zeros();
    assert_eq!(Public::<f32>::INPUTS, 3);
    assert_eq!(Public::<f32>::OUTPUTS, 1);
    assert_eq!(Public::<f32>::PARAMS, 3 * 4 + 4 + 4 * 2 + 2 + 1);
    let _g: PublicGradients<f64> = Public::<f64>::zero_gradients();
    let _t: PublicTape<f64, 2> = a.forward_tape(&SMatrix::<f64, 3, 2>::zeros());
    // Chaining networks whose sizes agree.
    let net2 = Second::<f64>::seeded(1);
    nn::network! { struct Feeds4 { input: 3, dense(4) } }
    let _ = net2.forward(&Feeds4::<f64>::seeded(2).forward(&SVector::<f64, 3>::zeros()));
}
