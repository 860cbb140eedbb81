use super::*;
use crate::loss::CrossEntropy;
use crate::optim::Adam;
use crate::train::tests::{data, Net};
use crate::train::Trainer;

/// A directory of its own under the system's temporary directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("nn-ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self) -> PathBuf {
        self.0.join(CHECKPOINT_FILE)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Trains `epochs` epochs with a checkpoint every epoch into `dir`; returns the file.
fn train(dir: &Path, epochs: usize) -> Vec<u8> {
    let d = data(23);
    let mut net = Net::<f64>::seeded(3);
    Trainer::new(&d, CrossEntropy, Adam::new(0.01))
        .batch_size::<5>()
        .epochs(epochs)
        .validation(&d)
        .checkpoint(dir, 1)
        .progress(false)
        .fit(&mut net)
        .unwrap();
    std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap()
}

/// The bytes of a checkpoint with its state text replaced by `edit(text)` and the
/// checksum recomputed, as a crafted file would have.
fn resigned(bytes: &[u8], edit: impl FnOnce(&str) -> String) -> Vec<u8> {
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let mut meta = safetensors::SafeTensors::read_metadata(bytes)
        .unwrap()
        .1
        .metadata()
        .clone()
        .unwrap();
    let text = edit(&meta[KEY_STATE]);
    meta.insert(KEY_STATE.to_string(), text);
    let tensors = file.tensors();
    let crc = checksum(&meta, tensors.iter().map(|(n, v)| (n.as_str(), v.clone())));
    meta.insert(KEY_CRC.to_string(), format!("{crc:08x}"));
    safetensors::serialize(tensors, Some(meta)).unwrap()
}

/// Loads `bytes` as the checkpoint of `dir` into a fresh network and optimizer; checks
/// that an error leaves both untouched.
fn try_load(dir: &Dir, bytes: &[u8]) -> Result<History, CheckpointError> {
    std::fs::write(dir.file(), bytes).unwrap();
    let mut net = Net::<f64>::seeded(99);
    let mut opt = Adam::<Net<f64>>::new(0.5);
    let before = net.clone();
    let r = load_checkpoint(&dir.0, &mut net, &mut opt, None).map(|c| c.history);
    if r.is_err() {
        assert_eq!(net, before, "a failed load changed the network");
        assert_eq!(Optimizer::<Net<f64>>::steps(&opt), 0);
        assert_eq!(Optimizer::<Net<f64>>::lr(&opt), 0.5);
        assert!(opt.state().iter().all(|(_, b)| b.max_abs() == 0.0));
    }
    r
}

#[test]
fn a_checkpoint_is_one_file_that_round_trips() {
    let dir = Dir::new("one-file");
    let bytes = train(&dir.0, 3);
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec![CHECKPOINT_FILE.to_string()]);
    let h = try_load(&dir, &bytes).unwrap();
    assert_eq!(h.epochs.len(), 3);
}

#[test]
fn a_checkpoint_cut_at_any_byte_is_an_error() {
    let dir = Dir::new("cut");
    let bytes = train(&dir.0, 2);
    for len in 0..bytes.len() {
        let err = try_load(&dir, &bytes[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                CheckpointError::Load(LoadError::Malformed(_)) | CheckpointError::Checksum { .. }
            ),
            "cut at {len}: {err}"
        );
    }
}

#[test]
fn a_corrupted_byte_is_an_error() {
    let dir = Dir::new("flip");
    let bytes = train(&dir.0, 2);
    // Every 7th byte, each of its bits in turn.
    for i in (0..bytes.len()).step_by(7) {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            assert!(try_load(&dir, &b).is_err(), "byte {i} bit {bit}");
        }
    }
}

#[test]
fn a_state_from_another_epoch_beside_newer_tensors_is_an_error() {
    let dir = Dir::new("mixed");
    let older = train(&dir.0, 2);
    let newer = train(&dir.0, 3);
    // The newer tensors with the older state and its checksum.
    let old_meta = safetensors::SafeTensors::read_metadata(&older)
        .unwrap()
        .1
        .metadata()
        .clone()
        .unwrap();
    let file = safetensors::SafeTensors::deserialize(&newer).unwrap();
    let mixed = safetensors::serialize(file.tensors(), Some(old_meta)).unwrap();
    let err = try_load(&dir, &mixed).unwrap_err();
    assert!(matches!(err, CheckpointError::Checksum { .. }), "{err}");
    // And the other way round.
    let new_meta = safetensors::SafeTensors::read_metadata(&newer)
        .unwrap()
        .1
        .metadata()
        .clone()
        .unwrap();
    let file = safetensors::SafeTensors::deserialize(&older).unwrap();
    let mixed = safetensors::serialize(file.tensors(), Some(new_meta)).unwrap();
    assert!(matches!(
        try_load(&dir, &mixed).unwrap_err(),
        CheckpointError::Checksum { .. }
    ));
}

#[test]
fn crafted_values_are_errors_not_panics() {
    let dir = Dir::new("crafted");
    let bytes = train(&dir.0, 2);
    let text = safetensors::SafeTensors::read_metadata(&bytes)
        .unwrap()
        .1
        .metadata()
        .clone()
        .unwrap()[KEY_STATE]
        .clone();
    let lr_line = text
        .lines()
        .find(|l| l.starts_with("lr "))
        .unwrap()
        .to_string();
    let steps_line = text
        .lines()
        .find(|l| l.starts_with("steps "))
        .unwrap()
        .to_string();
    let cases: Vec<(&str, String)> = vec![
        ("lr NaN", text.replace(&lr_line, "lr NaN")),
        ("lr -1", text.replace(&lr_line, "lr -1.0")),
        ("lr inf", text.replace(&lr_line, "lr inf")),
        (
            "steps u64::MAX",
            text.replace(&steps_line, &format!("steps {}", u64::MAX)),
        ),
        (
            "steps 2^53 + 1",
            text.replace(&steps_line, &format!("steps {}", (1u64 << 53) + 1)),
        ),
        (
            "steps not the history's",
            text.replace(&steps_line, "steps 1"),
        ),
        (
            "cut after `lr 0.`",
            text[..text.find(&lr_line).unwrap() + 5].to_string(),
        ),
        ("no trailing newline", text.trim_end().to_string()),
        ("extra line", format!("{text}extra\n")),
        (
            "epochs out of order",
            text.replacen("epoch 0 ", "epoch 1 ", 1),
        ),
        ("too many epochs", text.replace("epochs 2", "epochs 3")),
        ("too few epochs", text.replace("epochs 2", "epochs 1")),
        (
            "best epoch that does not exist",
            text.replace("best -", "best 7"),
        ),
        (
            "stopped at an epoch that does not exist",
            text.replace("stopped -", "stopped early 9 0.5"),
        ),
        (
            "another version",
            text.replace("nn-checkpoint 2", "nn-checkpoint 3"),
        ),
        ("empty", String::new()),
    ];
    for (what, crafted) in cases {
        assert_ne!(crafted, text, "{what}: the edit did nothing");
        let err = try_load(&dir, &resigned(&bytes, |_| crafted.clone())).unwrap_err();
        assert!(
            matches!(err, CheckpointError::Malformed { .. }),
            "{what}: {err}"
        );
    }
    // The untouched text, re-signed, loads: the cases fail for their edit alone.
    try_load(&dir, &resigned(&bytes, |t| t.to_string())).unwrap();
}

#[test]
fn a_learning_rate_the_scalar_cannot_hold_is_an_error() {
    crate::network! { struct Small { input: 2, dense(3), softmax } }
    let dir = Dir::new("lr-f32");
    let d = crate::data::Dataset::<f32, 2, 3>::from_classes(
        vec![nalgebra::SVector::<f32, 2>::new(1.0, 0.0); 3],
        &[0, 1, 2],
    )
    .unwrap();
    let mut net = Small::<f32>::seeded(1);
    Trainer::new(&d, CrossEntropy, Adam::new(0.01))
        .checkpoint(&dir.0, 1)
        .progress(false)
        .fit(&mut net)
        .unwrap();
    let bytes = std::fs::read(dir.file()).unwrap();
    let crafted = resigned(&bytes, |t| {
        let lr = t.lines().find(|l| l.starts_with("lr ")).unwrap();
        t.replace(lr, "lr 1e39")
    });
    std::fs::write(dir.file(), crafted).unwrap();
    let mut opt = Adam::<Small<f32>>::new(0.01);
    let err = load_checkpoint(&dir.0, &mut net, &mut opt, None).unwrap_err();
    assert!(
        matches!(err, CheckpointError::Malformed { line: 3, .. }),
        "{err}"
    );
}

#[test]
fn the_earlier_directory_format_is_refused() {
    let dir = Dir::new("v1");
    std::fs::write(
        dir.0.join("state.txt"),
        "nn-checkpoint 1\nsteps 0\nlr 0.1\n",
    )
    .unwrap();
    let mut net = Net::<f64>::seeded(1);
    let mut opt = Adam::<Net<f64>>::new(0.5);
    let err = load_checkpoint(&dir.0, &mut net, &mut opt, None).unwrap_err();
    assert!(matches!(err, CheckpointError::Version { .. }), "{err}");
}
