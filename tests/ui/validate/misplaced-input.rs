nn::network! {
    pub struct Net { dense(16), input: 2, dense(2) }
}

fn main() {}
