use nn::prelude::*;

nn::network! { pub struct Net { input: 2, dense(4), softmax } }

fn main() {
    let net = Net::<f32>::seeded(1);
    let _p = net.forward(&SVector::<f32, 3>::zeros());
}
