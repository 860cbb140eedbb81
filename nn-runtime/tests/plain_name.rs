//! The generated code works when the runtime is used under its own name, `nn_runtime`.

use nn_runtime::prelude::*;

nn_runtime::network! {
    /// Declared through the plain crate name.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Plain { input: 2, dense(3), tanh, dense(2), softmax }
}

#[test]
fn works_under_the_plain_name() {
    let mut net = Plain::<f64>::seeded(1);
    let p = net.forward(&SVector::<f64, 2>::new(0.5, -0.5));
    assert!((p.sum() - 1.0).abs() < 1e-12);
    let y = nn_runtime::loss::one_hot_batch::<f64, 2, 1>(&[1]).unwrap();
    let (l, g) = net.loss_and_gradients(&SMatrix::<f64, 2, 1>::new(0.5, -0.5), &y, &CrossEntropy);
    assert!(l > 0.0 && g.norm() > 0.0);
}
