//! The MNIST data set (and look-alikes such as Fashion-MNIST) from its four IDX files.
//!
//! [`load`] finds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` in a directory, each gzipped
//! (`.gz`) or not, and also spelled with a dot (`train-images.idx3-ubyte`). Pixels are
//! scaled to `[0, 1]` (`p / 255`), labels one-hot encoded.
//!
//! The input width and the number of classes are type parameters checked at run time
//! against the files, so the same code loads 28x28 MNIST into `Dataset<f32, 784, 10>`
//! and, say, 32x32 images into `Dataset<f32, 1024, 10>`:
//!
//! ```no_run
//! use nn_runtime::data::mnist;
//!
//! let (train, test) = mnist::load::<f32, { mnist::IMAGE_SIZE }, { mnist::CLASSES }>("data/mnist")?;
//! assert_eq!((train.len(), test.len()), (60_000, 10_000));
//! # Ok::<(), nn_runtime::data::idx::IdxError>(())
//! ```

use super::dataset::Dataset;
use super::idx::{self, IdxError, IdxErrorKind, IdxImages};
use crate::scalar::Scalar;
use nalgebra::SVector;
use std::path::{Path, PathBuf};

/// Pixels per MNIST image, 28 x 28.
pub const IMAGE_SIZE: usize = 784;
/// The number of MNIST classes (digits).
pub const CLASSES: usize = 10;

/// The training images' file name (without `.gz`).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// The training labels' file name (without `.gz`).
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// The test images' file name (without `.gz`).
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// The test labels' file name (without `.gz`).
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// The first existing file among the spellings of `name` in `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    // "train-images-idx3-ubyte" is also distributed as "train-images.idx3-ubyte".
    let dotted = match name.rfind("-idx") {
        Some(i) => format!("{}.{}", &name[..i], &name[i + 1..]),
        None => name.to_string(),
    };
    [
        name.to_string(),
        format!("{name}.gz"),
        dotted.clone(),
        format!("{dotted}.gz"),
    ]
    .iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

/// Loads the training and test sets from the four MNIST files in `dir`.
///
/// # Errors
///
/// [`IdxErrorKind::MissingFiles`] (with the directory) listing every missing file, then
/// any error of [`load_pair`] (with the file).
pub fn load<T: Scalar, const IN: usize, const OUT: usize>(
    dir: impl AsRef<Path>,
) -> Result<(Dataset<T, IN, OUT>, Dataset<T, IN, OUT>), IdxError> {
    let dir = dir.as_ref();
    let mut paths = Vec::with_capacity(4);
    let mut missing = Vec::new();
    for name in [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS] {
        match find(dir, name) {
            Some(p) => paths.push(p),
            None => missing.push(format!("{name}[.gz]")),
        }
    }
    if !missing.is_empty() {
        return Err(IdxError::at(dir, IdxErrorKind::MissingFiles { missing }));
    }
    // All four were found, in order.
    let train = load_pair(&paths[0], &paths[1])?;
    let test = load_pair(&paths[2], &paths[3])?;
    Ok((train, test))
}

/// Loads one images file and its labels file into a data set.
///
/// # Errors
///
/// Any [`idx::read_images`] or [`idx::read_labels`] error; [`IdxErrorKind::ImageSize`]
/// (with the images path) if `rows * cols != IN`; [`IdxErrorKind::CountMismatch`] and
/// [`IdxErrorKind::LabelOutOfRange`] with the labels path.
pub fn load_pair<T: Scalar, const IN: usize, const OUT: usize>(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
) -> Result<Dataset<T, IN, OUT>, IdxError> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let im = idx::read_images(images)?;
    check_size::<IN>(&im).map_err(|k| IdxError::at(images, k))?;
    let lb = idx::read_labels(labels)?;
    to_dataset(&im, &lb).map_err(|e| IdxError::at(labels, e.kind))
}

fn check_size<const IN: usize>(images: &IdxImages) -> Result<(), IdxErrorKind> {
    // `rows * cols` cannot overflow: the reader checked the product of all sizes.
    if images.pixels_per_image() != IN {
        return Err(IdxErrorKind::ImageSize {
            rows: images.rows(),
            cols: images.cols(),
            expected: IN,
        });
    }
    Ok(())
}

/// Pairs images with labels: pixels scaled to `[0, 1]`, labels one-hot in `OUT` classes.
///
/// ```
/// use nn_runtime::data::{idx, mnist};
///
/// let images = idx::read_images_from(&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 255, 51][..])?;
/// let data = mnist::to_dataset::<f32, 2, 3>(&images, &[2])?;
/// assert_eq!(data.inputs()[0].as_slice(), &[1.0, 0.2]);
/// assert_eq!(data.labels(), vec![2]);
/// assert!(mnist::to_dataset::<f32, 3, 3>(&images, &[2]).is_err()); // 1x2 images, IN = 3
/// assert!(mnist::to_dataset::<f32, 2, 2>(&images, &[2]).is_err()); // label 2 of 2 classes
/// # Ok::<(), nn_runtime::data::idx::IdxError>(())
/// ```
///
/// # Errors
///
/// [`IdxErrorKind::ImageSize`], [`IdxErrorKind::CountMismatch`],
/// [`IdxErrorKind::LabelOutOfRange`], without a path.
pub fn to_dataset<T: Scalar, const IN: usize, const OUT: usize>(
    images: &IdxImages,
    labels: &[u8],
) -> Result<Dataset<T, IN, OUT>, IdxError> {
    check_size::<IN>(images)?;
    if images.len() != labels.len() {
        return Err(IdxErrorKind::CountMismatch {
            images: images.len(),
            labels: labels.len(),
        }
        .into());
    }
    if let Some((index, &label)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| usize::from(l) >= OUT)
    {
        return Err(IdxErrorKind::LabelOutOfRange {
            index,
            label,
            classes: OUT,
        }
        .into());
    }
    // The lookup table of the 256 scaled pixel values.
    let scale: Vec<T> = (0..=255u8)
        .map(|p| <T as Scalar>::from_f64(f64::from(p) / 255.0))
        .collect();
    let mut inputs = Vec::with_capacity(images.len());
    let mut targets = Vec::with_capacity(images.len());
    for (i, &label) in labels.iter().enumerate() {
        let pixels = images.pixels().get(i * IN..(i + 1) * IN).unwrap_or(&[]);
        let mut x = SVector::<T, IN>::zeros();
        for (v, &p) in x.iter_mut().zip(pixels) {
            *v = scale[usize::from(p)];
        }
        inputs.push(x);
        let mut y = SVector::<T, OUT>::zeros();
        y[usize::from(label)] = T::one();
        targets.push(y);
    }
    // Pixels in [0, 1] and one-hot targets are finite.
    Ok(Dataset::from_parts_unchecked(inputs, targets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::tests::{images_bytes, labels_bytes};
    use crate::data::test_util::TempDir;

    /// `n` 2x2 images whose pixels are 10*i + k, and labels i % 3.
    fn write_set(dir: &Path, prefix: &str, n: u32, gz: bool) {
        let pixels: Vec<u8> = (0..n)
            .flat_map(|i| (0..4).map(move |k| (10 * i + k) as u8))
            .collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        let (im, lb) = (images_bytes(n, 2, 2, &pixels), labels_bytes(&labels));
        // Without the `gzip` feature the files are written plain.
        #[cfg(feature = "gzip")]
        let (im, lb, suffix) = if gz {
            (idx::tests::gzip(&im), idx::tests::gzip(&lb), ".gz")
        } else {
            (im, lb, "")
        };
        #[cfg(not(feature = "gzip"))]
        let (suffix, _) = ("", gz);
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{suffix}")), im).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{suffix}")), lb).unwrap();
    }

    #[test]
    fn loads_a_directory() {
        let dir = TempDir::new("mnist");
        write_set(&dir.0, "train", 5, true);
        write_set(&dir.0, "t10k", 2, false);
        let (train, test) = load::<f32, 4, 3>(&dir.0).unwrap();
        assert_eq!((train.len(), test.len()), (5, 2));
        assert_eq!(train.labels(), vec![0, 1, 2, 0, 1]);
        assert_eq!(test.labels(), vec![0, 1]);
        let x = train.inputs()[4];
        for k in 0..4 {
            assert_eq!(x[k], (40 + k) as f32 / 255.0);
        }
        assert_eq!(train.targets()[2].as_slice(), &[0.0, 0.0, 1.0]);
        // f64 and the dotted spelling.
        let dir2 = TempDir::new("mnist-dotted");
        write_set(&dir2.0, "train", 1, false);
        write_set(&dir2.0, "t10k", 1, false);
        std::fs::rename(
            dir2.0.join("t10k-labels-idx1-ubyte"),
            dir2.0.join("t10k-labels.idx1-ubyte"),
        )
        .unwrap();
        let (_, test) = load::<f64, 4, 3>(&dir2.0).unwrap();
        assert_eq!(test.len(), 1);
    }

    #[test]
    fn missing_files_are_listed() {
        let dir = TempDir::new("mnist-missing");
        write_set(&dir.0, "train", 2, false);
        std::fs::remove_file(dir.0.join("train-labels-idx1-ubyte")).unwrap();
        let e = load::<f32, 4, 3>(&dir.0).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(dir.0.as_path()));
        match &e.kind {
            IdxErrorKind::MissingFiles { missing } => assert_eq!(
                missing,
                &[
                    "train-labels-idx1-ubyte[.gz]",
                    "t10k-images-idx3-ubyte[.gz]",
                    "t10k-labels-idx1-ubyte[.gz]"
                ]
            ),
            k => panic!("{k}"),
        }
        assert!(
            e.to_string()
                .contains("missing train-labels-idx1-ubyte[.gz], t10k-images"),
            "{e}"
        );
    }

    #[test]
    fn shape_count_and_label_errors() {
        let dir = TempDir::new("mnist-bad");
        write_set(&dir.0, "train", 3, false);
        write_set(&dir.0, "t10k", 2, false);
        let e = load::<f32, 784, 3>(&dir.0).unwrap_err();
        assert!(matches!(
            e.kind,
            IdxErrorKind::ImageSize {
                rows: 2,
                cols: 2,
                expected: 784
            }
        ));
        assert_eq!(e.path, Some(dir.0.join("train-images-idx3-ubyte")));
        assert!(
            e.to_string()
                .ends_with("images of 2x2 = 4 pixels do not fit an input of 784"),
            "{e}"
        );
        // Labels 0..=2 need 3 classes.
        let e = load::<f32, 4, 2>(&dir.0).unwrap_err();
        assert!(matches!(
            e.kind,
            IdxErrorKind::LabelOutOfRange {
                index: 2,
                label: 2,
                classes: 2
            }
        ));
        assert_eq!(e.path, Some(dir.0.join("train-labels-idx1-ubyte")));
        // Different counts.
        std::fs::write(
            dir.0.join("t10k-labels-idx1-ubyte"),
            labels_bytes(&[0, 1, 2]),
        )
        .unwrap();
        let e = load::<f32, 4, 3>(&dir.0).unwrap_err();
        assert!(
            matches!(
                e.kind,
                IdxErrorKind::CountMismatch {
                    images: 2,
                    labels: 3
                }
            ),
            "{e}"
        );
        // A malformed file names itself.
        std::fs::write(dir.0.join("t10k-images-idx3-ubyte"), [0, 0, 8, 3, 0]).unwrap();
        let e = load::<f32, 4, 3>(&dir.0).unwrap_err();
        assert!(matches!(
            e.kind,
            IdxErrorKind::Truncated {
                expected: 16,
                found: 5
            }
        ));
        assert_eq!(e.path, Some(dir.0.join("t10k-images-idx3-ubyte")));
    }
}
