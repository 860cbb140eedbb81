use nn::prelude::*;

nn::network! { pub struct Net { input: 2, dense(4), softmax } }

fn main() {
    let net = Net::<f32>::seeded(1);
    let _p: SMatrix<f32, 4, 8> = net.forward_batch(&SMatrix::<f32, 3, 8>::zeros());
}
