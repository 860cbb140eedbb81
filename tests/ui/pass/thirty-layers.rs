//! A 30-layer network expands, compiles and trains.
use nn::prelude::*;

nn::network! {
    pub struct Deep {
        input: 5,
        dense(8), relu, dense(9), tanh, dense(10), sigmoid, dense(8), relu, dense(9), tanh, dense(10), sigmoid, dense(8), relu, dense(9), tanh, dense(10), sigmoid, dense(8), relu, dense(9), tanh, dense(10), sigmoid, dense(8), relu, dense(9), tanh, dense(10), sigmoid,
    }
}

fn main() {
    let mut net = Deep::<f64>::seeded(1);
    let x = SMatrix::<f64, 5, 4>::from_element(0.5);
    let y = SMatrix::<f64, 10, 4>::from_element(0.25);
    let (loss, grads) = net.loss_and_gradients(&x, &y, &Mse);
    assert!(loss.is_finite());
    assert_eq!(<Deep<f64> as Parameters>::TENSORS, 30);
    assert!(grads.norm().is_finite());
}
