//! The data loaders on files written by independent tools, and a data pipeline feeding a
//! generated network.

use nn_runtime as nn;
use nn_runtime::data::csv::{self, Classes, Column, CsvOptions};
use nn_runtime::data::{mnist, Dataset, Standardizer};
use nn_runtime::init::seeded_rng;
use nn_runtime::loss::CrossEntropy;
use nn_runtime::SMatrix;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Files from `tests/reference/idx_fixture.py` (Python's struct and gzip modules): two
/// gzipped with a file name in the gzip header, one plain.
#[test]
fn mnist_layout_written_by_python() {
    let (train, test) = mnist::load::<f64, 6, 10>(fixture("idx")).unwrap();
    assert_eq!((train.len(), test.len()), (3, 1));
    assert_eq!(train.labels(), vec![7, 0, 9]);
    assert_eq!(test.labels(), vec![7]);
    // Printed by the script: p / 255.
    let want0 = [
        0.0,
        0.00392156862745098,
        0.00784313725490196,
        0.0392156862745098,
        0.043137254901960784,
        0.047058823529411764,
    ];
    let want2 = [
        0.3137254901960784,
        0.3176470588235294,
        0.3215686274509804,
        0.35294117647058826,
        0.3568627450980392,
        0.3607843137254902,
    ];
    assert_eq!(train.inputs()[0].as_slice(), &want0);
    assert_eq!(train.inputs()[2].as_slice(), &want2);
    assert_eq!(test.inputs()[0].as_slice(), &want0);
    let f = mnist::load::<f32, 6, 10>(fixture("idx")).unwrap().0;
    assert_eq!(f.inputs()[2][5], 0.3607843137254902f64 as f32);
    // 2x3 images do not fit 784 inputs.
    let e = mnist::load::<f32, 784, 10>(fixture("idx")).unwrap_err();
    assert!(
        e.to_string()
            .contains("images of 2x3 = 6 pixels do not fit an input of 784"),
        "{e}"
    );
}

nn::network! {
    /// A small classifier for the pipeline test.
    pub struct Tiny {
        input: 2,
        dense(4), relu,
        dense(3), softmax,
    }
}

#[test]
fn csv_to_batches_to_network() {
    let text = "a,b,class\n\
                1,100,x\n2,200,y\n3,300,z\n4,400,x\n5,500,y\n6,600,z\n7,700,x\n8,800,y\n";
    let options = CsvOptions::new().header(true).label(
        Column::Last,
        Classes::Names(vec!["x".into(), "y".into(), "z".into()]),
    );
    let data: Dataset<f64, 2, 3> = csv::from_reader(text.as_bytes(), &options).unwrap();
    assert_eq!(data.class_counts(), [3, 3, 2]);

    let mut rng = seeded_rng(11);
    let (mut train, mut test) = data.split(0.75, &mut rng).unwrap();
    assert_eq!((train.len(), test.len()), (6, 2));
    let scaler = Standardizer::fit(&train).unwrap();
    scaler.transform(&mut train).unwrap();
    scaler.transform(&mut test).unwrap();
    // The two features are proportional, so they standardise to the same values.
    for x in train.inputs() {
        assert!((x[0] - x[1]).abs() < 1e-12);
    }

    let net = Tiny::<f64>::seeded(3);
    let mut x = SMatrix::<f64, 2, 3>::zeros();
    let mut y = SMatrix::<f64, 3, 3>::zeros();
    train.fill_batch(&[0, 2, 4], &mut x, &mut y).unwrap();
    let batch_loss = net.loss(&x, &y, &CrossEntropy);
    // The mean of the per-sample losses.
    let mut sum = 0.0;
    for &i in &[0, 2, 4] {
        let (xi, yi) = train.get(i).unwrap();
        sum += net.loss::<1, _>(xi, yi, &CrossEntropy);
    }
    assert!(
        (batch_loss - sum / 3.0).abs() < 1e-12,
        "{batch_loss} vs {}",
        sum / 3.0
    );
    assert!(batch_loss.is_finite() && batch_loss > 0.0);
}
