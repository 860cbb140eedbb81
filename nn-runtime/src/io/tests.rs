//! Tests of safetensors saving and loading against a hand-written parameter set shaped
//! like PyTorch's `nn.Sequential(nn.Linear(2, 3), nn.PReLU(), nn.Linear(3, 2))`.

use super::*;
use crate::init::seeded_rng;
use crate::params::{TensorInfo, TensorKind, ZeroableParameters};
use nalgebra::{SMatrix, SVector};
use rand::Rng;
use safetensors::tensor::TensorView;

/// `nn.Sequential(nn.Linear(2, 3), nn.PReLU(), nn.Linear(3, 2))`, written by hand.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
struct Seq<T: Scalar> {
    w0: SMatrix<T, 3, 2>,
    b0: SVector<T, 3>,
    a1: SVector<T, 1>,
    w2: SMatrix<T, 2, 3>,
    b2: SVector<T, 2>,
}

const SEQ_INFO: [TensorInfo; 5] = [
    TensorInfo {
        name: "0.weight",
        shape: &[3, 2],
        kind: TensorKind::Weight,
    },
    TensorInfo {
        name: "0.bias",
        shape: &[3],
        kind: TensorKind::Bias,
    },
    TensorInfo {
        name: "1.weight",
        shape: &[1],
        kind: TensorKind::PReluSlope,
    },
    TensorInfo {
        name: "2.weight",
        shape: &[2, 3],
        kind: TensorKind::Weight,
    },
    TensorInfo {
        name: "2.bias",
        shape: &[2],
        kind: TensorKind::Bias,
    },
];

impl<T: Scalar> Parameters for Seq<T> {
    type Scalar = T;
    const TENSORS: usize = 5;
    const PARAMS: usize = 6 + 3 + 1 + 6 + 2;
    fn tensor_info(index: usize) -> TensorInfo {
        SEQ_INFO[index]
    }
    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => self.w0.as_slice(),
            1 => self.b0.as_slice(),
            2 => self.a1.as_slice(),
            3 => self.w2.as_slice(),
            4 => self.b2.as_slice(),
            _ => panic!("no tensor {index}"),
        }
    }
    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => self.w0.as_mut_slice(),
            1 => self.b0.as_mut_slice(),
            2 => self.a1.as_mut_slice(),
            3 => self.w2.as_mut_slice(),
            4 => self.b2.as_mut_slice(),
            _ => panic!("no tensor {index}"),
        }
    }
}

// SAFETY: `Seq<T>` is `repr(C)` and made only of nalgebra `SMatrix`/`SVector` with
// `ArrayStorage`, plain arrays of `T: Scalar` (f32 or f64); all-zero bits are +0.0.
unsafe impl<T: Scalar> ZeroableParameters for Seq<T> {}

/// A `Seq` whose every scalar is distinct: element `(r, c)` of tensor `t` is
/// `t + 0.1 * r + 0.01 * c + 0.5` (exactly representable checks use `f32` values).
fn sample<T: Scalar>() -> Seq<T> {
    let v = |t: usize, r: usize, c: usize| {
        <T as Scalar>::from_f64(f64::from(
            (t as f32) + 0.125 * r as f32 + 0.0625 * c as f32 + 0.5,
        ))
    };
    Seq {
        w0: SMatrix::from_fn(|r, c| v(0, r, c)),
        b0: SVector::from_fn(|r, _| -v(1, r, 0)),
        a1: SVector::from_element(<T as Scalar>::from_f64(0.25)),
        w2: SMatrix::from_fn(|r, c| -v(3, r, c)),
        b2: SVector::from_fn(|r, _| v(4, r, 0)),
    }
}

fn zeroed<T: Scalar>() -> Seq<T> {
    *Seq::<T>::boxed_zeroed()
}

/// A safetensors file from `(name, dtype, shape, bytes)` entries.
fn file(entries: &[(&str, safetensors::Dtype, &[usize], &[u8])]) -> Vec<u8> {
    let views: Vec<(&str, TensorView<'_>)> = entries
        .iter()
        .map(|&(name, dtype, shape, data)| {
            (
                name,
                TensorView::new(dtype, shape.to_vec(), data).expect("valid test tensor"),
            )
        })
        .collect();
    safetensors::serialize(views, None).expect("valid test file")
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A valid f32 file for `Seq` with every value 1.0 except the ones in `replace`.
fn seq_file_with(
    replace: &[(&str, safetensors::Dtype, &[usize], &[u8])],
    drop: &[&str],
) -> Vec<u8> {
    let ones: Vec<Vec<u8>> = SEQ_INFO
        .iter()
        .map(|i| f32_bytes(&vec![1.0; i.len()]))
        .collect();
    let mut entries: Vec<(&str, safetensors::Dtype, &[usize], &[u8])> = Vec::new();
    for (info, data) in SEQ_INFO.iter().zip(&ones) {
        if drop.contains(&info.name) || replace.iter().any(|r| r.0 == info.name) {
            continue;
        }
        entries.push((info.name, safetensors::Dtype::F32, info.shape, data));
    }
    entries.extend_from_slice(replace);
    file(&entries)
}

/// Loads `bytes` into a copy of `sample()` and checks that it fails leaving the copy
/// unchanged; returns the error.
fn load_err(bytes: &[u8]) -> LoadError {
    let mut net = sample::<f64>();
    let err = load_safetensors_bytes(&mut net, bytes).expect_err("loading should fail");
    assert_eq!(net, sample::<f64>(), "a failed load changed the parameters");
    err
}

// ----- Round trips and layout -----------------------------------------------------------

#[test]
fn round_trip_same_dtype() {
    let a64 = sample::<f64>();
    let mut b64 = zeroed::<f64>();
    load_safetensors_bytes(&mut b64, &to_safetensors_bytes(&a64, Dtype::F64).unwrap()).unwrap();
    assert_eq!(b64, a64);

    let a32 = sample::<f32>();
    let mut b32 = zeroed::<f32>();
    load_safetensors_bytes(&mut b32, &to_safetensors_bytes(&a32, Dtype::F32).unwrap()).unwrap();
    assert_eq!(b32, a32);
}

#[test]
fn round_trip_across_dtypes() {
    // f32 network saved as F64, loaded into f64 and f32 networks: exact.
    let a32 = sample::<f32>();
    let bytes = to_safetensors_bytes(&a32, Dtype::F64).unwrap();
    let mut b64 = zeroed::<f64>();
    load_safetensors_bytes(&mut b64, &bytes).unwrap();
    assert_eq!(b64, sample::<f64>());
    let mut b32 = zeroed::<f32>();
    load_safetensors_bytes(&mut b32, &bytes).unwrap();
    assert_eq!(b32, a32);

    // f64 network saved as F32 and loaded into f32: rounded to nearest.
    let mut a64 = sample::<f64>();
    a64.w0[(2, 1)] = 0.1; // not representable in f32
    let bytes = to_safetensors_bytes(&a64, Dtype::F32).unwrap();
    let mut c32 = zeroed::<f32>();
    load_safetensors_bytes(&mut c32, &bytes).unwrap();
    assert_eq!(c32.w0[(2, 1)], 0.1f32);
    assert_eq!(c32.w2, a32.w2);
    // ...and into f64: the f32-rounded value.
    let mut c64 = zeroed::<f64>();
    load_safetensors_bytes(&mut c64, &bytes).unwrap();
    assert_eq!(c64.w0[(2, 1)], f64::from(0.1f32));
    assert_ne!(c64.w0[(2, 1)], 0.1);
}

#[test]
fn weights_are_row_major_out_in_on_disk() {
    let net = sample::<f64>();
    let bytes = to_safetensors_bytes(&net, Dtype::F64).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let w0 = |o: usize, i: usize| net.w0[(o, i)];
    let w2 = |o: usize, i: usize| net.w2[(o, i)];
    type Element<'a> = &'a dyn Fn(usize, usize) -> f64;
    let weights: [(&str, usize, usize, Element<'_>); 2] =
        [("0.weight", 3, 2, &w0), ("2.weight", 2, 3, &w2)];
    for (name, rows, cols, m) in weights {
        let view = st.tensor(name).unwrap();
        assert_eq!(view.dtype(), safetensors::Dtype::F64);
        assert_eq!(view.shape(), &[rows, cols]);
        let disk: Vec<f64> = view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        for o in 0..rows {
            for i in 0..cols {
                assert_eq!(disk[o * cols + i], m(o, i), "{name} ({o}, {i})");
            }
        }
    }
    let slope = st.tensor("1.weight").unwrap();
    assert_eq!(slope.shape(), &[1]);
    assert_eq!(slope.data(), &0.25f64.to_le_bytes());
    assert_eq!(st.tensor("0.bias").unwrap().shape(), &[3]);
    assert_eq!(st.len(), 5);
}

#[test]
fn f32_save_of_f64_network_stores_f32() {
    let bytes = to_safetensors_bytes(&sample::<f64>(), Dtype::F32).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let w = st.tensor("2.weight").unwrap();
    assert_eq!(w.dtype(), safetensors::Dtype::F32);
    assert_eq!(w.data().len(), 6 * 4);
    // Row 1, column 2 of 2.weight is element 1 * 3 + 2 on disk.
    let expected = sample::<f64>().w2[(1, 2)] as f32;
    assert_eq!(&w.data()[20..24], &expected.to_le_bytes());
}

#[test]
fn header_metadata_is_format_pt() {
    let bytes = to_safetensors_bytes(&sample::<f32>(), Dtype::F32).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().as_ref().expect("metadata present");
    assert_eq!(meta.len(), 1);
    assert_eq!(meta.get("format").map(String::as_str), Some("pt"));
}

#[test]
fn file_round_trip_and_replace() {
    let dir = std::env::temp_dir().join(format!("nn-io-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    save_safetensors(&sample::<f64>(), &path, Dtype::F64).unwrap();
    // Saving again replaces the file.
    let mut other = sample::<f64>();
    other.b2[1] = 42.0;
    save_safetensors(&other, &path, Dtype::F64).unwrap();
    let mut loaded = zeroed::<f64>();
    load_safetensors(&mut loaded, &path).unwrap();
    assert_eq!(loaded, other);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["net.safetensors"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loads_tensors_in_any_order_with_metadata() {
    // Hand-built, f64, tensors listed in reverse order, foreign metadata.
    let net = sample::<f64>();
    let entries: Vec<(String, Vec<usize>, Vec<u8>)> = (0..5)
        .rev()
        .map(|t| {
            let info = SEQ_INFO[t];
            let storage = net.tensor(t);
            let disk: Vec<f64> = (0..info.len())
                .map(|f| storage[storage_index(info.shape, f)])
                .collect();
            (info.name.to_string(), info.shape.to_vec(), f64_bytes(&disk))
        })
        .collect();
    let views: Vec<(&str, TensorView<'_>)> = entries
        .iter()
        .map(|(n, s, d)| {
            (
                n.as_str(),
                TensorView::new(safetensors::Dtype::F64, s.clone(), d).unwrap(),
            )
        })
        .collect();
    let meta = HashMap::from([("producer".to_string(), "test".to_string())]);
    let bytes = safetensors::serialize(views, Some(meta)).unwrap();
    let mut loaded = zeroed::<f64>();
    load_safetensors_bytes(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded, net);
}

// ----- Interop with a file written by Python --------------------------------------------

/// `tests/fixtures/sequential.safetensors` is written by
/// `tests/reference/make_safetensors_fixture.py` (numpy + the safetensors package) as the
/// state_dict of `nn.Sequential(nn.Linear(2, 3), nn.PReLU(), nn.Linear(3, 2))`, row-major
/// `[out, in]`, with element `(r, c)` of `k.weight` equal to `10 * (k + 1) + r + c / 10`,
/// `k.bias[r] = -(k + 1) - r / 10` and the PReLU slope 0.25, all in float32.
fn check_fixture<T: Scalar>(net: &Seq<T>) {
    let f = |v: f64| <T as Scalar>::from_f64(f64::from(v as f32));
    // Linear(2, 3): weight [3, 2], row r = output r, column c = input c.
    assert_eq!(net.w0[(0, 0)], f(10.0));
    assert_eq!(net.w0[(0, 1)], f(10.1));
    assert_eq!(net.w0[(1, 0)], f(11.0));
    assert_eq!(net.w0[(2, 1)], f(12.1));
    assert_eq!(net.b0, SVector::<T, 3>::new(f(-1.0), f(-1.1), f(-1.2)));
    assert_eq!(net.a1[0], f(0.25));
    // Linear(3, 2): weight [2, 3].
    assert_eq!(net.w2[(0, 2)], f(30.2));
    assert_eq!(net.w2[(1, 0)], f(31.0));
    assert_eq!(net.w2[(1, 2)], f(31.2));
    assert_eq!(net.b2, SVector::<T, 2>::new(f(-3.0), f(-3.1)));
    for r in 0..3 {
        for c in 0..2 {
            assert_eq!(net.w0[(r, c)], f(10.0 + r as f64 + c as f64 / 10.0));
        }
    }
    for r in 0..2 {
        for c in 0..3 {
            assert_eq!(net.w2[(r, c)], f(30.0 + r as f64 + c as f64 / 10.0));
        }
    }
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sequential.safetensors"
);

#[test]
fn loads_python_fixture_into_f32_and_f64() {
    let mut n32 = zeroed::<f32>();
    load_safetensors(&mut n32, FIXTURE).unwrap();
    check_fixture(&n32);
    let mut n64 = zeroed::<f64>();
    load_safetensors(&mut n64, FIXTURE).unwrap();
    check_fixture(&n64);
}

#[test]
fn resaved_fixture_is_byte_identical_to_python_output() {
    // The Python script writes with safetensors' own serialiser and `{"format": "pt"}`;
    // saving what was loaded gives the same bytes.
    let mut net = zeroed::<f32>();
    load_safetensors(&mut net, FIXTURE).unwrap();
    let ours = to_safetensors_bytes(&net, Dtype::F32).unwrap();
    assert_eq!(ours, std::fs::read(FIXTURE).unwrap());
}

// ----- Every error, with its message ----------------------------------------------------

#[test]
fn error_missing_tensor() {
    let err = load_err(&seq_file_with(&[], &["1.weight"]));
    assert!(matches!(&err, LoadError::MissingTensor { name } if name == "1.weight"));
    assert_eq!(
        err.to_string(),
        "tensor `1.weight` is missing from the safetensors data"
    );
}

#[test]
fn error_unexpected_tensor() {
    let extra = f32_bytes(&[1.0; 4]);
    let bytes = seq_file_with(
        &[
            ("3.weight", safetensors::Dtype::F32, &[2, 2], &extra),
            ("3.bias", safetensors::Dtype::F32, &[4], &extra),
        ],
        &[],
    );
    let err = load_err(&bytes);
    // The first unexpected name in sorted order.
    assert!(matches!(&err, LoadError::UnexpectedTensor { name } if name == "3.bias"));
    assert_eq!(
        err.to_string(),
        "unexpected tensor `3.bias` in the safetensors data: the network has no parameter \
         of that name"
    );
}

#[test]
fn error_shape_mismatch_transposed_weight() {
    // A [2, 3] weight where [3, 2] is expected: same length, wrong shape.
    let data = f32_bytes(&[1.0; 6]);
    let err = load_err(&seq_file_with(
        &[("0.weight", safetensors::Dtype::F32, &[2, 3], &data)],
        &[],
    ));
    match &err {
        LoadError::ShapeMismatch {
            name,
            expected,
            found,
        } => {
            assert_eq!(name, "0.weight");
            assert_eq!(expected, &[3, 2]);
            assert_eq!(found, &[2, 3]);
        }
        other => panic!("wrong error {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "tensor `0.weight` has shape [2, 3] in the safetensors data, but the network \
         expects [3, 2]"
    );
}

#[test]
fn error_shape_mismatch_scalar_slope_and_rank() {
    // torch.tensor(0.25) saved as shape [] instead of [1].
    let data = f32_bytes(&[0.25]);
    let err = load_err(&seq_file_with(
        &[("1.weight", safetensors::Dtype::F32, &[], &data)],
        &[],
    ));
    assert_eq!(
        err.to_string(),
        "tensor `1.weight` has shape [] in the safetensors data, but the network expects [1]"
    );
    let data = f32_bytes(&[1.0; 2]);
    let err = load_err(&seq_file_with(
        &[("2.bias", safetensors::Dtype::F32, &[1, 2], &data)],
        &[],
    ));
    assert!(matches!(err, LoadError::ShapeMismatch { ref name, .. } if name == "2.bias"));
}

#[test]
fn error_unsupported_dtypes() {
    let f16 = vec![0u8; 2 * 3];
    let err = load_err(&seq_file_with(
        &[("0.bias", safetensors::Dtype::F16, &[3], &f16)],
        &[],
    ));
    assert!(matches!(
        &err,
        LoadError::UnsupportedDtype { name, dtype: safetensors::Dtype::F16 } if name == "0.bias"
    ));
    assert_eq!(
        err.to_string(),
        "tensor `0.bias` has dtype F16; only F32 and F64 can be loaded"
    );

    let i64s = vec![0u8; 8 * 6];
    let err = load_err(&seq_file_with(
        &[("2.weight", safetensors::Dtype::I64, &[2, 3], &i64s)],
        &[],
    ));
    assert_eq!(
        err.to_string(),
        "tensor `2.weight` has dtype I64; only F32 and F64 can be loaded"
    );
    for dtype in [
        safetensors::Dtype::BF16,
        safetensors::Dtype::I32,
        safetensors::Dtype::U8,
        safetensors::Dtype::BOOL,
    ] {
        let data = vec![0u8; dtype.bitsize() / 8];
        let err = load_err(&seq_file_with(&[("1.weight", dtype, &[1], &data)], &[]));
        assert!(matches!(err, LoadError::UnsupportedDtype { dtype: d, .. } if d == dtype));
    }
}

#[test]
fn error_non_finite_values() {
    // NaN at row 1, column 0 of 2.weight (row-major element 3).
    let mut w = [1.0f32; 6];
    w[3] = f32::NAN;
    let data = f32_bytes(&w);
    let err = load_err(&seq_file_with(
        &[("2.weight", safetensors::Dtype::F32, &[2, 3], &data)],
        &[],
    ));
    assert!(matches!(
        &err,
        LoadError::NonFinite { name, position, value }
            if name == "2.weight" && position == &[1, 0] && value.is_nan()
    ));
    assert_eq!(
        err.to_string(),
        "tensor `2.weight` holds a non-finite value (NaN) at [1, 0]"
    );

    let data = f64_bytes(&[1.0, f64::NEG_INFINITY, 1.0]);
    let err = load_err(&seq_file_with(
        &[("0.bias", safetensors::Dtype::F64, &[3], &data)],
        &[],
    ));
    assert_eq!(
        err.to_string(),
        "tensor `0.bias` holds a non-finite value (-inf) at [1]"
    );
}

#[test]
fn error_f64_value_out_of_f32_range() {
    let data = f64_bytes(&[1.0, 1e300]);
    let bytes = seq_file_with(&[("2.bias", safetensors::Dtype::F64, &[2], &data)], &[]);
    // Fine for an f64 network...
    let mut n64 = zeroed::<f64>();
    load_safetensors_bytes(&mut n64, &bytes).unwrap();
    assert_eq!(n64.b2[1], 1e300);
    // ...but not for an f32 one, which stays unchanged.
    let mut n32 = sample::<f32>();
    let err = load_safetensors_bytes(&mut n32, &bytes).unwrap_err();
    assert_eq!(n32, sample::<f32>());
    assert!(matches!(
        &err,
        LoadError::OutOfRange { name, position, value, scalar: Dtype::F32 }
            if name == "2.bias" && position == &[1] && *value == 1e300
    ));
    assert_eq!(
        err.to_string(),
        "tensor `2.bias` holds 1e300 at [1], which does not fit in F32"
    );
}

#[test]
fn error_malformed() {
    let err = load_err(b"definitely not safetensors");
    assert!(matches!(err, LoadError::Malformed(_)));
    assert!(err.to_string().starts_with("malformed safetensors data: "));
    assert!(std::error::Error::source(&err).is_some());

    let err = load_err(&[]);
    assert_eq!(
        err.to_string(),
        "malformed safetensors data: header too small"
    );

    let mut bytes = to_safetensors_bytes(&sample::<f64>(), Dtype::F64).unwrap();
    bytes.pop();
    let err = load_err(&bytes);
    assert_eq!(
        err.to_string(),
        "malformed safetensors data: incomplete metadata, file not fully covered"
    );
}

#[test]
fn error_io_names_the_path() {
    let missing = std::env::temp_dir().join("nn-io-test-no-such-dir/net.safetensors");
    let mut net = sample::<f64>();
    let err = load_safetensors(&mut net, &missing).unwrap_err();
    assert_eq!(net, sample::<f64>());
    assert!(matches!(&err, LoadError::Io { path, source }
        if *path == missing && source.kind() == std::io::ErrorKind::NotFound));
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot read safetensors file `{}`: ",
            missing.display()
        )),
        "{msg}"
    );

    let err = save_safetensors(&net, &missing, Dtype::F32).unwrap_err();
    assert!(matches!(&err, SaveError::Io { path, .. } if *path == missing));
    assert!(err.to_string().starts_with(&format!(
        "cannot write safetensors file `{}`: ",
        missing.display()
    )));

    // A path that names no file.
    let err = save_safetensors(&net, std::path::Path::new("/"), Dtype::F32).unwrap_err();
    assert!(matches!(err, SaveError::Io { .. }));
}

#[test]
fn save_errors_non_finite_and_out_of_range() {
    let mut net = sample::<f64>();
    net.w0[(2, 0)] = f64::INFINITY;
    let err = to_safetensors_bytes(&net, Dtype::F64).unwrap_err();
    assert!(matches!(&err, SaveError::NonFinite { name, position, .. }
        if name == "0.weight" && position == &[2, 0]));
    assert_eq!(
        err.to_string(),
        "tensor `0.weight` holds a non-finite value (inf) at [2, 0]"
    );

    let mut net = sample::<f64>();
    net.w2[(0, 1)] = -1e40;
    assert!(to_safetensors_bytes(&net, Dtype::F64).is_ok());
    let err = to_safetensors_bytes(&net, Dtype::F32).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `2.weight` holds -1e40 at [0, 1], which does not fit in F32"
    );
}

/// A `Parameters` implementation whose tensor info (set per thread) may lie about
/// shapes or names.
struct Broken {
    data: [f64; 4],
}

impl Parameters for Broken {
    type Scalar = f64;
    const TENSORS: usize = 2;
    const PARAMS: usize = 4;
    fn tensor_info(index: usize) -> TensorInfo {
        BROKEN_INFO.with(|i| i.get()[index])
    }
    fn tensor(&self, index: usize) -> &[f64] {
        &self.data[index * 2..index * 2 + 2]
    }
    fn tensor_mut(&mut self, index: usize) -> &mut [f64] {
        &mut self.data[index * 2..index * 2 + 2]
    }
}

thread_local! {
    static BROKEN_INFO: std::cell::Cell<[TensorInfo; 2]> = const {
        std::cell::Cell::new([
            TensorInfo { name: "a", shape: &[2], kind: TensorKind::Bias },
            TensorInfo { name: "b", shape: &[2], kind: TensorKind::Bias },
        ])
    };
}

fn broken(info: [TensorInfo; 2]) -> Broken {
    BROKEN_INFO.with(|i| i.set(info));
    Broken {
        data: [1.0, 2.0, 3.0, 4.0],
    }
}

#[test]
fn errors_for_inconsistent_parameters() {
    let ok = [
        TensorInfo {
            name: "a",
            shape: &[2],
            kind: TensorKind::Bias,
        },
        TensorInfo {
            name: "b",
            shape: &[1, 2],
            kind: TensorKind::Weight,
        },
    ];
    let good = broken(ok);
    let bytes = to_safetensors_bytes(&good, Dtype::F64).unwrap();

    let dup = [ok[0], ok[0]];
    let err = to_safetensors_bytes(&broken(dup), Dtype::F64).unwrap_err();
    assert_eq!(
        err.to_string(),
        "two tensors are named `a`: the Parameters implementation is inconsistent"
    );

    let wrong_len = [
        ok[0],
        TensorInfo {
            name: "b",
            shape: &[3],
            kind: TensorKind::Bias,
        },
    ];
    let err = to_safetensors_bytes(&broken(wrong_len), Dtype::F64).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `b` has shape [3] but its storage holds 2 scalars: the Parameters \
         implementation is inconsistent"
    );
    // Loading a file whose shapes match the lying info fails the same way, unchanged.
    let three = f64_bytes(&[7.0; 3]);
    let two = f64_bytes(&[7.0; 2]);
    let bytes3 = file(&[
        ("a", safetensors::Dtype::F64, &[2], &two),
        ("b", safetensors::Dtype::F64, &[3], &three),
    ]);
    let mut b = broken(wrong_len);
    let err = load_safetensors_bytes(&mut b, &bytes3).unwrap_err();
    assert!(matches!(err, LoadError::StorageMismatch { len: 2, .. }));
    assert_eq!(b.data, [1.0, 2.0, 3.0, 4.0]);

    // The consistent version round-trips.
    let mut c = broken(ok);
    c.data = [0.0; 4];
    load_safetensors_bytes(&mut c, &bytes).unwrap();
    assert_eq!(c.data, [1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn error_checks_follow_network_order() {
    // 0.weight has the wrong shape and 2.bias is missing: 0.weight is reported first.
    let data = f32_bytes(&[1.0; 6]);
    let err = load_err(&seq_file_with(
        &[("0.weight", safetensors::Dtype::F32, &[6], &data)],
        &["2.bias"],
    ));
    assert!(matches!(err, LoadError::ShapeMismatch { ref name, .. } if name == "0.weight"));
}

// ----- Never panic on any bytes ----------------------------------------------------------

/// A raw file: 8-byte little-endian header length, `header`, then `data_len` zero bytes.
fn raw(header: &str, data_len: usize) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + data_len, 0);
    out
}

/// Loads into both an f32 and an f64 network; must fail without panicking and without
/// changing them. Returns whether both failed.
fn must_fail(bytes: &[u8]) {
    let mut n64 = sample::<f64>();
    let mut n32 = sample::<f32>();
    assert!(
        load_safetensors_bytes(&mut n64, bytes).is_err(),
        "accepted {bytes:?}"
    );
    assert!(load_safetensors_bytes(&mut n32, bytes).is_err());
    assert_eq!(n64, sample::<f64>());
    assert_eq!(n32, sample::<f32>());
}

/// Loads without caring about the result: must not panic; on error nothing changes.
fn must_not_panic(bytes: &[u8]) -> bool {
    let mut n64 = sample::<f64>();
    let ok = load_safetensors_bytes(&mut n64, bytes).is_ok();
    if !ok {
        assert_eq!(n64, sample::<f64>());
    } else {
        assert!(n64.is_finite());
    }
    ok
}

/// Offsets whose sum reaches `usize::MAX - 7`: eight U8 tensors of `2^61 - 1` bytes.
fn overflowing_header() -> String {
    let size = (1usize << 61) - 1;
    let mut parts = Vec::new();
    for k in 0..8 {
        parts.push(format!(
            r#""t{k}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{},{}]}}"#,
            k * size,
            (k + 1) * size
        ));
    }
    format!("{{{}}}", parts.join(","))
}

#[test]
fn guard_rejects_offsets_that_overflow_safetensors() {
    let bytes = raw(&overflowing_header(), 0);
    let err = load_err(&bytes);
    assert_eq!(
        err.to_string(),
        "malformed safetensors data: incomplete metadata, file not fully covered"
    );
    must_fail(&bytes);
}

/// Evidence for the guard: without it, safetensors 0.8 itself panics on this header when
/// overflow checks are on. If this starts failing after a safetensors upgrade, the
/// upstream bug is fixed and `guard_data_offsets` could go.
#[test]
#[cfg(debug_assertions)]
fn safetensors_deserialize_alone_overflows_on_huge_offsets() {
    let bytes = raw(&overflowing_header(), 0);
    let outcome = std::panic::catch_unwind(|| SafeTensors::deserialize(&bytes).is_err());
    assert!(outcome.is_err(), "safetensors no longer panics here");
}

#[test]
fn hand_crafted_bad_headers_fail_cleanly() {
    let t = |name: &str, dtype: &str, shape: &str, s: usize, e: usize| {
        format!(r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{s},{e}]}}"#)
    };
    let valid_rest = [
        t("0.bias", "F32", "[3]", 24, 36),
        t("1.weight", "F32", "[1]", 36, 40),
        t("2.weight", "F32", "[2,3]", 40, 64),
        t("2.bias", "F32", "[2]", 64, 72),
    ]
    .join(",");
    let with_w0 = |w0: String| format!("{{{w0},{valid_rest}}}");

    // Sanity: the well-formed version loads.
    let good = raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, 24)), 72);
    assert!(must_not_panic(&good));

    let cases: Vec<Vec<u8>> = vec![
        // Offsets: past the end, reversed, gap, overlap, start not at 0.
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, 24)), 71),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, 24)), 73),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 24, 0)), 72),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, 20)), 72),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, 28)), 72),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 4, 28)), 76),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, usize::MAX)), 72),
        raw(
            &with_w0(t("0.weight", "F32", "[3,2]", usize::MAX - 24, usize::MAX)),
            72,
        ),
        // Overlapping ranges between two tensors.
        raw(
            &format!(
                "{{{},{}}}",
                t("0.weight", "F32", "[3,2]", 0, 24),
                t("0.bias", "F32", "[3]", 12, 24)
            ),
            24,
        ),
        // Shape and byte length disagree.
        raw(&with_w0(t("0.weight", "F32", "[3,3]", 0, 24)), 72),
        raw(&with_w0(t("0.weight", "F64", "[3,2]", 0, 24)), 72),
        // Huge shapes: overflowing element count, and overflowing byte count.
        raw(
            &with_w0(t("0.weight", "F32", "[4294967296,4294967296]", 0, 24)),
            72,
        ),
        raw(
            &with_w0(t("0.weight", "F64", "[2305843009213693952]", 0, 24)),
            72,
        ),
        raw(
            &with_w0(t(
                "0.weight",
                "F32",
                "[18446744073709551615,18446744073709551615]",
                0,
                24,
            )),
            72,
        ),
        // A zero-sized dimension next to a huge one: valid file, wrong shape.
        raw(
            &format!(
                "{{{}}}",
                [
                    t("0.weight", "F32", "[0,18446744073709551615]", 0, 0),
                    t("0.bias", "F32", "[3]", 0, 12),
                    t("1.weight", "F32", "[1]", 12, 16),
                    t("2.weight", "F32", "[2,3]", 16, 40),
                    t("2.bias", "F32", "[2]", 40, 48),
                ]
                .join(",")
            ),
            48,
        ),
        raw(&with_w0(t("0.weight", "F32", "[3,2]", 0, 24)), 72)[..79].to_vec(),
        // Numbers that are not offsets.
        raw(&with_w0(t("0.weight", "F32", "[3,-2]", 0, 24)), 72),
        raw(
            &with_w0(r#""0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0.0,24]}"#.into()),
            72,
        ),
        raw(
            &with_w0(
                r#""0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,99999999999999999999999]}"#
                    .into(),
            ),
            72,
        ),
        raw(
            &with_w0(r#""0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0]}"#.into()),
            72,
        ),
        raw(
            &with_w0(r#""0.weight":{"dtype":"F32","shape":[3,2]}"#.into()),
            72,
        ),
        raw(&with_w0(t("0.weight", "F33", "[3,2]", 0, 24)), 72),
        raw(&with_w0(t("0.weight", "F4", "[3,1]", 0, 1)), 49),
        // Metadata that is not a string map.
        raw(
            &format!(
                r#"{{"__metadata__":{{"format":1}},{},{valid_rest}}}"#,
                t("0.weight", "F32", "[3,2]", 0, 24)
            ),
            72,
        ),
        raw(r#"{"__metadata__":[]}"#, 0),
        // Not JSON / not an object / not UTF-8 / deeply nested.
        raw("", 0),
        raw("{", 0),
        raw("[]", 0),
        raw("null", 0),
        raw("{}", 0),
        raw("{}", 8),
        raw(&format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)), 0),
        raw(
            &format!(r#"{{"a":{}1{}}}"#, "[".repeat(10_000), "]".repeat(10_000)),
            0,
        ),
        {
            let mut b = raw("{\"\u{ff}\":1}", 0);
            b[10] = 0xff;
            b
        },
        // Header length fields: zero, larger than the buffer, huge, u64::MAX.
        vec![0; 8],
        {
            let mut b = good.clone();
            b[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
            b
        },
        {
            let mut b = good.clone();
            b[..8].copy_from_slice(&100_000_001u64.to_le_bytes());
            b
        },
        {
            let mut b = good.clone();
            b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
            b
        },
        {
            let mut b = good.clone();
            b[..8].copy_from_slice(&(u64::MAX - 7).to_le_bytes());
            b
        },
        // Duplicate keys (the last one wins in the JSON parser).
        raw(
            &format!(
                "{{{},{},{valid_rest}}}",
                t("0.weight", "F32", "[3,2]", 0, 24),
                t("0.weight", "F64", "[3,1]", 0, 24)
            ),
            72,
        ),
    ];
    // Identical duplicate keys are harmless: one of them is used.
    assert!(must_not_panic(&raw(
        &format!(
            "{{{},{},{valid_rest}}}",
            t("0.weight", "F32", "[3,2]", 0, 24),
            t("0.weight", "F32", "[3,2]", 0, 24)
        ),
        72,
    )));
    for (k, bytes) in cases.iter().enumerate() {
        let mut n = sample::<f64>();
        let result = load_safetensors_bytes(&mut n, bytes);
        assert!(result.is_err(), "case {k} was accepted");
        assert_eq!(n, sample::<f64>(), "case {k} changed the network");
        must_fail(bytes);
    }
}

#[test]
fn fuzz_truncations_bit_flips_and_random_bytes() {
    let mut rng = seeded_rng(0x5afe_7e25);
    let good32 = to_safetensors_bytes(&sample::<f32>(), Dtype::F32).unwrap();
    let good64 = to_safetensors_bytes(&sample::<f64>(), Dtype::F64).unwrap();
    let mut accepted = 0usize;
    let mut rejected = 0usize;
    let mut count = |ok: bool| {
        if ok {
            accepted += 1
        } else {
            rejected += 1
        }
    };

    for good in [&good32, &good64] {
        assert!(must_not_panic(good));
        // Every truncation.
        for len in 0..good.len() {
            must_fail(&good[..len]);
        }
        // Every single-bit flip.
        for bit in 0..good.len() * 8 {
            let mut b = good.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            count(must_not_panic(&b));
        }
        // Random multi-byte corruptions, and appended garbage.
        for _ in 0..3000 {
            let mut b = good.clone();
            let flips = 1 + (rng.next_u32() % 8) as usize;
            for _ in 0..flips {
                let at = (rng.next_u64() % b.len() as u64) as usize;
                b[at] = rng.next_u32() as u8;
            }
            if rng.next_u32().is_multiple_of(4) {
                let extra = (rng.next_u32() % 16) as usize;
                b.extend((0..extra).map(|_| rng.next_u32() as u8));
            }
            count(must_not_panic(&b));
        }
        // Random printable header text with the right length prefix.
        let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        for _ in 0..2000 {
            let mut b = good.clone();
            let at = 8 + (rng.next_u64() % header_len as u64) as usize;
            let alphabet = b" {}[]\",:0123456789-eE.FUIx";
            b[at] = alphabet[(rng.next_u32() as usize) % alphabet.len()];
            count(must_not_panic(&b));
        }
    }
    // Random bytes of random lengths, some with a plausible header length.
    for _ in 0..5000 {
        let len = (rng.next_u32() % 300) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
        if len >= 8 && rng.next_u32().is_multiple_of(2) {
            let n = (rng.next_u64() % (len as u64 - 7)).to_le_bytes();
            b[..8].copy_from_slice(&n);
        }
        must_fail(&b);
    }
    // Sanity of the harness: most corruptions are rejected, some (flips inside the data
    // that keep values finite) are accepted.
    assert!(rejected > 1000, "rejected {rejected}");
    assert!(accepted > 100, "accepted {accepted}");
}

// ----- A network generated by the macro ----------------------------------------------------

crate::network! {
    /// `nn.Sequential(nn.Linear(2, 3), nn.PReLU(), nn.Linear(3, 2))`.
    #[derive(Clone, Debug, PartialEq)]
    struct MacroSeq {
        input: 2,
        dense(3), prelu,
        dense(2),
    }
}

#[test]
fn macro_network_has_the_pytorch_names_and_shapes() {
    assert_eq!(<MacroSeq<f64> as Parameters>::TENSORS, SEQ_INFO.len());
    for (t, expected) in SEQ_INFO.iter().enumerate() {
        assert_eq!(MacroSeq::<f64>::tensor_info(t), *expected);
    }
}

/// The fixture's network evaluated from its defining formula, independently of any
/// storage layout: `2.weight @ prelu(0.weight @ x + 0.bias) + 2.bias`.
fn fixture_forward(x: [f64; 2]) -> [f64; 2] {
    let f = |v: f64| f64::from(v as f32);
    let h: Vec<f64> = (0..3)
        .map(|r| {
            let z = (0..2)
                .map(|c| f(10.0 + r as f64 + c as f64 / 10.0) * x[c])
                .sum::<f64>()
                + f(-1.0 - r as f64 / 10.0);
            if z >= 0.0 {
                z
            } else {
                0.25 * z
            }
        })
        .collect();
    let y = |r: usize| {
        (0..3)
            .map(|c| f(30.0 + r as f64 + c as f64 / 10.0) * h[c])
            .sum::<f64>()
            + f(-3.0 - r as f64 / 10.0)
    };
    [y(0), y(1)]
}

#[test]
fn python_fixture_loads_into_macro_network_and_computes_the_same() {
    let mut net = MacroSeq::<f64>::zeros();
    load_safetensors(&mut net, FIXTURE).unwrap();
    // Both PReLU branches: the first input makes every hidden unit negative, the second
    // positive.
    for x in [[-1.0, 0.5], [1.0, -0.5], [0.3, 0.7]] {
        let y = net.forward(&SVector::<f64, 2>::new(x[0], x[1]));
        let expected = fixture_forward(x);
        for r in 0..2 {
            assert!(
                (y[r] - expected[r]).abs() <= 1e-12 * expected[r].abs().max(1.0),
                "x = {x:?}: {} vs {}",
                y[r],
                expected[r]
            );
        }
    }
    // Saved back as F32 it is the Python file, byte for byte.
    let ours = to_safetensors_bytes(&net, Dtype::F32).unwrap();
    assert_eq!(ours, std::fs::read(FIXTURE).unwrap());
}

#[test]
fn macro_network_round_trips_through_the_hand_written_struct() {
    let net = MacroSeq::<f32>::seeded(7);
    let bytes = to_safetensors_bytes(&net, Dtype::F32).unwrap();
    let mut hand = zeroed::<f64>();
    load_safetensors_bytes(&mut hand, &bytes).unwrap();
    let back = to_safetensors_bytes(&hand, Dtype::F32).unwrap();
    let mut net2 = MacroSeq::<f32>::zeros();
    load_safetensors_bytes(&mut net2, &back).unwrap();
    assert_eq!(net2, net);
    let x = SVector::<f32, 2>::new(0.5, -1.5);
    assert_eq!(net2.forward(&x), net.forward(&x));
}

/// Not a check by itself: writes files for the Python side to read back, with
///
/// ```text
/// NN_IO_PY_CHECK_DIR=/tmp/nncheck cargo test -p nn-runtime --lib \
///     io::tests::write_files_for_python_check -- --ignored
/// python3 nn-runtime/tests/reference/make_safetensors_fixture.py --check /tmp/nncheck/f32.safetensors
/// python3 nn-runtime/tests/reference/make_safetensors_fixture.py --check /tmp/nncheck/f64.safetensors
/// ```
#[test]
#[ignore = "writes files for a manual check with Python"]
fn write_files_for_python_check() {
    let dir = std::env::var_os("NN_IO_PY_CHECK_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut net = MacroSeq::<f64>::zeros();
    load_safetensors(&mut net, FIXTURE).unwrap();
    save_safetensors(&net, dir.join("f32.safetensors"), Dtype::F32).unwrap();
    save_safetensors(&net, dir.join("f64.safetensors"), Dtype::F64).unwrap();
    println!(
        "wrote {}/f32.safetensors and f64.safetensors",
        dir.display()
    );
}
