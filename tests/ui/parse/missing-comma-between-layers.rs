nn::network! {
    pub struct Net { input: 2, dense(3) relu }
}

fn main() {}
