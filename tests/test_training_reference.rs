//! Training reproduces an independent implementation step for step, and a large network
//! trains with Adam from a 2 MiB stack.

#[allow(dead_code, clippy::excessive_precision, clippy::unreadable_literal)]
mod reference {
    include!("reference/quadrants_numpy.rs");
}

use nn::prelude::*;

nn::network! {
    /// The quadrant classifier of the training issue.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Quadrants { input: 2, dense(50), relu, dense(4), softmax }
}

const INIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/quadrants_init.safetensors"
);

fn points() -> Dataset<f64, 2, 4> {
    let xs = vec![
        SVector::<f64, 2>::new(2.0, 1.0),
        SVector::<f64, 2>::new(-1.0, 1.0),
        SVector::<f64, 2>::new(-1.0, -1.0),
        SVector::<f64, 2>::new(1.0, -1.0),
    ];
    Dataset::from_classes(xs, &[0, 1, 2, 3]).unwrap()
}

fn close(got: f64, expected: f64, what: &str) {
    let tol = 1e-9 * expected.abs().max(1e-3);
    assert!(
        (got - expected).abs() <= tol,
        "{what}: {got} vs numpy {expected}"
    );
}

/// Full-batch gradient descent, lr 1e-3, L2 1e-3 on weights only, 10000 steps: the loss
/// every 500 steps and the final weights match `tests/reference/quadrants_numpy.py`.
#[test]
fn quadrants_full_batch_gd_matches_numpy() {
    let mut net = Quadrants::<f64>::from_safetensors(INIT).unwrap();
    let data = points();
    let mut losses = Vec::new();
    let history = Trainer::new(&data, CrossEntropy, Sgd::new(1e-3).weight_decay(1e-3))
        .batch_size::<4>()
        .epochs(10_000)
        .progress(false)
        .on_epoch(|r, _| {
            if r.epoch % 500 == 0 {
                losses.push(r.train_loss);
            }
        })
        .fit(&mut net)
        .unwrap();
    assert_eq!(history.epochs.len(), 10_000);
    assert_eq!(losses.len(), reference::LOSS_EVERY_500.len());
    for (i, (&got, &want)) in losses.iter().zip(&reference::LOSS_EVERY_500).enumerate() {
        close(got, want, &format!("loss before step {}", i * 500));
    }
    let mut expected = Quadrants::<f64>::zeros();
    expected.layer0.weight = SMatrix::from_row_slice(&reference::FINAL_0_WEIGHT);
    expected.layer0.bias = SVector::from_column_slice(&reference::FINAL_0_BIAS);
    expected.layer2.weight = SMatrix::from_row_slice(&reference::FINAL_2_WEIGHT);
    expected.layer2.bias = SVector::from_column_slice(&reference::FINAL_2_BIAS);
    for t in 0..<Quadrants as Parameters>::TENSORS {
        for (&g, &e) in net.tensor(t).iter().zip(expected.tensor(t)) {
            close(g, e, Quadrants::<f64>::tensor_info(t).name);
        }
    }
    // And it learned: every point's class is the most probable.
    for (x, y) in data.iter() {
        assert_eq!(
            nn::loss::argmax(net.forward(x).as_slice()),
            nn::loss::argmax(y.as_slice())
        );
    }
}

nn::network! {
    /// 784-1024-1024-10: 1,863,690 parameters.
    pub struct Big { input: 784, dense(1024), relu, dense(1024), relu, dense(10), softmax }
}

#[test]
fn big_network_trains_with_adam_on_a_2mib_stack() {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let inputs: Vec<SVector<f32, 784>> = (0..20)
                .map(|i| SVector::<f32, 784>::from_fn(|r, _| ((r * 7 + i * 13) % 29) as f32 / 29.0))
                .collect();
            let labels: Vec<usize> = (0..20).map(|i| i % 10).collect();
            let data = Dataset::from_classes(inputs, &labels).unwrap();
            let mut net = Big::<f32>::boxed_seeded(1);
            let before = nn::train::evaluate::<_, _, 784, 10, 8>(&*net, &data, &CrossEntropy).loss;
            let history = Trainer::new(&data, CrossEntropy, Adam::new(1e-4))
                .batch_size::<8>()
                .epochs(3)
                .progress(false)
                .fit(&mut *net)
                .unwrap();
            assert_eq!(history.last().unwrap().steps, 9);
            let after = nn::train::evaluate::<_, _, 784, 10, 8>(&*net, &data, &CrossEntropy).loss;
            assert!(after < before, "{after} !< {before}");
        })
        .unwrap()
        .join()
        .expect("the training thread panicked or overflowed its stack");
}
