nn::network! {
    pub struct Net {
        input: 4,
        dense(16), sigmoid,
        dense(32 -> 10), softmax,
    }
}

fn main() {}
