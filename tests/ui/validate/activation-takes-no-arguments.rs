nn::network! {
    pub struct Net { input: 2, dense(3), relu(2) }
}

fn main() {}
