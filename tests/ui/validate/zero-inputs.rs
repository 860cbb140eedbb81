nn::network! {
    pub struct Net { input: 0, dense(3) }
}

fn main() {}
