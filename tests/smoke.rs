use nn::prelude::*;

nn::network! {
    /// The two-layer quadrant classifier.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Quadrants {
        input: 2,
        dense(50), relu,
        dense(4), softmax,
    }
}

#[test]
fn smoke() {
    let net = Quadrants::<f64>::seeded(1);
    let p: SVector<f64, 4> = net.forward(&SVector::<f64, 2>::new(1.0, -1.0));
    assert!((p.sum() - 1.0).abs() < 1e-12);
    println!("{}", Quadrants::<f64>::SUMMARY);
}
