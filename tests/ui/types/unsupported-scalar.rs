nn::network! { pub struct Net { input: 2, dense(4) } }

fn main() {
    let _net = Net::<i32>::zeros();
}
