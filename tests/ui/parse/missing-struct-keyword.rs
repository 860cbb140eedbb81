nn::network! {
    pub Net { input: 2, dense(3) }
}

fn main() {}
