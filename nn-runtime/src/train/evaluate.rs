//! Loss, accuracy and confusion matrices of a network on a data set.

use crate::data::Dataset;
use crate::loss::{argmax, Loss};
use crate::network::Network;
use crate::params::boxed_zero_matrix;
use crate::scalar::Scalar;

/// Loss and accuracy of a network on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The loss, averaged over the samples (0 for an empty set).
    pub loss: f64,
    /// The fraction of samples classified right, for classification losses: the largest
    /// output matches the target's class (for one output: both on the same side of 0.5).
    pub accuracy: Option<f64>,
}

fn class_of<T: Scalar>(v: &[T]) -> usize {
    if v.len() == 1 {
        usize::from(v[0].to_f64() > 0.5)
    } else {
        argmax(v)
    }
}

/// Evaluates `net` on `data` in batches of `B` (the remainder one sample at a time).
pub fn evaluate<N, L, const IN: usize, const OUT: usize, const B: usize>(
    net: &N,
    data: &Dataset<N::Scalar, IN, OUT>,
    loss: &L,
) -> Evaluation
where
    N: Network<IN, OUT>,
    L: Loss<N::Scalar>,
{
    let n = data.len();
    let mut x = boxed_zero_matrix::<N::Scalar, IN, B>();
    let mut y = boxed_zero_matrix::<N::Scalar, OUT, B>();
    let mut x1 = boxed_zero_matrix::<N::Scalar, IN, 1>();
    let mut y1 = boxed_zero_matrix::<N::Scalar, OUT, 1>();
    let indices: Vec<usize> = (0..n).collect();
    let (mut sum, mut right) = (0.0f64, 0usize);
    let mut count = |p: &[N::Scalar], t: &[N::Scalar]| {
        for (pc, tc) in p.chunks_exact(OUT).zip(t.chunks_exact(OUT)) {
            right += usize::from(class_of(pc) == class_of(tc));
        }
    };
    if B > 0 {
        for chunk in indices.chunks_exact(B) {
            if data.fill_batch::<B>(chunk, &mut x, &mut y).is_ok() {
                sum += net.loss(&x, &y, loss).to_f64() * B as f64;
                count(net.forward_batch(&x).as_slice(), y.as_slice());
            }
        }
    }
    let rest = if B > 0 {
        indices.chunks_exact(B).remainder()
    } else {
        &indices[..]
    };
    for &i in rest {
        if data.fill_batch::<1>(&[i], &mut x1, &mut y1).is_ok() {
            sum += net.loss(&x1, &y1, loss).to_f64();
            count(net.forward_batch(&x1).as_slice(), y1.as_slice());
        }
    }
    let denom = n.max(1) as f64;
    Evaluation {
        loss: sum / denom,
        accuracy: loss.is_classification().then(|| right as f64 / denom),
    }
}

/// The confusion matrix of a classifier: `m[true_class][predicted_class]` counts.
/// With one output, classes 0 and 1 by the 0.5 threshold.
pub fn confusion_matrix<N, const IN: usize, const OUT: usize>(
    net: &N,
    data: &Dataset<N::Scalar, IN, OUT>,
) -> Vec<Vec<usize>>
where
    N: Network<IN, OUT>,
{
    let classes = if OUT == 1 { 2 } else { OUT };
    let mut m = vec![vec![0usize; classes]; classes];
    for (x, y) in data.iter() {
        let p = net.forward(x);
        m[class_of(y.as_slice())][class_of(p.as_slice())] += 1;
    }
    m
}
