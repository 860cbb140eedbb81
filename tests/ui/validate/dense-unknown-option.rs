nn::network! {
    pub struct Net { input: 2, dense(3, biass = false), dense(2, bias = 0) }
}

fn main() {}
