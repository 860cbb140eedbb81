nn::network! {
    pub struct Net<T> { input: 2, dense(3) }
}

fn main() {}
