nn::network! {
    pub struct Net { input: 2, dense(16), input: 3 }
}

fn main() {}
