nn::network! {
    pub struct Net { input: 2, dense(3), rleu }
}

fn takes(_net: Net) {}

fn main() {
    let _n: Option<Net<f64>> = None;
}
