nn::network! {
    pub struct Net { input: 2 }
}

fn main() {}
