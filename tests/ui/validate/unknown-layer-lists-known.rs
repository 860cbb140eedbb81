nn::network! {
    pub struct Net { input: 2, conv2d(3) }
}

fn main() {}
