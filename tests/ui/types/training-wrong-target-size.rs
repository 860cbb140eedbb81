use nn::prelude::*;

nn::network! { pub struct Net { input: 2, dense(4), softmax } }

fn main() {
    let net = Net::<f64>::seeded(1);
    let x = SMatrix::<f64, 2, 16>::zeros();
    let y = SMatrix::<f64, 3, 16>::zeros();
    let _ = net.loss_and_gradients(&x, &y, &CrossEntropy);
}
