//! The training loop: mini-batches of a const size, seeded shuffling, validation,
//! learning-rate schedules, early stopping, checkpoints and a progress bar.
//!
//! ```
//! # use nn_runtime as nn;
//! use nn::prelude::*;
//! use nn::data::Dataset;
//! use nn::optim::Adam;
//! use nn::train::Trainer;
//!
//! nn::network! { struct Xor { input: 2, dense(8), tanh, dense(2), softmax } }
//!
//! let inputs = vec![
//!     SVector::<f64, 2>::new(0.0, 0.0), SVector::<f64, 2>::new(0.0, 1.0),
//!     SVector::<f64, 2>::new(1.0, 0.0), SVector::<f64, 2>::new(1.0, 1.0),
//! ];
//! let data = Dataset::from_classes(inputs, &[0, 1, 1, 0])?;
//! let mut net = Xor::<f64>::seeded(1);
//! let history = Trainer::new(&data, CrossEntropy, Adam::new(0.05))
//!     .batch_size::<4>()          // full-batch
//!     .epochs(300)
//!     .seed(7)
//!     .validation(&data)
//!     .progress(false)
//!     .fit(&mut net)?;
//! assert_eq!(history.last().unwrap().validation_accuracy, Some(1.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Each epoch shuffles the training set with a generator derived from the seed and the
//! epoch number, then runs every sample exactly once. When the set is not a multiple of
//! the batch size, the last, shorter batch is used too: its gradient is the mean of its
//! samples' gradients, computed sample by sample (for every built-in loss, which average
//! over samples, that is exactly the gradient of that smaller batch); set
//! [`drop_last`](Trainer::drop_last) to skip it instead. The same seed gives bit-identical
//! results on every run, and a run resumed from a [checkpoint](Trainer::checkpoint) is
//! bit-identical to an uninterrupted one.

mod checkpoint;
mod evaluate;

pub use checkpoint::{
    load_checkpoint, save_checkpoint, CheckpointError, CheckpointInfo, CHECKPOINT_FILE,
};
pub use evaluate::{confusion_matrix, evaluate, Evaluation};

use crate::data::{shuffle_in_place, DataError, Dataset};
use crate::loss::Loss;
use crate::network::Network;
use crate::optim::{clip_grad_norm, clip_grad_value, Optimizer};
use crate::params::{boxed_zero_matrix, Parameters, ZeroableParameters};
use crate::scalar::Scalar;
use crate::schedule::LrSchedule;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Instant;

/// What went wrong in training. The network holds the parameters of the last good step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The training set has no samples.
    #[error("the training set is empty")]
    EmptyData,
    /// The validation set has no samples.
    #[error("the validation set is empty")]
    EmptyValidation,
    /// `drop_last` is set and the training set is smaller than one batch.
    #[error(
        "drop_last is set, but the training set has {len} samples, fewer than one batch of {batch}"
    )]
    NoFullBatch {
        /// Samples in the training set.
        len: usize,
        /// The batch size.
        batch: usize,
    },
    /// The batch size is zero.
    #[error("the batch size must be at least 1")]
    ZeroBatch,
    /// The loss became NaN or infinite; the step was not applied.
    #[error("the loss became {value} at epoch {epoch}, step {step}: lower the learning rate or check the data; the step was not applied")]
    NonFiniteLoss {
        /// The epoch (from 0).
        epoch: usize,
        /// The step within the epoch (from 0).
        step: usize,
        /// The loss.
        value: f64,
    },
    /// A step with a finite loss and finite gradients made a parameter NaN or infinite
    /// (the update overflowed the scalar type: a learning rate or inputs too large); the
    /// step was undone, so the network holds the previous step's parameters. The
    /// optimizer's state (its moments and step count) includes the rejected step.
    #[error("a parameter became non-finite at epoch {epoch}, step {step}, although the loss and gradients were finite: lower the learning rate or scale the inputs; the step was undone")]
    NonFiniteParameters {
        /// The epoch (from 0).
        epoch: usize,
        /// The step within the epoch (from 0).
        step: usize,
    },
    /// A hyper-parameter (of the optimizer, of gradient clipping, or a learning rate set
    /// by the schedule or a checkpoint) that the network's scalar type cannot represent:
    /// it would round to infinity, or a non-zero value to zero. Checked before the first
    /// step and whenever the learning rate changes.
    #[error("{name} = {value:e} cannot be represented in the network's scalar type {dtype:?} (it would round to {rounded:e})")]
    Unrepresentable {
        /// PyTorch's name of the hyper-parameter (`"lr"`, `"eps"`, `"max_norm"`...).
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it rounds to in the scalar type.
        rounded: f64,
        /// The network's scalar type.
        dtype: crate::scalar::Dtype,
    },
    /// A gradient became NaN or infinite; the step was not applied.
    #[error(
        "a gradient became non-finite at epoch {epoch}, step {step}; the step was not applied"
    )]
    NonFiniteGradient {
        /// The epoch (from 0).
        epoch: usize,
        /// The step within the epoch (from 0).
        step: usize,
    },
    /// A data error (should not happen with a valid `Dataset`).
    #[error(transparent)]
    Data(#[from] DataError),
    /// Saving or loading a checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// What one epoch did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch, from 0.
    pub epoch: usize,
    /// Mean training loss over the epoch's samples, as measured during the steps.
    pub train_loss: f64,
    /// Loss on the validation set after the epoch.
    pub validation_loss: Option<f64>,
    /// Accuracy on the validation set after the epoch (for classification losses).
    pub validation_accuracy: Option<f64>,
    /// The learning rate used during the epoch.
    pub lr: f64,
    /// Optimizer steps taken so far.
    pub steps: u64,
    /// Wall-clock seconds the epoch took (not part of any reproducibility guarantee).
    pub seconds: f64,
}

/// Why training stopped before the last epoch.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// No improvement of the validation loss for `patience` epochs.
    EarlyStopping {
        /// The epoch with the best validation loss.
        best_epoch: usize,
        /// Its validation loss.
        best_loss: f64,
    },
}

/// The per-epoch reports of a training run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One report per epoch trained (including epochs restored from a checkpoint).
    pub epochs: Vec<EpochReport>,
    /// Set when training stopped early.
    pub stopped: Option<StopReason>,
}

impl History {
    /// The last epoch's report.
    pub fn last(&self) -> Option<&EpochReport> {
        self.epochs.last()
    }

    /// The epoch with the lowest validation loss, if validation was run (the first of
    /// equal ones). A NaN or infinite validation loss is never the best: `None` when no
    /// epoch has a finite one.
    pub fn best(&self) -> Option<&EpochReport> {
        let mut best: Option<(&EpochReport, f64)> = None;
        for e in &self.epochs {
            if let Some(v) = e.validation_loss.filter(|v| v.is_finite()) {
                if best.is_none_or(|(_, b)| v < b) {
                    best = Some((e, v));
                }
            }
        }
        best.map(|(e, _)| e)
    }
}

type Callback<'d, N> = Box<dyn FnMut(&EpochReport, &N) + 'd>;

struct Config<'d, N: Network<IN, OUT>, L, O, const IN: usize, const OUT: usize> {
    train: &'d Dataset<N::Scalar, IN, OUT>,
    validation: Option<&'d Dataset<N::Scalar, IN, OUT>>,
    loss: L,
    optimizer: O,
    schedule: Option<Box<dyn LrSchedule + 'd>>,
    epochs: usize,
    seed: u64,
    drop_last: bool,
    patience: Option<usize>,
    min_delta: f64,
    restore_best: bool,
    progress: bool,
    clip_norm: Option<f64>,
    clip_value: Option<f64>,
    callback: Option<Callback<'d, N>>,
    checkpoint: Option<(PathBuf, usize)>,
    resume: Option<PathBuf>,
}

/// A training run, configured with builder methods and started with [`fit`](Self::fit).
///
/// `B` is the mini-batch size, a constant (`batch_size::<32>()`): 1 by default, as
/// PyTorch's `DataLoader`. Full-batch gradient descent is the batch of the whole set.
pub struct Trainer<
    'd,
    N: Network<IN, OUT>,
    L,
    O,
    const IN: usize,
    const OUT: usize,
    const B: usize = 1,
> {
    cfg: Config<'d, N, L, O, IN, OUT>,
    _batch: PhantomData<[(); B]>,
}

impl<'d, N, L, O, const IN: usize, const OUT: usize> Trainer<'d, N, L, O, IN, OUT, 1>
where
    N: Network<IN, OUT>,
    L: Loss<N::Scalar>,
    O: Optimizer<N>,
{
    /// A trainer on `train` with a loss and an optimizer: batch size 1, 1 epoch, seed 0,
    /// progress bar on a terminal.
    pub fn new(train: &'d Dataset<N::Scalar, IN, OUT>, loss: L, optimizer: O) -> Self {
        Trainer {
            cfg: Config {
                train,
                validation: None,
                loss,
                optimizer,
                schedule: None,
                epochs: 1,
                seed: 0,
                drop_last: false,
                patience: None,
                min_delta: 0.0,
                restore_best: false,
                progress: true,
                clip_norm: None,
                clip_value: None,
                callback: None,
                checkpoint: None,
                resume: None,
            },
            _batch: PhantomData,
        }
    }
}

impl<'d, N, L, O, const IN: usize, const OUT: usize, const B: usize>
    Trainer<'d, N, L, O, IN, OUT, B>
where
    N: Network<IN, OUT>,
    L: Loss<N::Scalar>,
    O: Optimizer<N>,
{
    /// Sets the mini-batch size.
    pub fn batch_size<const B2: usize>(self) -> Trainer<'d, N, L, O, IN, OUT, B2> {
        Trainer {
            cfg: self.cfg,
            _batch: PhantomData,
        }
    }

    /// Sets the number of epochs (passes over the training set).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.cfg.epochs = epochs;
        self
    }

    /// Sets the seed of the shuffling.
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = seed;
        self
    }

    /// Evaluates loss (and accuracy, for classification losses) on `data` after every epoch.
    pub fn validation(mut self, data: &'d Dataset<N::Scalar, IN, OUT>) -> Self {
        self.cfg.validation = Some(data);
        self
    }

    /// Drives the learning rate with a schedule, stepped once per epoch with the
    /// validation loss (or the training loss without validation) as the metric.
    pub fn schedule(mut self, schedule: impl LrSchedule + 'd) -> Self {
        self.cfg.schedule = Some(Box::new(schedule));
        self
    }

    /// Skips the last, shorter batch of each epoch instead of using it.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.cfg.drop_last = drop;
        self
    }

    /// Stops when the validation loss has not improved by more than `min_delta` for
    /// `patience` epochs (needs [`validation`](Self::validation)).
    pub fn early_stopping(mut self, patience: usize, min_delta: f64) -> Self {
        self.cfg.patience = Some(patience);
        self.cfg.min_delta = min_delta;
        self
    }

    /// At the end, puts back the parameters of the epoch with the best validation loss.
    pub fn restore_best(mut self, restore: bool) -> Self {
        self.cfg.restore_best = restore;
        self
    }

    /// Shows a progress bar on a terminal (the default); never when output is not a
    /// terminal.
    pub fn progress(mut self, show: bool) -> Self {
        self.cfg.progress = show;
        self
    }

    /// Clips the gradients' global L2 norm to `max_norm` before each step.
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.cfg.clip_norm = Some(max_norm);
        self
    }

    /// Clips every gradient element to `[-value, value]` before each step.
    pub fn clip_grad_value(mut self, value: f64) -> Self {
        self.cfg.clip_value = Some(value);
        self
    }

    /// Calls `f` after every epoch with its report and the network.
    pub fn on_epoch(mut self, f: impl FnMut(&EpochReport, &N) + 'd) -> Self {
        self.cfg.callback = Some(Box::new(f));
        self
    }

    /// Saves a checkpoint (weights, optimizer state, history, and with
    /// [`restore_best`](Self::restore_best) the best epoch's weights) into `dir` every
    /// `every` epochs and after the last one (or the early stop). See
    /// [`save_checkpoint`] for the file.
    pub fn checkpoint(mut self, dir: impl Into<PathBuf>, every: usize) -> Self {
        self.cfg.checkpoint = Some((dir.into(), every.max(1)));
        self
    }

    /// Resumes from a checkpoint in `dir`: loads the weights, the optimizer state, the
    /// history and the best weights, replays the schedule and the early-stopping state,
    /// and continues with the next epoch; a run that had stopped early trains no more.
    /// With the same settings, the result is bit-identical to an uninterrupted run.
    pub fn resume_from(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cfg.resume = Some(dir.into());
        self
    }

    /// The optimizer (its state after training).
    pub fn optimizer(&self) -> &O {
        &self.cfg.optimizer
    }

    /// Trains `net` and returns the history.
    ///
    /// Allocates its buffers once before the first step; the steps themselves allocate
    /// nothing.
    ///
    /// # Errors
    /// Before the first step: an empty or too small data set, a zero batch, a checkpoint
    /// that cannot be resumed, and [`TrainError::Unrepresentable`] for a hyper-parameter
    /// the network's scalar type cannot hold. During training, every step is checked:
    /// a non-finite loss or gradient is not applied, and an update that leaves a
    /// parameter non-finite is undone ([`TrainError::NonFiniteParameters`]), so on error
    /// `net` always holds the finite parameters of the last good step (and can be
    /// saved).
    pub fn fit(&mut self, net: &mut N) -> Result<History, TrainError> {
        let cfg = &mut self.cfg;
        let n = cfg.train.len();
        if B == 0 {
            return Err(TrainError::ZeroBatch);
        }
        if n == 0 {
            return Err(TrainError::EmptyData);
        }
        if cfg.validation.is_some_and(|v| v.is_empty()) {
            return Err(TrainError::EmptyValidation);
        }
        if cfg.drop_last && n < B {
            return Err(TrainError::NoFullBatch { len: n, batch: B });
        }

        for (name, value) in cfg.optimizer.hyper_parameters() {
            representable::<N::Scalar>(name, value)?;
        }
        for (name, value) in [("max_norm", cfg.clip_norm), ("clip_value", cfg.clip_value)] {
            if let Some(v) = value {
                representable::<N::Scalar>(name, v)?;
            }
        }

        // The weights of the best epoch so far, for `restore_best`.
        let mut best_net = (cfg.restore_best && cfg.validation.is_some()).then(N::boxed_zeroed);
        let mut history = History::default();
        // Early-stopping state: replayed from the history of a resumed run.
        let replay = |h: &History| {
            let (mut best, mut bad) = (None, 0usize);
            for e in &h.epochs {
                if let Some(v) = e.validation_loss {
                    track_best(&mut best, &mut bad, e.epoch, v, cfg.min_delta);
                }
            }
            (best, bad)
        };
        let mut stored_best = None;
        if let Some(dir) = &cfg.resume {
            let keeps_best = best_net.is_some();
            (history, stored_best) = checkpoint::load(
                dir,
                net,
                &mut cfg.optimizer,
                best_net.as_deref_mut(),
                |path, h, found| {
                    let expected = replay(h).0.map(|(e, _)| e);
                    if keeps_best && expected != found {
                        return Err(CheckpointError::BestMismatch {
                            path: path.to_path_buf(),
                            expected,
                            found,
                        });
                    }
                    Ok(())
                },
            )?;
        }
        let (mut best, mut bad_epochs) = replay(&history);
        if let Some(b) = best_net.as_mut() {
            if stored_best.is_none() {
                b.copy_from(net);
            }
        }
        // The schedule's state is a function of the metrics seen: replay them.
        if let Some(s) = cfg.schedule.as_mut() {
            for e in &history.epochs {
                s.step(Some(e.validation_loss.unwrap_or(e.train_loss)));
            }
            cfg.optimizer.set_lr(s.lr());
        }
        representable::<N::Scalar>("lr", cfg.optimizer.lr())?;

        let mut order: Vec<usize> = (0..n).collect();
        let mut x = boxed_zero_matrix::<N::Scalar, IN, B>();
        let mut y = boxed_zero_matrix::<N::Scalar, OUT, B>();
        let mut x1 = boxed_zero_matrix::<N::Scalar, IN, 1>();
        let mut y1 = boxed_zero_matrix::<N::Scalar, OUT, 1>();
        let mut grads = N::Gradients::boxed_zeroed();
        // The parameters before the step being taken, to undo one that overflows them.
        let mut prev = N::boxed_zeroed();
        let first = history.epochs.len();
        history.epochs.reserve(cfg.epochs.saturating_sub(first));
        let mut bar = progress::Bar::new(cfg.progress, cfg.epochs, first);

        // A run that stopped early stays stopped.
        let end = if history.stopped.is_some() {
            first
        } else {
            cfg.epochs
        };
        for epoch in first..end {
            let started = Instant::now();
            let lr = cfg.optimizer.lr();
            for (i, o) in order.iter_mut().enumerate() {
                *o = i;
            }
            let mut rng = crate::init::seeded_rng(cfg.seed);
            rng.set_stream(epoch as u64);
            shuffle_in_place(&mut order, &mut rng);

            let mut sum = 0.0f64;
            let mut seen = 0usize;
            let mut step = 0usize;
            for chunk in order.chunks_exact(B) {
                cfg.train.fill_batch::<B>(chunk, &mut x, &mut y)?;
                let l = net.loss_and_gradients_into(&x, &y, &cfg.loss, &mut grads);
                apply(cfg, net, &mut prev, &mut grads, l, epoch, step)?;
                sum += l.to_f64() * B as f64;
                seen += B;
                step += 1;
            }
            let rest = order.chunks_exact(B).remainder();
            if !rest.is_empty() && !cfg.drop_last {
                grads.fill_zero();
                let mut l = N::Scalar::from_f64(0.0);
                for &i in rest {
                    cfg.train.fill_batch::<1>(&[i], &mut x1, &mut y1)?;
                    l += net.accumulate_gradients(&x1, &y1, &cfg.loss, &mut grads);
                }
                let r = N::Scalar::from_usize(rest.len());
                grads.scale(N::Scalar::from_f64(1.0) / r);
                l /= r;
                apply(cfg, net, &mut prev, &mut grads, l, epoch, step)?;
                sum += l.to_f64() * rest.len() as f64;
                seen += rest.len();
            }
            let train_loss = sum / seen as f64;

            let eval = cfg
                .validation
                .map(|v| evaluate::<N, L, IN, OUT, B>(net, v, &cfg.loss));
            let report = EpochReport {
                epoch,
                train_loss,
                validation_loss: eval.as_ref().map(|e| e.loss),
                validation_accuracy: eval.as_ref().and_then(|e| e.accuracy),
                lr,
                steps: cfg.optimizer.steps(),
                seconds: started.elapsed().as_secs_f64(),
            };
            if let Some(s) = cfg.schedule.as_mut() {
                let lr = s.step(Some(report.validation_loss.unwrap_or(train_loss)));
                representable::<N::Scalar>("lr", lr)?;
                cfg.optimizer.set_lr(lr);
            }
            bar.update(&report);
            if let Some(f) = cfg.callback.as_mut() {
                f(&report, net);
            }
            let mut stop = None;
            if let Some(v) = report.validation_loss {
                let improved = track_best(&mut best, &mut bad_epochs, epoch, v, cfg.min_delta);
                if improved {
                    if let Some(b) = best_net.as_mut() {
                        b.copy_from(net);
                    }
                }
                if let (Some(p), Some((best_epoch, best_loss))) = (cfg.patience, best) {
                    if bad_epochs >= p {
                        stop = Some(StopReason::EarlyStopping {
                            best_epoch,
                            best_loss,
                        });
                    }
                }
            }
            history.epochs.push(report);
            // Saved with the checkpoint, so that a resumed run stays stopped.
            history.stopped = stop;
            let last = epoch + 1 == cfg.epochs || history.stopped.is_some();
            if let Some((dir, every)) = &cfg.checkpoint {
                if (epoch + 1) % every == 0 || last {
                    let best = best.zip(best_net.as_deref()).map(|((e, _), b)| (e, b));
                    checkpoint::save(dir, net, &cfg.optimizer, &history, best)?;
                }
            }
            if history.stopped.is_some() {
                break;
            }
        }
        bar.finish();
        if let Some(b) = best_net {
            net.copy_from(&b);
        }
        Ok(history)
    }
}

/// Updates the best validation loss; returns whether it improved. A NaN or infinite
/// loss never improves: it counts as a bad epoch for early stopping.
fn track_best(
    best: &mut Option<(usize, f64)>,
    bad: &mut usize,
    epoch: usize,
    v: f64,
    min_delta: f64,
) -> bool {
    match *best {
        _ if !v.is_finite() => {
            *bad += 1;
            false
        }
        Some((_, b)) if v >= b - min_delta => {
            *bad += 1;
            false
        }
        _ => {
            *best = Some((epoch, v));
            *bad = 0;
            true
        }
    }
}

/// Checks that `value` survives conversion to `T`: finite, and not a non-zero value
/// rounded to zero.
fn representable<T: Scalar>(name: &'static str, value: f64) -> Result<(), TrainError> {
    let rounded = <T as Scalar>::from_f64(value).to_f64();
    if rounded.is_finite() && (rounded != 0.0 || value == 0.0) {
        Ok(())
    } else {
        Err(TrainError::Unrepresentable {
            name,
            value,
            rounded,
            dtype: T::DTYPE,
        })
    }
}

/// Checks, clips and applies one step; undoes it (from `prev`) if it left a parameter
/// non-finite.
#[allow(clippy::too_many_arguments)]
fn apply<N, L, O, const IN: usize, const OUT: usize>(
    cfg: &mut Config<'_, N, L, O, IN, OUT>,
    net: &mut N,
    prev: &mut N,
    grads: &mut N::Gradients,
    loss: N::Scalar,
    epoch: usize,
    step: usize,
) -> Result<(), TrainError>
where
    N: Network<IN, OUT>,
    O: Optimizer<N>,
{
    let value = loss.to_f64();
    if !value.is_finite() {
        return Err(TrainError::NonFiniteLoss { epoch, step, value });
    }
    if !grads.is_finite() {
        return Err(TrainError::NonFiniteGradient { epoch, step });
    }
    if let Some(v) = cfg.clip_value {
        clip_grad_value(&mut *grads, v);
    }
    if let Some(m) = cfg.clip_norm {
        clip_grad_norm(&mut *grads, m);
    }
    prev.copy_from(net);
    cfg.optimizer.step(net, grads);
    if !net.is_finite() {
        net.copy_from(prev);
        return Err(TrainError::NonFiniteParameters { epoch, step });
    }
    Ok(())
}

#[cfg(feature = "progress")]
mod progress {
    use super::EpochReport;
    use std::io::IsTerminal;

    pub struct Bar(Option<indicatif::ProgressBar>);

    impl Bar {
        pub fn new(show: bool, epochs: usize, done: usize) -> Self {
            if !show || !std::io::stderr().is_terminal() {
                return Bar(None);
            }
            let bar = indicatif::ProgressBar::new(epochs as u64);
            let style = indicatif::ProgressStyle::with_template(
                "epoch {pos:>4}/{len} [{bar:30}] {per_sec:>10} eta {eta:>4}  {msg}",
            )
            .map(|s| s.progress_chars("=> "));
            if let Ok(s) = style {
                bar.set_style(s);
            }
            bar.set_position(done as u64);
            Bar(Some(bar))
        }

        pub fn update(&mut self, r: &EpochReport) {
            if let Some(b) = &self.0 {
                let mut msg = format!("loss {:.4}", r.train_loss);
                if let Some(v) = r.validation_loss {
                    msg.push_str(&format!("  val {v:.4}"));
                }
                if let Some(a) = r.validation_accuracy {
                    msg.push_str(&format!("  acc {:.2}%", 100.0 * a));
                }
                b.set_message(msg);
                b.inc(1);
            }
        }

        pub fn finish(&mut self) {
            if let Some(b) = &self.0 {
                b.finish();
            }
        }
    }
}

#[cfg(not(feature = "progress"))]
mod progress {
    use super::EpochReport;

    pub struct Bar;

    impl Bar {
        pub fn new(_show: bool, _epochs: usize, _done: usize) -> Self {
            Bar
        }
        pub fn update(&mut self, _r: &EpochReport) {}
        pub fn finish(&mut self) {}
    }
}

#[cfg(test)]
pub(crate) mod tests;
