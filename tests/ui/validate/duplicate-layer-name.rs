nn::network! {
    pub struct Net { input: 2, hidden: dense(3), hidden: dense(2), layer0: relu }
}

fn main() {}
