//! The IDX format of the MNIST files: unsigned-byte images and labels, gzipped or not.
//!
//! An IDX file is a 4-byte magic number `00 00 08 n` (`08`: unsigned bytes, `n`: the
//! number of dimensions), `n` big-endian `u32` sizes, then the data, row-major. Images
//! are `0x00000803` (count, rows, columns), labels `0x00000801` (count). The readers check
//! the magic number, that the sizes' product does not overflow, and that the data has
//! exactly that many bytes (a truncated file and trailing bytes are both errors). A file
//! starting with the gzip magic `1f 8b` is decompressed on the fly (with the default
//! `gzip` feature; without it, such a file is a [`IdxErrorKind::GzipDisabled`] error).
//! Decompression never goes more than one byte past the size the header announces, and
//! a gzipped file is checked whole (decompressed once without keeping the data) before
//! its data is kept, so a small stream that decompresses to far more or far less than
//! its header announces is an error after taking no more memory than its compressed
//! bytes.
//!
//! ```
//! use nn_runtime::data::idx;
//!
//! // Two 1x2 images and their labels.
//! let images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 128, 7];
//! let labels = [0, 0, 8, 1, 0, 0, 0, 2, 3, 9];
//! let im = idx::read_images_from(&images[..])?;
//! assert_eq!((im.len(), im.rows(), im.cols()), (2, 1, 2));
//! assert_eq!(im.image(1), Some(&[128, 7][..]));
//! assert_eq!(idx::read_labels_from(&labels[..])?, vec![3, 9]);
//!
//! // One byte short.
//! let err = idx::read_labels_from(&labels[..9]).unwrap_err();
//! assert_eq!(err.to_string(), "truncated: 9 bytes where the header announces 10");
//! # Ok::<(), nn_runtime::data::idx::IdxError>(())
//! ```

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The magic number of an IDX image file: unsigned bytes, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX label file: unsigned bytes, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What went wrong reading IDX data, without the file name (see [`IdxError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdxErrorKind {
    /// An I/O error, including a corrupt gzip stream.
    #[error("{0}")]
    Io(io::Error),
    /// A gzipped file while the `gzip` feature is off.
    #[error("the data is gzipped but nn-runtime was built without its `gzip` feature; decompress it first")]
    GzipDisabled,
    /// A magic number that is not the expected one.
    #[error("bad magic number 0x{found:08x}, expected 0x{expected:08x}{}", magic_hint(*found, *expected))]
    BadMagic {
        /// The magic number read.
        found: u32,
        /// The magic number expected ([`IMAGES_MAGIC`] or [`LABELS_MAGIC`]).
        expected: u32,
    },
    /// The sizes' product does not fit in memory addresses.
    #[error("the sizes {dims:?} overflow")]
    SizeOverflow {
        /// The sizes in the header.
        dims: Vec<u32>,
    },
    /// The data (or the header) ends early.
    #[error("truncated: {found} bytes where the header announces {expected}")]
    Truncated {
        /// The bytes (including the header) the file should have.
        expected: u64,
        /// The bytes it has (after decompression).
        found: u64,
    },
    /// Bytes after the data the header announces.
    #[error("trailing bytes after the {expected} bytes the header announces")]
    TrailingBytes {
        /// The bytes (including the header) the file should have.
        expected: u64,
    },
    /// Different numbers of images and labels.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// The number of images.
        images: usize,
        /// The number of labels.
        labels: usize,
    },
    /// Images whose size is not the network's input width.
    #[error("images of {rows}x{cols} = {} pixels do not fit an input of {expected}", rows * cols)]
    ImageSize {
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
        /// The input width `IN`.
        expected: usize,
    },
    /// A label not below the number of classes.
    #[error("label {label} of image {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        /// The image index (0-based).
        index: usize,
        /// The label.
        label: u8,
        /// The number of classes `OUT`.
        classes: usize,
    },
    /// Files missing from a data set directory.
    #[error("missing {}", missing.join(", "))]
    MissingFiles {
        /// The files not found (each also looked for with `.gz`).
        missing: Vec<String>,
    },
}

fn magic_hint(found: u32, expected: u32) -> &'static str {
    match (found, expected) {
        (LABELS_MAGIC, IMAGES_MAGIC) => " (this is a label file, not an image file)",
        (IMAGES_MAGIC, LABELS_MAGIC) => " (this is an image file, not a label file)",
        _ if found >> 8 == 0x08 => " (an IDX file of other dimensions)",
        _ if found >> 16 != 0 => " (not an IDX file)",
        _ => " (an IDX file of another element type)",
    }
}

/// An error reading IDX data: what went wrong ([`IdxErrorKind`]) and, when reading a file
/// or a directory, its path.
#[derive(Debug)]
pub struct IdxError {
    /// The file or directory, when reading from the file system.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub kind: IdxErrorKind,
}

impl IdxError {
    pub(crate) fn at(path: &Path, kind: IdxErrorKind) -> Self {
        IdxError {
            path: Some(path.to_path_buf()),
            kind,
        }
    }
}

impl From<IdxErrorKind> for IdxError {
    fn from(kind: IdxErrorKind) -> Self {
        IdxError { path: None, kind }
    }
}

impl core::fmt::Display for IdxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for IdxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            IdxErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Images read from an IDX file: `len()` images of `rows() x cols()` bytes, row-major,
/// one after the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    count: usize,
    rows: usize,
    cols: usize,
    pixels: Vec<u8>,
}

impl IdxImages {
    /// The number of images.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Rows per image.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns per image.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `rows * cols`.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixels of image `i` (row-major), or `None` past the end.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        if i >= self.count {
            return None;
        }
        let n = self.pixels_per_image();
        self.pixels.get(i * n..(i + 1) * n)
    }

    /// The pixel buffer.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }
}

/// Reads into `buf` until it is full or the reader ends; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads one IDX file of unsigned bytes with the given magic: its sizes and its data.
///
/// Gzipped input is read twice: first decompressed without keeping the data, to check
/// the header and that the stream holds exactly the bytes it announces (decompression
/// stops one byte past them), while the compressed bytes are kept; then decompressed
/// from those bytes into a buffer of exactly the announced size. The memory taken is
/// thus bounded by the compressed input plus the data of a valid file: a small stream
/// that decompresses to far less (or more) than its header announces is an error after
/// holding only its compressed bytes.
fn read_idx<R: Read>(mut reader: R, magic: u32) -> Result<(Vec<usize>, Vec<u8>), IdxErrorKind> {
    let mut peek = [0u8; 2];
    let n = read_full(&mut reader, &mut peek).map_err(IdxErrorKind::Io)?;
    let mut whole = io::Cursor::new(peek).take(n as u64).chain(reader);
    if n == 2 && peek == GZIP_MAGIC {
        #[cfg(feature = "gzip")]
        {
            let mut recorder = Recorder {
                inner: whole,
                seen: Vec::new(),
            };
            read_body(
                &mut flate2::read::MultiGzDecoder::new(&mut recorder),
                magic,
                Body::Check,
            )?;
            let compressed = recorder.seen;
            return read_body(
                &mut flate2::read::MultiGzDecoder::new(&compressed[..]),
                magic,
                Body::KeepChecked,
            );
        }
        #[cfg(not(feature = "gzip"))]
        {
            return Err(IdxErrorKind::GzipDisabled);
        }
    }
    read_body(&mut whole, magic, Body::Keep)
}

/// What [`read_body`] does with the data.
#[derive(Clone, Copy, PartialEq, Eq)]
// Without the `gzip` feature only `Keep` is used.
#[cfg_attr(not(feature = "gzip"), allow(dead_code))]
enum Body {
    /// Checks its size only (and returns no data).
    Check,
    /// Returns it.
    Keep,
    /// Returns it, known to be of the size the header announces (read before with
    /// [`Body::Check`]): its buffer is allocated at that size at once.
    KeepChecked,
}

/// A reader that keeps a copy of every byte read through it.
#[cfg(feature = "gzip")]
struct Recorder<R> {
    inner: R,
    seen: Vec<u8>,
}

#[cfg(feature = "gzip")]
impl<R: Read> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Reads the header and the data of an IDX file from decoded bytes.
fn read_body(
    r: &mut dyn Read,
    magic: u32,
    body: Body,
) -> Result<(Vec<usize>, Vec<u8>), IdxErrorKind> {
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let mut header = vec![0u8; header_len];
    let got = read_full(r, &mut header[..4]).map_err(IdxErrorKind::Io)?;
    if got < 4 {
        return Err(IdxErrorKind::Truncated {
            expected: header_len as u64,
            found: got as u64,
        });
    }
    let found = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if found != magic {
        return Err(IdxErrorKind::BadMagic {
            found,
            expected: magic,
        });
    }
    let got = 4 + read_full(r, &mut header[4..]).map_err(IdxErrorKind::Io)?;
    if got < header_len {
        return Err(IdxErrorKind::Truncated {
            expected: header_len as u64,
            found: got as u64,
        });
    }
    let raw: Vec<u32> = header[4..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let overflow = || IdxErrorKind::SizeOverflow { dims: raw.clone() };
    let mut dims = Vec::with_capacity(ndims);
    let mut size: usize = 1;
    for &d in &raw {
        let d = usize::try_from(d).map_err(|_| overflow())?;
        size = size.checked_mul(d).ok_or_else(overflow)?;
        dims.push(d);
    }
    let size64 = u64::try_from(size).map_err(|_| overflow())?;
    let expected = size64.checked_add(header_len as u64).ok_or_else(overflow)?;
    let mut data = Vec::new();
    let got = match body {
        Body::Check => io::copy(&mut r.take(size64), &mut io::sink()).map_err(IdxErrorKind::Io)?,
        Body::Keep | Body::KeepChecked => {
            // Grows with the bytes actually there: a header announcing more than the
            // file has does not allocate what it announces.
            if body == Body::KeepChecked {
                data.reserve_exact(size);
            }
            r.take(size64)
                .read_to_end(&mut data)
                .map_err(IdxErrorKind::Io)? as u64
        }
    };
    if got < size64 {
        return Err(IdxErrorKind::Truncated {
            expected,
            found: header_len as u64 + got,
        });
    }
    let mut extra = [0u8; 1];
    if read_full(r, &mut extra).map_err(IdxErrorKind::Io)? > 0 {
        return Err(IdxErrorKind::TrailingBytes { expected });
    }
    Ok((dims, data))
}

fn open(path: &Path) -> Result<io::BufReader<std::fs::File>, IdxError> {
    std::fs::File::open(path)
        .map(io::BufReader::new)
        .map_err(|e| IdxError::at(path, IdxErrorKind::Io(e)))
}

/// Reads an IDX image file (magic `0x00000803`), gzipped or not.
///
/// # Errors
///
/// [`IdxError`] with the path; see [`IdxErrorKind`].
pub fn read_images(path: impl AsRef<Path>) -> Result<IdxImages, IdxError> {
    let path = path.as_ref();
    read_images_from(open(path)?).map_err(|e| IdxError::at(path, e.kind))
}

/// Reads IDX images from any reader, gzipped or not.
///
/// # Errors
///
/// [`IdxError`] without a path; see [`IdxErrorKind`].
pub fn read_images_from<R: Read>(reader: R) -> Result<IdxImages, IdxError> {
    let (dims, pixels) = read_idx(reader, IMAGES_MAGIC)?;
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Reads an IDX label file (magic `0x00000801`), gzipped or not.
///
/// # Errors
///
/// [`IdxError`] with the path; see [`IdxErrorKind`].
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<u8>, IdxError> {
    let path = path.as_ref();
    read_labels_from(open(path)?).map_err(|e| IdxError::at(path, e.kind))
}

/// Reads IDX labels from any reader, gzipped or not.
///
/// # Errors
///
/// [`IdxError`] without a path; see [`IdxErrorKind`].
pub fn read_labels_from<R: Read>(reader: R) -> Result<Vec<u8>, IdxError> {
    Ok(read_idx(reader, LABELS_MAGIC)?.1)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::test_util::TempDir;

    pub(crate) fn images_bytes(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
        let mut v = IMAGES_MAGIC.to_be_bytes().to_vec();
        for d in [count, rows, cols] {
            v.extend(d.to_be_bytes());
        }
        v.extend(pixels);
        v
    }

    pub(crate) fn labels_bytes(labels: &[u8]) -> Vec<u8> {
        let mut v = LABELS_MAGIC.to_be_bytes().to_vec();
        v.extend((labels.len() as u32).to_be_bytes());
        v.extend(labels);
        v
    }

    #[cfg(feature = "gzip")]
    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn image_err(bytes: &[u8]) -> IdxErrorKind {
        read_images_from(bytes).unwrap_err().kind
    }

    fn label_err(bytes: &[u8]) -> IdxErrorKind {
        read_labels_from(bytes).unwrap_err().kind
    }

    #[test]
    fn reads_images_and_labels() {
        let pixels: Vec<u8> = (0..24).collect();
        let im = read_images_from(&images_bytes(2, 3, 4, &pixels)[..]).unwrap();
        assert_eq!(
            (im.len(), im.rows(), im.cols(), im.pixels_per_image()),
            (2, 3, 4, 12)
        );
        assert!(!im.is_empty());
        assert_eq!(im.image(0).unwrap(), &pixels[..12]);
        assert_eq!(im.image(1).unwrap(), &pixels[12..]);
        assert_eq!(im.image(2), None);
        assert_eq!(im.pixels(), &pixels[..]);
        assert_eq!(im.clone().into_pixels(), pixels);
        assert_eq!(
            read_labels_from(&labels_bytes(&[7, 0, 9])[..]).unwrap(),
            vec![7, 0, 9]
        );
        // Zero images is a valid file.
        let empty = read_images_from(&images_bytes(0, 28, 28, &[])[..]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.image(0), None);
        assert_eq!(
            read_labels_from(&labels_bytes(&[])[..]).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn bad_magic_numbers() {
        let labels = labels_bytes(&[1]);
        let images = images_bytes(1, 1, 1, &[1]);
        match image_err(&labels) {
            IdxErrorKind::BadMagic { found, expected } => {
                assert_eq!((found, expected), (LABELS_MAGIC, IMAGES_MAGIC))
            }
            k => panic!("{k}"),
        }
        assert_eq!(
            read_images_from(&labels[..]).unwrap_err().to_string(),
            "bad magic number 0x00000801, expected 0x00000803 (this is a label file, not an image file)"
        );
        assert!(matches!(
            label_err(&images),
            IdxErrorKind::BadMagic {
                found: IMAGES_MAGIC,
                expected: LABELS_MAGIC
            }
        ));
        // Wrong element type (0x0D: f32), wrong dimension count, not IDX at all.
        for (magic, hint) in [
            (0x0000_0D03u32, "element type"),
            (0x0000_0802, "dimensions"),
            (0x0000_0804, "dimensions"),
            (0x8950_4E47, "not an IDX"),
        ] {
            let mut b = images.clone();
            b[..4].copy_from_slice(&magic.to_be_bytes());
            let e = read_images_from(&b[..]).unwrap_err();
            assert!(matches!(e.kind, IdxErrorKind::BadMagic { found, .. } if found == magic));
            assert!(e.to_string().contains(hint), "{e}");
        }
    }

    #[test]
    fn truncated_and_trailing() {
        let full = images_bytes(2, 2, 2, &[1; 8]);
        // Cut at every length: header or data truncated, never a panic.
        for cut in 0..full.len() {
            match image_err(&full[..cut]) {
                IdxErrorKind::Truncated { expected, found } => {
                    assert_eq!(found, cut as u64);
                    let want = if cut < 16 { 16 } else { 24 };
                    assert_eq!(expected, want, "cut {cut}");
                }
                k => panic!("cut {cut}: {k}"),
            }
        }
        let mut long = full.clone();
        long.push(0);
        assert!(matches!(
            image_err(&long),
            IdxErrorKind::TrailingBytes { expected: 24 }
        ));
        let mut long = labels_bytes(&[1, 2]);
        long.extend([0; 100]);
        assert!(matches!(
            label_err(&long),
            IdxErrorKind::TrailingBytes { expected: 10 }
        ));
        // A header announcing a huge size with little data: an error, no huge allocation.
        let huge = images_bytes(60_000, 60_000, 60_000, &[0; 10]);
        if usize::BITS == 64 {
            assert!(matches!(
                image_err(&huge),
                IdxErrorKind::Truncated { expected, found: 26 } if expected == 16 + 60_000u64.pow(3)
            ));
        }
    }

    #[test]
    fn size_overflow() {
        let b = images_bytes(u32::MAX, u32::MAX, u32::MAX, &[]);
        match image_err(&b) {
            IdxErrorKind::SizeOverflow { dims } => assert_eq!(dims, vec![u32::MAX; 3]),
            k => panic!("{k}"),
        }
    }

    #[test]
    fn io_errors_are_reported() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("cable unplugged"));
                }
                self.0 -= 1;
                buf[0] = 0;
                Ok(1)
            }
        }
        for after in [0, 1, 3] {
            let e = read_labels_from(Failing(after)).unwrap_err();
            assert!(matches!(&e.kind, IdxErrorKind::Io(io) if io.to_string() == "cable unplugged"));
            assert!(std::error::Error::source(&e).is_some());
        }
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn gzipped() {
        let pixels: Vec<u8> = (0..12).collect();
        let raw = images_bytes(3, 2, 2, &pixels);
        let im = read_images_from(&gzip(&raw)[..]).unwrap();
        assert_eq!(im, read_images_from(&raw[..]).unwrap());
        assert_eq!(
            read_labels_from(&gzip(&labels_bytes(&[4, 2]))[..]).unwrap(),
            vec![4, 2]
        );
        // Malformed content inside a valid gzip stream is caught the same way.
        assert!(matches!(
            read_images_from(&gzip(&raw[..raw.len() - 1])[..])
                .unwrap_err()
                .kind,
            IdxErrorKind::Truncated {
                expected: 28,
                found: 27
            }
        ));
        let mut long = raw.clone();
        long.push(1);
        assert!(matches!(
            read_images_from(&gzip(&long)[..]).unwrap_err().kind,
            IdxErrorKind::TrailingBytes { .. }
        ));
        assert!(matches!(
            read_images_from(&gzip(&labels_bytes(&[1]))[..])
                .unwrap_err()
                .kind,
            IdxErrorKind::BadMagic { .. }
        ));
        // A corrupt or cut gzip stream is an I/O error, not a panic.
        let gz = gzip(&raw);
        for cut in [2, 5, 10, gz.len() - 1] {
            assert!(read_images_from(&gz[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = gz.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        bad[mid + 1] ^= 0xff;
        assert!(read_images_from(&bad[..]).is_err());
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn gzip_disabled() {
        let e = read_images_from(&[0x1f, 0x8b, 8, 0][..]).unwrap_err();
        assert!(matches!(e.kind, IdxErrorKind::GzipDisabled));
    }

    #[test]
    fn files_carry_their_path() {
        let dir = TempDir::new("idx");
        let p = dir.0.join("imgs");
        std::fs::write(&p, images_bytes(1, 1, 2, &[5, 6])).unwrap();
        assert_eq!(read_images(&p).unwrap().pixels(), &[5, 6]);
        let l = dir.0.join("labels");
        std::fs::write(&l, labels_bytes(&[1])).unwrap();
        assert_eq!(read_labels(&l).unwrap(), vec![1]);
        let e = read_labels(&p).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(p.as_path()));
        assert!(
            e.to_string()
                .starts_with(&format!("{}: bad magic", p.display())),
            "{e}"
        );
        let missing = dir.0.join("nope");
        let e = read_images(&missing).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(missing.as_path()));
        assert!(matches!(&e.kind, IdxErrorKind::Io(io) if io.kind() == io::ErrorKind::NotFound));
    }
}
