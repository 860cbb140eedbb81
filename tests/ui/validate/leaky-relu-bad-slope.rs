nn::network! {
    pub struct Net { input: 2, dense(3), leaky_relu(slope = "steep"), dense(2), leaky_relu(0.1, 0.2) }
}

fn main() {}
