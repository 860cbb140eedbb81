//! Runs every example with `--quick` so that the examples cannot rot: each must finish
//! without error and write its PNG pictures, each a real, non-trivial PNG file.
//!
//! The examples are included as modules and their `run` functions called directly, so
//! this test needs no second cargo invocation; each runs on a thread with a large stack,
//! as a program's main thread would have. Every example includes its own copy of
//! `examples/common/mod.rs`, hence `duplicate_mod`.
#![allow(clippy::duplicate_mod)]

use std::path::{Path, PathBuf};

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/quadrants.rs"]
mod quadrants;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/perceptron.rs"]
mod perceptron;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/xor.rs"]
mod xor;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/spiral.rs"]
mod spiral;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/tower.rs"]
mod tower;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/iris.rs"]
mod iris;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/digits.rs"]
mod digits;

/// A fresh empty folder for one example's pictures.
fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nn-test-examples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `f` on a thread with a 64 MiB stack and returns its result.
fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Checks that every picture exists in `dir`, is a PNG, and is not tiny; then removes
/// the folder.
fn check_pictures(dir: &Path, pictures: &[PathBuf], expected: &[&str]) {
    let names: Vec<String> = pictures
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, expected, "the pictures written");
    for p in pictures {
        assert!(
            p.starts_with(dir),
            "{} is not in --out {}",
            p.display(),
            dir.display()
        );
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(
            &bytes[..8],
            b"\x89PNG\r\n\x1a\n",
            "{} is not a PNG",
            p.display()
        );
        // A blank white picture of this size compresses to a few kilobytes; a chart with
        // text, axes and data is far larger.
        assert!(
            bytes.len() > 10_000,
            "{} is only {} bytes",
            p.display(),
            bytes.len()
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

macro_rules! run_quick {
    ($test:ident, $name:ident, [$($extra:expr),*], $pictures:expr) => {
        #[test]
        fn $test() {
            let dir = out_dir(stringify!($test));
            let argv: Vec<String> = ["--quick", "--out", dir.to_str().unwrap() $(, $extra)*]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let pictures = on_big_stack(move || {
                let extra = ["--mnist", "--relu", "--seeds", "--epochs"];
                let args = $name::common::Args::parse(stringify!($name), &extra, argv).unwrap();
                $name::run(&args).map_err(|e| e.to_string())
            })
            .unwrap();
            check_pictures(&dir, &pictures, &$pictures);
        }
    };
}

run_quick!(quadrants_quick, quadrants, [], ["regions.png"]);
run_quick!(perceptron_quick, perceptron, [], ["perceptron.png"]);
run_quick!(xor_quick, xor, [], ["xor.png"]);
run_quick!(
    spiral_quick,
    spiral,
    [],
    [
        "loss_curves.png",
        "decision_boundaries.png",
        "paired_final_loss.png"
    ]
);
run_quick!(
    tower_quick,
    tower,
    [],
    ["tower.png", "fit.png", "fit_loss.png"]
);
run_quick!(iris_quick, iris, [], ["iris.png"]);
run_quick!(
    digits_quick,
    digits,
    [],
    ["curves.png", "test_digits.png", "first_layer_weights.png"]
);

/// Writes an IDX file: the magic number (type 0x08, `dims.len()` dimensions), the sizes,
/// then the bytes.
fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

/// Small fake MNIST files: images whose label is the row that holds a bright bar, so the
/// task is learnable.
fn fake_mnist(dir: &Path, train: usize, test: usize) {
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let mut images = vec![0u8; n * 784];
        let mut labels = vec![0u8; n];
        for i in 0..n {
            let label = (i * 7 + 3) % 10;
            labels[i] = label as u8;
            let row = 4 + 2 * label;
            for c in 4..24 {
                images[i * 784 + row * 28 + c] = 255;
            }
        }
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &[n as u32, 28, 28],
            &images,
        );
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[n as u32],
            &labels,
        );
    }
}

#[test]
fn digits_mnist_quick_on_fake_idx_files() {
    let data = out_dir("mnist-data");
    fake_mnist(&data, 200, 100);
    let dir = out_dir("mnist");
    for relu in [false, true] {
        let mut argv = vec![
            "--quick".to_string(),
            "--out".into(),
            dir.to_str().unwrap().into(),
            "--mnist".into(),
            data.to_str().unwrap().into(),
        ];
        if relu {
            argv.push("--relu".into());
        }
        let pictures = on_big_stack(move || {
            let args =
                digits::common::Args::parse("digits", &["--mnist", "--relu", "--epochs"], argv)
                    .unwrap();
            digits::run(&args).map_err(|e| e.to_string())
        })
        .unwrap();
        check_pictures(
            &dir,
            &pictures,
            &["curves.png", "test_digits.png", "first_layer_weights.png"],
        );
        std::fs::create_dir_all(&dir).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn digits_mnist_reports_missing_files() {
    let empty = out_dir("mnist-empty");
    let argv = vec![
        "--quick".to_string(),
        "--mnist".into(),
        empty.to_str().unwrap().into(),
    ];
    let args = digits::common::Args::parse("digits", &["--mnist"], argv).unwrap();
    let err = digits::run(&args).unwrap_err().to_string();
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn options_are_parsed_and_checked() {
    use quadrants::common::Args;
    let a = Args::parse(
        "quadrants",
        &[],
        ["--seed", "7", "--out=x/y"].map(String::from),
    )
    .unwrap();
    assert_eq!(
        (a.seed, a.out.as_path(), a.quick),
        (7, Path::new("x/y"), false)
    );
    assert_eq!(
        Args::parse("quadrants", &[], Vec::new()).unwrap().out,
        Path::new("target/examples/quadrants")
    );
    let err = Args::parse("quadrants", &[], ["--mnist", "d"].map(String::from)).unwrap_err();
    assert!(err.contains("unknown option `--mnist`"), "{err}");
    let err = Args::parse("quadrants", &[], ["--seed", "x"].map(String::from)).unwrap_err();
    assert!(
        err.contains("`--seed` needs a non-negative whole number"),
        "{err}"
    );
    let err = Args::parse("spiral", &["--seeds"], ["--seeds", "0"].map(String::from)).unwrap_err();
    assert!(err.contains("`--seeds` must be at least 1"), "{err}");
    let err = Args::parse("quadrants", &[], ["--out"].map(String::from)).unwrap_err();
    assert!(err.contains("`--out` needs a folder"), "{err}");
}
