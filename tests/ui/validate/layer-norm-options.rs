nn::network! {
    pub struct Net { input: 2, dense(3), layer_norm(3), dense(2), layer_norm(epsilon = 1e-3), layer_norm(eps = "small") }
}

fn main() {}
