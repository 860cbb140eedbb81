nn::network! {
    pub struct Net { input: 2, desne(16), Relu, linear(3), sigmod }
}

fn main() {}
