nn::network! {
    pub struct Net { dense(16), relu, dense(2) }
}

fn main() {}
