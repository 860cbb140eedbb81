nn::network! {
    pub struct Net { input: 2, dense(0), relu }
}

fn main() {}
