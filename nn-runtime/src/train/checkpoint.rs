//! Checkpoints: weights, optimizer state and history, so training resumes exactly where
//! it stopped.
//!
//! A checkpoint is a directory:
//! - `model.safetensors`: the weights, by PyTorch's names, in the network's scalar type;
//! - `optimizer.<key>.safetensors`: one file per optimizer state buffer (`exp_avg`, ...);
//! - `state.txt`: the optimizer's step count and learning rate, and one line per epoch
//!   of history, every number written so that it reads back bit for bit.

use super::{EpochReport, History};
use crate::io::{load_safetensors, save_safetensors, LoadError, SaveError};
use crate::network::Trainable;
use crate::optim::Optimizer;
use crate::params::{Parameters, ZeroableParameters};
use crate::scalar::Scalar;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Saving or loading a checkpoint failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing a file failed.
    #[error("checkpoint file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Saving a tensor file failed.
    #[error("checkpoint: {0}")]
    Save(#[from] SaveError),
    /// Loading a tensor file failed (missing, mismatched network or optimizer).
    #[error("checkpoint: {0}")]
    Load(#[from] LoadError),
    /// `state.txt` is not what this library writes.
    #[error("checkpoint file {path}, line {line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line (from 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

const FORMAT: &str = "nn-checkpoint 1";

fn opt_f64(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:?}"))
}

/// Writes a checkpoint of `net`, `optimizer` and `history` into `dir` (created if needed).
pub fn save_checkpoint<N: Trainable, O: Optimizer<N>>(
    dir: &Path,
    net: &N,
    optimizer: &O,
    history: &History,
) -> Result<(), CheckpointError> {
    std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let dtype = N::Scalar::DTYPE;
    save_safetensors(net, dir.join("model.safetensors"), dtype)?;
    for (key, buffer) in optimizer.state() {
        save_safetensors(
            buffer,
            dir.join(format!("optimizer.{key}.safetensors")),
            dtype,
        )?;
    }
    let mut s = String::new();
    let _ = writeln!(s, "{FORMAT}");
    let _ = writeln!(s, "steps {}", optimizer.steps());
    let _ = writeln!(s, "lr {:?}", optimizer.lr());
    for e in &history.epochs {
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
    let path = dir.join("state.txt");
    std::fs::write(&path, s).map_err(|source| CheckpointError::Io { path, source })
}

/// Reads a checkpoint written by [`save_checkpoint`] into `net` and `optimizer` and
/// returns the history it holds.
pub fn load_checkpoint<N: Trainable, O: Optimizer<N>>(
    dir: &Path,
    net: &mut N,
    optimizer: &mut O,
) -> Result<History, CheckpointError> {
    let path = dir.join("state.txt");
    let text = std::fs::read_to_string(&path).map_err(|source| CheckpointError::Io {
        path: path.clone(),
        source,
    })?;
    let bad = |line: usize, message: &str| CheckpointError::Malformed {
        path: path.clone(),
        line,
        message: message.to_string(),
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, l)) if l == FORMAT => {}
        _ => {
            return Err(bad(
                1,
                "not an nn checkpoint (the first line must be `nn-checkpoint 1`)",
            ))
        }
    }
    let mut steps: Option<u64> = None;
    let mut lr: Option<f64> = None;
    let mut history = History::default();
    for (i, l) in lines {
        let line = i + 1;
        let f: Vec<&str> = l.split_whitespace().collect();
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| bad(line, &format!("`{s}` is not a number")))
        };
        let opt = |s: &str| if s == "-" { Ok(None) } else { num(s).map(Some) };
        match f.as_slice() {
            ["steps", v] => steps = Some(v.parse().map_err(|_| bad(line, "bad step count"))?),
            ["lr", v] => lr = Some(num(v)?),
            ["epoch", e, tl, vl, va, elr, st, secs] => {
                let epoch: usize = e.parse().map_err(|_| bad(line, "bad epoch number"))?;
                if epoch != history.epochs.len() {
                    return Err(bad(line, "epochs out of order"));
                }
                history.epochs.push(EpochReport {
                    epoch,
                    train_loss: num(tl)?,
                    validation_loss: opt(vl)?,
                    validation_accuracy: opt(va)?,
                    lr: num(elr)?,
                    steps: st.parse().map_err(|_| bad(line, "bad step count"))?,
                    seconds: num(secs)?,
                });
            }
            [] => {}
            _ => return Err(bad(line, "unexpected line")),
        }
    }
    let (Some(steps), Some(lr)) = (steps, lr) else {
        return Err(bad(1, "missing `steps` or `lr`"));
    };
    // Load everything into scratch copies first, so that an error changes nothing.
    let mut model = N::boxed_zeroed();
    load_safetensors(&mut *model, dir.join("model.safetensors"))?;
    let keys: Vec<&'static str> = optimizer.state().into_iter().map(|(k, _)| k).collect();
    let mut buffers = Vec::with_capacity(keys.len());
    for key in &keys {
        let mut b = N::Gradients::boxed_zeroed();
        load_safetensors(&mut *b, dir.join(format!("optimizer.{key}.safetensors")))?;
        buffers.push(b);
    }
    net.copy_from(&model);
    for ((_, dst), src) in optimizer.state_mut().into_iter().zip(&buffers) {
        dst.copy_from(src);
    }
    optimizer.set_steps(steps);
    optimizer.set_lr(lr);
    Ok(history)
}
