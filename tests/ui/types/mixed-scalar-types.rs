use nn::prelude::*;

nn::network! { pub struct Net { input: 2, dense(4) } }

fn main() {
    let net = Net::<f64>::seeded(1);
    let _ = net.forward(&SVector::<f32, 2>::zeros());
}
