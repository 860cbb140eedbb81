nn::network! {
    pub struct Net { input: 2, dense(3), dropout(1.0), dense(2), dropout(p = -0.5), dropout("half") }
}

fn main() {}
