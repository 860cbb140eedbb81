nn::network! {
    pub struct Net { input: 2, dense, dense(0.5) }
}

fn main() {}
