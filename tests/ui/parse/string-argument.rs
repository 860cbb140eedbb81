nn::network! {
    pub struct Net { input: 2, dense("16") }
}

fn main() {}
