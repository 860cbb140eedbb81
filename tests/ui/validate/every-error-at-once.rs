nn::network! {
    pub struct Net {
        input: 3,
        dense(8), relu,
        dense(7 -> 4), tanhh,
        dense(0),
    }
}

fn main() {}
