//! The text part of a checkpoint: the optimizer's step count and learning rate, the
//! history, and which epoch the best weights are of. Every number is written so that it
//! reads back bit for bit, and every value is checked when it is read back.

use crate::scalar::Scalar;
use crate::train::{EpochReport, History, StopReason};
use std::fmt::Write as _;

/// The first line of the text.
pub(super) const MAGIC: &str = "nn-checkpoint";

/// The largest step count a checkpoint may hold: 2^53, the last integer an `f64` (the
/// optimizers' bias corrections) holds exactly, far beyond any run, and far enough from
/// `u64::MAX` that counting on never overflows.
pub(super) const MAX_STEPS: u64 = 1 << 53;

/// What a checkpoint holds besides its tensors.
#[derive(Debug, PartialEq)]
pub(super) struct State {
    /// The optimizer's step count.
    pub(super) steps: u64,
    /// The optimizer's learning rate.
    pub(super) lr: f64,
    /// The epochs trained and why training stopped, if it did.
    pub(super) history: History,
    /// The epoch whose weights are stored as the best ones, if any.
    pub(super) best_epoch: Option<usize>,
}

fn opt_f64(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:?}"))
}

impl State {
    /// The text, one `key value...` line each.
    pub(super) fn to_text(&self, version: u32) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{MAGIC} {version}");
        let _ = writeln!(s, "steps {}", self.steps);
        let _ = writeln!(s, "lr {:?}", self.lr);
        let _ = writeln!(s, "epochs {}", self.history.epochs.len());
        for e in &self.history.epochs {
            let _ = writeln!(
                s,
                "epoch {} {:?} {} {} {:?} {} {:?}",
                e.epoch,
                e.train_loss,
                opt_f64(e.validation_loss),
                opt_f64(e.validation_accuracy),
                e.lr,
                e.steps,
                e.seconds
            );
        }
        match self.best_epoch {
            Some(b) => _ = writeln!(s, "best {b}"),
            None => _ = writeln!(s, "best -"),
        }
        match &self.history.stopped {
            Some(StopReason::EarlyStopping {
                best_epoch,
                best_loss,
            }) => _ = writeln!(s, "stopped early {best_epoch} {best_loss:?}"),
            None => _ = writeln!(s, "stopped -"),
        }
        s
    }

    /// Parses and checks the text of a checkpoint for a network of scalar type `T`.
    /// On error, the line (from 1) and what is wrong.
    pub(super) fn parse<T: Scalar>(text: &str, version: u32) -> Result<State, (usize, String)> {
        let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        let mut next = |what: &str| {
            lines
                .next()
                .filter(|(_, l)| !l.is_empty())
                .ok_or_else(|| (0, format!("the text ends before its `{what}` line")))
        };
        let header = format!("{MAGIC} {version}");
        let (n, l) = next(MAGIC)?;
        if l != header {
            return Err((n, format!("expected `{header}`, found `{l}`")));
        }
        let (n, l) = next("steps")?;
        let steps = field(n, l, "steps")?;
        let steps = parse_steps(n, steps)?;
        let (n, l) = next("lr")?;
        let lr = parse_f64(n, field(n, l, "lr")?)?;
        check_lr::<T>(n, lr)?;
        let (n, l) = next("epochs")?;
        let count: usize = field(n, l, "epochs")?
            .parse()
            .map_err(|_| (n, "the epoch count is not an integer".to_string()))?;

        let mut history = History::default();
        let mut last_steps = 0u64;
        for i in 0..count {
            let (n, l) = next("epoch")?;
            let f: Vec<&str> = l.split(' ').collect();
            let ["epoch", e, tl, vl, va, elr, st, secs] = f.as_slice() else {
                return Err((n, format!("expected the line of epoch {i}, found `{l}`")));
            };
            if e.parse::<usize>().ok() != Some(i) {
                return Err((n, format!("expected epoch {i}, found `{e}`")));
            }
            let train_loss = parse_f64(n, tl)?;
            if !train_loss.is_finite() {
                return Err((n, format!("training loss {train_loss} is not finite")));
            }
            // A validation loss may be NaN or infinite: training records it, and never
            // counts it as the best.
            let validation_loss = opt(n, vl)?;
            let validation_accuracy = opt(n, va)?;
            if validation_accuracy.is_some_and(|a| !(0.0..=1.0).contains(&a)) {
                return Err((n, format!("accuracy `{va}` is not between 0 and 1")));
            }
            let lr = parse_f64(n, elr)?;
            check_lr::<T>(n, lr)?;
            let steps = parse_steps(n, st)?;
            if steps < last_steps {
                return Err((n, "the step count goes down".to_string()));
            }
            last_steps = steps;
            let seconds = parse_f64(n, secs)?;
            if !(seconds.is_finite() && seconds >= 0.0) {
                return Err((n, format!("duration `{secs}` is not a finite number >= 0")));
            }
            history.epochs.push(EpochReport {
                epoch: i,
                train_loss,
                validation_loss,
                validation_accuracy,
                lr,
                steps,
                seconds,
            });
        }
        if let Some(last) = history.last() {
            if last.steps != steps {
                return Err((
                    2,
                    format!(
                        "the optimizer's step count {steps} is not the last epoch's {}",
                        last.steps
                    ),
                ));
            }
        }
        let finite_loss = |e: usize| {
            history
                .epochs
                .get(e)
                .and_then(|r| r.validation_loss)
                .filter(|v| v.is_finite())
        };

        let (n, l) = next("best")?;
        let best_epoch = match field(n, l, "best")? {
            "-" => None,
            b => {
                let b: usize = b
                    .parse()
                    .map_err(|_| (n, format!("best epoch `{b}` is not an integer")))?;
                if finite_loss(b).is_none() {
                    return Err((n, format!("epoch {b} has no finite validation loss")));
                }
                Some(b)
            }
        };

        let (n, l) = next("stopped")?;
        let stopped = match l.split(' ').collect::<Vec<_>>().as_slice() {
            ["stopped", "-"] => None,
            ["stopped", "early", b, loss] => {
                let best_epoch: usize = b
                    .parse()
                    .map_err(|_| (n, format!("best epoch `{b}` is not an integer")))?;
                let best_loss = parse_f64(n, loss)?;
                if finite_loss(best_epoch).map(f64::to_bits) != Some(best_loss.to_bits()) {
                    return Err((
                        n,
                        format!("epoch {best_epoch} did not have validation loss {loss}"),
                    ));
                }
                Some(StopReason::EarlyStopping {
                    best_epoch,
                    best_loss,
                })
            }
            _ => return Err((n, format!("expected `stopped ...`, found `{l}`"))),
        };
        history.stopped = stopped;
        match lines.next() {
            Some((_, "")) if lines.next().is_none() => {}
            Some((n, l)) => return Err((n, format!("unexpected line `{l}`"))),
            None => return Err((0, "the text does not end with a newline".to_string())),
        }
        Ok(State {
            steps,
            lr,
            history,
            best_epoch,
        })
    }
}

/// The value of a `key value` line.
fn field<'a>(n: usize, line: &'a str, key: &str) -> Result<&'a str, (usize, String)> {
    match line.split_once(' ') {
        Some((k, v)) if k == key && !v.is_empty() && !v.contains(' ') => Ok(v),
        _ => Err((n, format!("expected `{key} <value>`, found `{line}`"))),
    }
}

fn parse_f64(n: usize, s: &str) -> Result<f64, (usize, String)> {
    s.parse::<f64>()
        .map_err(|_| (n, format!("`{s}` is not a number")))
}

fn opt(n: usize, s: &str) -> Result<Option<f64>, (usize, String)> {
    if s == "-" {
        Ok(None)
    } else {
        parse_f64(n, s).map(Some)
    }
}

fn parse_steps(n: usize, s: &str) -> Result<u64, (usize, String)> {
    match s.parse::<u64>() {
        Ok(v) if v <= MAX_STEPS => Ok(v),
        Ok(v) => Err((n, format!("step count {v} is beyond 2^53"))),
        Err(_) => Err((n, format!("step count `{s}` is not an integer"))),
    }
}

/// A learning rate: finite, `>= 0`, and representable in `T`.
fn check_lr<T: Scalar>(n: usize, lr: f64) -> Result<(), (usize, String)> {
    let rounded = <T as Scalar>::from_f64(lr).to_f64();
    if lr.is_finite() && lr >= 0.0 && rounded.is_finite() && (rounded != 0.0 || lr == 0.0) {
        Ok(())
    } else {
        Err((
            n,
            format!(
                "learning rate {lr:?} is not a finite value >= 0 that {:?} represents",
                T::DTYPE
            ),
        ))
    }
}
