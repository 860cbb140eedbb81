nn::network! {
    pub struct Net { input: 2, hidden: 16, relu }
}

fn main() {}
