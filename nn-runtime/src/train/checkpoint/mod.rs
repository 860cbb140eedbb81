//! Checkpoints: weights, optimizer state and history, so training resumes exactly where
//! it stopped.
//!
//! A checkpoint is one file, `checkpoint.safetensors` in the checkpoint directory, written
//! to a temporary name, flushed to disk and renamed over the previous one: after a crash
//! the directory holds the previous checkpoint or the new one, whole. The file is
//! safetensors (PyTorch's `safetensors.torch.load_file` reads it) holding
//! - `model.<name>`: the weights, by PyTorch's names, in the network's scalar type;
//! - `optimizer.<key>.<name>`: the optimizer's state buffers (`exp_avg`, ...);
//! - `best.<name>`: the weights of the best epoch so far, when the trainer keeps them
//!   ([`Trainer::restore_best`](super::Trainer::restore_best));
//!
//! and, in its header's metadata, `nn.checkpoint` (the format version, 2), `nn.state`
//! (the optimizer's step count and learning rate, one line per epoch of history, the best
//! epoch and why training stopped, every number written so that it reads back bit for
//! bit) and `nn.crc32`, a CRC-32 of every other metadata entry and of every tensor's name,
//! dtype, shape and bytes.
//!
//! Loading checks the checksum, then every value (a learning rate that is finite, `>= 0`
//! and representable in the network's scalar type; step counts up to 2^53 that agree with
//! the history; epochs in order; a best epoch that exists...), then every tensor, before
//! it changes the network or the optimizer: a cut, corrupted, mixed or crafted file is a
//! [`CheckpointError`] and leaves both as they were.

mod state;
#[cfg(test)]
mod tests;

use super::History;
use crate::io::{self, LoadError, SaveError};
use crate::network::Trainable;
use crate::optim::Optimizer;
use crate::params::{Parameters, ZeroableParameters};
use crate::scalar::Scalar;
use safetensors::tensor::TensorView;
use state::State;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The checkpoint file's name inside the checkpoint directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";

/// The format version this library writes and reads.
const VERSION: u32 = 2;

const KEY_VERSION: &str = "nn.checkpoint";
const KEY_STATE: &str = "nn.state";
const KEY_CRC: &str = "nn.crc32";

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
    /// Saving a tensor failed.
    #[error("checkpoint: {0}")]
    Save(#[from] SaveError),
    /// The file is not safetensors, or a tensor is missing, unexpected, of the wrong shape
    /// or holds a non-finite value (the tensor's name says which part: `model.`,
    /// `optimizer.<key>.`, `best.`): a checkpoint of another network or optimizer.
    #[error("checkpoint: {0}")]
    Load(#[from] LoadError),
    /// The checksum does not match the contents: the file was cut, corrupted, or pieced
    /// together from different checkpoints.
    #[error("checkpoint file {path} is corrupt: its checksum is {expected}, its contents give {found:08x}")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The checksum the file states (as written, or a description if absent).
        expected: String,
        /// The checksum of its contents.
        found: u32,
    },
    /// A checkpoint of another format version (or the directory of `state.txt` and tensor
    /// files that earlier versions wrote, which cannot be verified).
    #[error(
        "checkpoint {path}: format version {found} is not supported (this version reads version 2)"
    )]
    Version {
        /// The file or directory.
        path: PathBuf,
        /// The version found.
        found: String,
    },
    /// Resuming with [`Trainer::restore_best`](super::Trainer::restore_best): the
    /// checkpoint's best weights are not of the epoch its history makes the best with the
    /// resumed run's early-stopping settings (or it holds none: it was written without
    /// `restore_best`).
    #[error("checkpoint {path}: the resumed run's best epoch is {expected:?}, but the checkpoint holds best weights of epoch {found:?}; resume with the settings it was written with")]
    BestMismatch {
        /// The file.
        path: PathBuf,
        /// The best epoch the history gives with the resumed run's settings.
        expected: Option<usize>,
        /// The epoch of the best weights in the checkpoint.
        found: Option<usize>,
    },
    /// The state is not what this library writes, or holds an invalid value.
    #[error("checkpoint file {path}, state line {line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line of the state text (from 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The CRC-32 that ties a checkpoint together: every metadata entry but the checksum
/// itself (the version, the state text...) and every tensor (name, dtype, shape, bytes),
/// each in the order of their names.
fn checksum<'a>(
    metadata: &HashMap<String, String>,
    tensors: impl IntoIterator<Item = (&'a str, TensorView<'a>)>,
) -> u32 {
    let mut h = crc32fast::Hasher::new();
    let mut entries: Vec<(&String, &String)> =
        metadata.iter().filter(|(k, _)| *k != KEY_CRC).collect();
    entries.sort();
    for (k, v) in entries {
        for s in [k, v] {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
    let mut sorted: Vec<(&str, TensorView<'a>)> = tensors.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (name, view) in sorted {
        h.update(&(name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(format!("{:?}", view.dtype()).as_bytes());
        h.update(&(view.shape().len() as u64).to_le_bytes());
        for &d in view.shape() {
            h.update(&(d as u64).to_le_bytes());
        }
        h.update(&(view.data().len() as u64).to_le_bytes());
        h.update(view.data());
    }
    h.finalize()
}

/// The file's bytes for `state` and the tensors of `net`, `optimizer` and `best`.
fn encode<N: Trainable, O: Optimizer<N>>(
    state: &State,
    net: &N,
    optimizer: &O,
    best: Option<&N>,
) -> Result<Vec<u8>, CheckpointError> {
    let dtype = N::Scalar::DTYPE;
    let mut tensors = io::encode_all(net, dtype, "model.")?;
    for (key, buffer) in optimizer.state() {
        tensors.extend(io::encode_all(buffer, dtype, &format!("optimizer.{key}."))?);
    }
    if let Some(b) = best {
        tensors.extend(io::encode_all(b, dtype, "best.")?);
    }
    let text = state.to_text(VERSION);
    let views = tensors
        .iter()
        .map(|(name, e)| {
            TensorView::new(e.dtype, e.shape.clone(), &e.data).map(|v| (name.as_str(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(SaveError::Serialize)?;
    let mut metadata = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        (KEY_VERSION.to_string(), VERSION.to_string()),
        (KEY_STATE.to_string(), text),
    ]);
    let crc = checksum(&metadata, views);
    metadata.insert(KEY_CRC.to_string(), format!("{crc:08x}"));
    Ok(safetensors::serialize(tensors, Some(metadata)).map_err(SaveError::Serialize)?)
}

/// Writes the checkpoint file into `dir` (created if needed), replacing the previous one
/// whole.
pub(crate) fn save<N: Trainable, O: Optimizer<N>>(
    dir: &Path,
    net: &N,
    optimizer: &O,
    history: &History,
    best: Option<(usize, &N)>,
) -> Result<(), CheckpointError> {
    std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let state = State {
        steps: optimizer.steps(),
        lr: optimizer.lr(),
        history: history.clone(),
        best_epoch: best.map(|(e, _)| e),
    };
    let bytes = encode(&state, net, optimizer, best.map(|(_, b)| b))?;
    let path = dir.join(CHECKPOINT_FILE);
    io::write_replacing(&path, &bytes).map_err(|source| CheckpointError::Io { path, source })
}

/// Reads the checkpoint in `dir` into `net`, `optimizer` and, if the checkpoint holds
/// best weights, `best`; returns the history and the best weights' epoch. Everything is
/// checked before anything is written, last by `accept` (given the file, the history and
/// the best weights' epoch).
pub(crate) fn load<N: Trainable, O: Optimizer<N>>(
    dir: &Path,
    net: &mut N,
    optimizer: &mut O,
    best: Option<&mut N>,
    accept: impl FnOnce(&Path, &History, Option<usize>) -> Result<(), CheckpointError>,
) -> Result<(History, Option<usize>), CheckpointError> {
    let path = dir.join(CHECKPOINT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.join("state.txt").exists() => {
            return Err(CheckpointError::Version {
                path: dir.to_path_buf(),
                found: "1 (a directory with state.txt)".to_string(),
            })
        }
        Err(source) => return Err(CheckpointError::Io { path, source }),
    };
    let file = io::deserialize(&bytes)?;
    let metadata = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(LoadError::Malformed)?
        .1;
    let meta = metadata.metadata().clone().unwrap_or_default();
    let malformed = |line: usize, message: String| CheckpointError::Malformed {
        path: path.clone(),
        line,
        message,
    };
    match meta.get(KEY_VERSION) {
        Some(v) if *v == VERSION.to_string() => {}
        Some(v) => {
            return Err(CheckpointError::Version {
                path: path.clone(),
                found: v.clone(),
            })
        }
        None => {
            return Err(malformed(
                0,
                format!("not an nn checkpoint (no `{KEY_VERSION}` in the metadata)"),
            ))
        }
    }
    let found = checksum(
        &meta,
        file.tensors().iter().map(|(n, v)| (n.as_str(), v.clone())),
    );
    let stated = meta.get(KEY_CRC);
    // Compared as written (8 lower-case hex digits), so that no byte of it can change
    // unnoticed.
    if stated != Some(&format!("{found:08x}")) {
        return Err(CheckpointError::Checksum {
            path: path.clone(),
            expected: stated.cloned().unwrap_or_else(|| "missing".to_string()),
            found,
        });
    }
    let text = meta.get(KEY_STATE).map_or("", String::as_str);
    let state = State::parse::<N::Scalar>(text, VERSION).map_err(|(line, message)| {
        let line = if line == 0 {
            text.lines().count() + 1
        } else {
            line
        };
        malformed(line, message)
    })?;

    // The tensors: exactly those of the network, the optimizer and (if stored) the best
    // weights, into scratch copies first, so that an error changes nothing.
    let keys: Vec<&'static str> = optimizer.state().into_iter().map(|(k, _)| k).collect();
    let mut expected = BTreeSet::new();
    let mut add = |prefix: &str| {
        for t in 0..N::TENSORS {
            expected.insert(format!("{prefix}{}", N::tensor_info(t).name));
        }
    };
    add("model.");
    for key in &keys {
        add(&format!("optimizer.{key}."));
    }
    if state.best_epoch.is_some() {
        add("best.");
    }
    let mut names = file.names();
    names.sort_unstable();
    if let Some(name) = names.iter().find(|n| !expected.contains(**n)) {
        return Err(LoadError::UnexpectedTensor {
            name: (*name).to_string(),
        }
        .into());
    }
    let mut model = N::boxed_zeroed();
    let views = io::tensor_views(&*model, &file, "model.")?;
    io::check_values::<N>(&views, "model.")?;
    io::write_values(&mut *model, &views);
    let mut buffers = Vec::with_capacity(keys.len());
    for key in &keys {
        let prefix = format!("optimizer.{key}.");
        let mut b = N::Gradients::boxed_zeroed();
        let views = io::tensor_views(&*b, &file, &prefix)?;
        io::check_values::<N::Gradients>(&views, &prefix)?;
        io::write_values(&mut *b, &views);
        buffers.push(b);
    }
    let best_weights = match state.best_epoch {
        Some(_) => {
            let mut b = N::boxed_zeroed();
            let views = io::tensor_views(&*b, &file, "best.")?;
            io::check_values::<N>(&views, "best.")?;
            io::write_values(&mut *b, &views);
            Some(b)
        }
        None => None,
    };

    accept(&path, &state.history, state.best_epoch)?;

    // Everything checked: write.
    net.copy_from(&model);
    for ((_, dst), src) in optimizer.state_mut().into_iter().zip(&buffers) {
        dst.copy_from(src);
    }
    optimizer.set_steps(state.steps);
    optimizer.set_lr(state.lr);
    if let (Some(dst), Some(src)) = (best, &best_weights) {
        dst.copy_from(src);
    }
    Ok((state.history, state.best_epoch))
}

/// What a checkpoint holds besides the network and the optimizer.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CheckpointInfo {
    /// The epochs trained, and why training stopped if it did.
    pub history: History,
    /// The epoch of the best weights stored in the checkpoint, if it holds any.
    pub best_epoch: Option<usize>,
}

/// Writes a checkpoint of `net`, `optimizer` and `history` into `dir` (created if
/// needed): the file [`CHECKPOINT_FILE`], replaced whole. `best` is the weights of the
/// best epoch so far and that epoch, which [`Trainer::restore_best`](super::Trainer::restore_best)
/// keeps (`None` to store none).
///
/// # Errors
/// [`CheckpointError::Io`] if the directory or the file cannot be written, and
/// [`CheckpointError::Save`] for a non-finite parameter or state value.
pub fn save_checkpoint<N: Trainable, O: Optimizer<N>>(
    dir: &Path,
    net: &N,
    optimizer: &O,
    history: &History,
    best: Option<(usize, &N)>,
) -> Result<(), CheckpointError> {
    save(dir, net, optimizer, history, best)
}

/// Reads a checkpoint written by [`save_checkpoint`] into `net` and `optimizer`, and its
/// best weights, if it holds some, into `best` (when given); returns the history and the
/// best weights' epoch.
///
/// Everything is checked before `net`, `optimizer` or `best` is changed: on error all
/// are as they were.
///
/// # Errors
/// [`CheckpointError::Io`] if the file cannot be read, [`CheckpointError::Checksum`] if
/// it was cut or corrupted, [`CheckpointError::Version`] for another format,
/// [`CheckpointError::Malformed`] for an invalid state value, and
/// [`CheckpointError::Load`] for tensors of another network or optimizer.
pub fn load_checkpoint<N: Trainable, O: Optimizer<N>>(
    dir: &Path,
    net: &mut N,
    optimizer: &mut O,
    best: Option<&mut N>,
) -> Result<CheckpointInfo, CheckpointError> {
    load(dir, net, optimizer, best, |_, _, _| Ok(())).map(|(history, best_epoch)| CheckpointInfo {
        history,
        best_epoch,
    })
}
