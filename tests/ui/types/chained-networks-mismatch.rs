use nn::prelude::*;

nn::network! {
    pub struct Encoder { input: 8, dense(4), tanh }
    pub struct Decoder { input: 3, dense(8), sigmoid }
}

fn main() {
    let enc = Encoder::<f32>::seeded(1);
    let dec = Decoder::<f32>::seeded(2);
    let x = SVector::<f32, 8>::zeros();
    let _y = dec.forward(&enc.forward(&x));
}
