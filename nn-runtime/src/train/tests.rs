use super::*;
use crate::loss::{CrossEntropy, Mse};
use crate::optim::{Adam, Sgd};
use crate::schedule::StepLr;
use nalgebra::SVector;

crate::network! {
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Net { input: 2, dense(6), tanh, dense(3), softmax }
}

pub(crate) fn data(n: usize) -> Dataset<f64, 2, 3> {
    let inputs: Vec<SVector<f64, 2>> = (0..n)
        .map(|i| {
            let t = i as f64 * 0.7;
            SVector::<f64, 2>::new(t.sin() * 2.0, (t * 1.3).cos() * 2.0)
        })
        .collect();
    let labels: Vec<usize> = inputs
        .iter()
        .map(|x| {
            if x[0] > 0.5 {
                0
            } else if x[1] > 0.0 {
                1
            } else {
                2
            }
        })
        .collect();
    Dataset::from_classes(inputs, &labels).unwrap()
}

#[test]
fn learns_and_reports() {
    let d = data(103);
    let mut net = Net::<f64>::seeded(1);
    let h = Trainer::new(&d, CrossEntropy, Adam::new(0.02))
        .batch_size::<8>()
        .epochs(40)
        .seed(3)
        .validation(&d)
        .progress(false)
        .fit(&mut net)
        .unwrap();
    assert_eq!(h.epochs.len(), 40);
    let first = &h.epochs[0];
    let last = h.last().unwrap();
    assert!(
        last.train_loss < first.train_loss / 3.0,
        "{first:?} {last:?}"
    );
    assert!(last.validation_accuracy.unwrap() > 0.9, "{last:?}");
    // 103 = 12 * 8 + 7: 13 steps an epoch, the last one shorter.
    assert_eq!(last.steps, 40 * 13);
}

#[test]
fn same_seed_is_bit_identical_and_other_seeds_differ() {
    let d = data(50);
    let run = |seed| {
        let mut net = Net::<f64>::seeded(1);
        Trainer::new(&d, CrossEntropy, Sgd::new(0.1).momentum(0.9))
            .batch_size::<7>()
            .epochs(5)
            .seed(seed)
            .progress(false)
            .fit(&mut net)
            .unwrap();
        net
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn last_short_batch_equals_its_own_batch_gradient() {
    // 5 samples, batch 3, one epoch, no shuffling effect on a mean: the second step
    // must equal a step on the 2-sample batch.
    let d = data(5);
    let mut net = Net::<f64>::seeded(2);
    let mut reference = net.clone();
    Trainer::new(&d, Mse, Sgd::new(0.5))
        .batch_size::<3>()
        .epochs(1)
        .seed(9)
        .progress(false)
        .fit(&mut net)
        .unwrap();
    // Replay with the same order.
    let mut order: Vec<usize> = (0..5).collect();
    let mut rng = crate::init::seeded_rng(9);
    rng.set_stream(0);
    shuffle_in_place(&mut order, &mut rng);
    let mut x = nalgebra::SMatrix::<f64, 2, 3>::zeros();
    let mut y = nalgebra::SMatrix::<f64, 3, 3>::zeros();
    d.fill_batch::<3>(&order[..3], &mut x, &mut y).unwrap();
    let (_, g) = reference.loss_and_gradients(&x, &y, &Mse);
    crate::network::Trainable::add_scaled_gradients(&mut reference, &g, -0.5);
    let mut x2 = nalgebra::SMatrix::<f64, 2, 2>::zeros();
    let mut y2 = nalgebra::SMatrix::<f64, 3, 2>::zeros();
    d.fill_batch::<2>(&order[3..], &mut x2, &mut y2).unwrap();
    let (_, g) = reference.loss_and_gradients(&x2, &y2, &Mse);
    crate::network::Trainable::add_scaled_gradients(&mut reference, &g, -0.5);
    assert!((net.layer0.weight - reference.layer0.weight).abs().max() < 1e-14);
    assert!((net.layer2.bias - reference.layer2.bias).abs().max() < 1e-14);
}

#[test]
fn drop_last_skips_the_short_batch() {
    let d = data(10);
    let mut net = Net::<f64>::seeded(2);
    let mut t = Trainer::new(&d, Mse, Sgd::new(0.1))
        .batch_size::<4>()
        .epochs(3)
        .drop_last(true)
        .progress(false);
    let h = t.fit(&mut net).unwrap();
    assert_eq!(h.last().unwrap().steps, 6);
    let mut t = Trainer::new(&d, Mse, Sgd::new(0.1))
        .batch_size::<11>()
        .drop_last(true)
        .progress(false);
    assert!(matches!(
        t.fit(&mut net),
        Err(TrainError::NoFullBatch { len: 10, batch: 11 })
    ));
}

#[test]
fn errors_are_clear() {
    let empty = Dataset::<f64, 2, 3>::empty();
    let mut net = Net::<f64>::seeded(2);
    let err = Trainer::new(&empty, Mse, Sgd::new(0.1))
        .progress(false)
        .fit(&mut net)
        .unwrap_err();
    assert!(matches!(err, TrainError::EmptyData), "{err}");
    let d = data(10);
    let err = Trainer::new(&d, Mse, Sgd::new(0.1))
        .validation(&empty)
        .progress(false)
        .fit(&mut net)
        .unwrap_err();
    assert!(matches!(err, TrainError::EmptyValidation));
    // A learning rate that blows up: the error names the epoch and the network keeps its
    // last finite parameters.
    crate::network! { struct Lin { input: 2, dense(3) } }
    let d3 = Dataset::<f64, 2, 3>::new(
        (0..8)
            .map(|i| SVector::<f64, 2>::new(i as f64 * 100.0, 1.0))
            .collect(),
        (0..8)
            .map(|_| SVector::<f64, 3>::new(1e6, -1e6, 0.0))
            .collect(),
    )
    .unwrap();
    let mut lin = Lin::<f64>::seeded(1);
    let err = Trainer::new(&d3, Mse, Sgd::new(10.0))
        .epochs(100)
        .progress(false)
        .fit(&mut lin)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteGradient { .. }
        ),
        "{err}"
    );
    assert!(crate::params::Parameters::is_finite(&lin));
    assert!(err.to_string().contains("epoch"), "{err}");
}

#[test]
fn early_stopping_and_restore_best() {
    let train = data(40);
    let val = data(60);
    let mut net = Net::<f64>::seeded(4);
    let mut seen = Vec::new();
    let h = Trainer::new(&train, CrossEntropy, Sgd::new(3.0))
        .batch_size::<4>()
        .epochs(200)
        .validation(&val)
        .early_stopping(3, 0.0)
        .restore_best(true)
        .on_epoch(|r, _| seen.push(r.epoch))
        .progress(false)
        .fit(&mut net)
        .unwrap();
    let Some(StopReason::EarlyStopping {
        best_epoch,
        best_loss,
    }) = h.stopped.clone()
    else {
        panic!("expected an early stop: {h:?}");
    };
    assert_eq!(h.epochs.len(), best_epoch + 4);
    assert_eq!(seen.len(), h.epochs.len());
    let now = evaluate::<_, _, 2, 3, 4>(&net, &val, &CrossEntropy).loss;
    assert!((now - best_loss).abs() < 1e-12, "{now} vs {best_loss}");
}

#[test]
fn schedule_drives_the_learning_rate() {
    let d = data(12);
    let mut net = Net::<f64>::seeded(4);
    let h = Trainer::new(&d, Mse, Sgd::new(0.1))
        .batch_size::<4>()
        .epochs(5)
        .schedule(StepLr::new(0.1, 2).gamma(0.5))
        .progress(false)
        .fit(&mut net)
        .unwrap();
    let lrs: Vec<f64> = h.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.05, 0.025]);
}

#[test]
fn resumed_run_is_bit_identical() {
    let d = data(37);
    let val = data(20);
    let dir = std::env::temp_dir().join(format!("nn-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let trainer = |epochs| {
        Trainer::new(&d, CrossEntropy, Adam::new(0.01).amsgrad(true))
            .batch_size::<5>()
            .epochs(epochs)
            .seed(11)
            .validation(&val)
            .schedule(StepLr::new(0.01, 2).gamma(0.7))
            .progress(false)
    };
    let mut straight = Net::<f64>::seeded(8);
    let full = trainer(6).fit(&mut straight).unwrap();

    let mut first = Net::<f64>::seeded(8);
    trainer(3).checkpoint(&dir, 1).fit(&mut first).unwrap();
    let mut resumed = Net::<f64>::zeros();
    let mut t = trainer(6).resume_from(&dir);
    let h = t.fit(&mut resumed).unwrap();
    assert_eq!(resumed, straight, "resumed weights differ");
    let strip = |h: &History| {
        h.epochs
            .iter()
            .map(|e| (e.train_loss, e.validation_loss, e.lr, e.steps))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&h), strip(&full));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn report(epoch: usize, validation_loss: Option<f64>) -> EpochReport {
    EpochReport {
        epoch,
        train_loss: 1.0,
        validation_loss,
        validation_accuracy: None,
        lr: 0.1,
        steps: epoch as u64 + 1,
        seconds: 0.0,
    }
}

#[test]
fn non_finite_validation_loss_is_never_the_best() {
    let h = History {
        epochs: vec![
            report(0, Some(0.5)),
            report(1, Some(f64::NAN)),
            report(2, Some(0.7)),
            report(3, Some(f64::INFINITY)),
        ],
        stopped: None,
    };
    assert_eq!(h.best().map(|e| e.epoch), Some(0));
    let only_nan = History {
        epochs: vec![report(0, Some(f64::NAN))],
        stopped: None,
    };
    assert_eq!(only_nan.best(), None);
}

#[test]
fn non_finite_validation_loss_counts_towards_early_stopping() {
    let (mut best, mut bad) = (None, 0);
    assert!(track_best(&mut best, &mut bad, 0, 0.5, 0.0));
    for (epoch, v) in [(1, f64::NAN), (2, f64::INFINITY), (3, f64::NAN)] {
        assert!(!track_best(&mut best, &mut bad, epoch, v, 0.0), "{v}");
    }
    assert_eq!((best, bad), (Some((0, 0.5)), 3));
    // Before any finite loss, a NaN is not a best either.
    let (mut best, mut bad) = (None, 0);
    assert!(!track_best(&mut best, &mut bad, 0, f64::NAN, 0.0));
    assert_eq!(best, None);
    assert!(track_best(&mut best, &mut bad, 1, 2.0, 0.0));
    assert_eq!(best, Some((1, 2.0)));
}

crate::network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Lin32 { input: 2, dense(1) }
}

fn big_targets() -> Dataset<f32, 2, 1> {
    Dataset::new(
        (0..4)
            .map(|i| SVector::<f32, 2>::new(1.0, i as f32))
            .collect(),
        (0..4).map(|_| SVector::<f32, 1>::new(1e10)).collect(),
    )
    .unwrap()
}

#[test]
fn a_step_that_overflows_the_weights_is_undone() {
    // Loss (1e20) and gradients (about 1e10) are finite in f32; the update, 1e30 times
    // the gradient, is not.
    let d = big_targets();
    let mut net = Lin32::<f32>::seeded(1);
    let before = net.clone();
    let err = Trainer::new(&d, Mse, Sgd::new(1e30))
        .batch_size::<4>()
        .progress(false)
        .fit(&mut net)
        .unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteParameters { epoch: 0, step: 0 }),
        "{err}"
    );
    assert_eq!(net, before);
    // The network can still be saved.
    assert!(crate::io::to_safetensors_bytes(&net, crate::scalar::Dtype::F32).is_ok());
}

#[test]
fn hyper_parameters_the_scalar_cannot_represent_are_rejected_at_the_start() {
    let d = big_targets();
    let mut net = Lin32::<f32>::seeded(1);
    let before = net.clone();
    let err = Trainer::new(&d, Mse, Sgd::new(1e39))
        .progress(false)
        .fit(&mut net)
        .unwrap_err();
    assert!(
        matches!(err, TrainError::Unrepresentable { name: "lr", value, .. } if value == 1e39),
        "{err}"
    );
    let err = Trainer::new(&d, Mse, Adam::new(1e-3).eps(1e-50))
        .progress(false)
        .fit(&mut net)
        .unwrap_err();
    assert!(
        matches!(err, TrainError::Unrepresentable { name: "eps", .. }),
        "{err}"
    );
    let err = Trainer::new(&d, Mse, Sgd::new(1e-3))
        .clip_grad_norm(1e40)
        .progress(false)
        .fit(&mut net)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Unrepresentable {
                name: "max_norm",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(net, before);
    // f64 represents them all.
    let d64 = data(8);
    let mut net64 = Net::<f64>::seeded(1);
    Trainer::new(&d64, Mse, Sgd::new(1e-300))
        .progress(false)
        .fit(&mut net64)
        .unwrap();
}

/// The fields of a history that a resumed run reproduces (not the durations).
fn strip(h: &History) -> Vec<(f64, Option<f64>, f64, u64)> {
    h.epochs
        .iter()
        .map(|e| (e.train_loss, e.validation_loss, e.lr, e.steps))
        .collect()
}

fn stopping_trainer<'d>(
    train: &'d Dataset<f64, 2, 3>,
    val: &'d Dataset<f64, 2, 3>,
    epochs: usize,
) -> Trainer<'d, Net<f64>, CrossEntropy, Sgd<Net<f64>>, 2, 3, 4> {
    Trainer::new(train, CrossEntropy, Sgd::new(3.0).momentum(0.5))
        .batch_size::<4>()
        .epochs(epochs)
        .seed(5)
        .validation(val)
        .early_stopping(3, 0.0)
        .restore_best(true)
        .progress(false)
}

#[test]
fn resume_with_restore_best_is_bit_identical() {
    let (train, val) = (data(40), data(60));
    let mut straight = Net::<f64>::seeded(4);
    let full = stopping_trainer(&train, &val, 200)
        .fit(&mut straight)
        .unwrap();
    let Some(StopReason::EarlyStopping { best_epoch, .. }) = full.stopped else {
        panic!("expected an early stop: {full:?}");
    };
    // Interrupted after the best epoch, before the stop: the checkpoint's own weights
    // are not the best ones.
    let dir = std::env::temp_dir().join(format!("nn-ckpt-best-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut first = Net::<f64>::seeded(4);
    stopping_trainer(&train, &val, best_epoch + 2)
        .checkpoint(&dir, 1)
        .fit(&mut first)
        .unwrap();
    let mut resumed = Net::<f64>::zeros();
    let h = stopping_trainer(&train, &val, 200)
        .resume_from(&dir)
        .fit(&mut resumed)
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(strip(&h), strip(&full));
    assert_eq!(h.stopped, full.stopped);
    assert_eq!(resumed, straight, "resumed run restored other weights");
}

#[test]
fn resuming_a_run_that_stopped_early_trains_no_more() {
    let (train, val) = (data(40), data(60));
    let dir = std::env::temp_dir().join(format!("nn-ckpt-stopped-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut straight = Net::<f64>::seeded(4);
    let full = stopping_trainer(&train, &val, 200)
        .checkpoint(&dir, 1)
        .fit(&mut straight)
        .unwrap();
    assert!(full.stopped.is_some());
    let mut resumed = Net::<f64>::zeros();
    let h = stopping_trainer(&train, &val, 200)
        .resume_from(&dir)
        .fit(&mut resumed)
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(h.epochs.len(), full.epochs.len(), "trained past the stop");
    assert_eq!(h.stopped, full.stopped);
    assert_eq!(resumed, straight);
}

#[test]
fn resuming_with_restore_best_needs_the_best_weights() {
    let (train, val) = (data(40), data(60));
    let dir = std::env::temp_dir().join(format!("nn-ckpt-nobest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut net = Net::<f64>::seeded(4);
    Trainer::new(&train, CrossEntropy, Sgd::new(0.1))
        .epochs(2)
        .validation(&val)
        .checkpoint(&dir, 1)
        .progress(false)
        .fit(&mut net)
        .unwrap();
    let mut resumed = Net::<f64>::seeded(9);
    let before = resumed.clone();
    let err = Trainer::new(&train, CrossEntropy, Sgd::new(0.1))
        .epochs(4)
        .validation(&val)
        .restore_best(true)
        .resume_from(&dir)
        .progress(false)
        .fit(&mut resumed)
        .unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(
            err,
            TrainError::Checkpoint(CheckpointError::BestMismatch {
                found: None,
                expected: Some(_),
                ..
            })
        ),
        "{err}"
    );
    assert_eq!(resumed, before, "the failed resume changed the network");
}
