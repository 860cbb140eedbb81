//! Weights exchanged with PyTorch through safetensors, by name, in both directions.

use nn::prelude::*;
use nn::{Dtype, LoadError};

nn::network! {
    /// The quadrant classifier: `nn.Sequential(nn.Linear(2, 50), nn.ReLU(), nn.Linear(50, 4), nn.Softmax(dim=1))`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Quadrants {
        input: 2,
        dense(50), relu,
        dense(4), softmax,
    }
}

/// Printed by `tests/reference/torch_safetensors.py`, which also wrote the fixture with
/// `safetensors.torch.save_file(model.state_dict(), ...)`.
#[allow(clippy::excessive_precision)]
const TORCH_OUT: [f32; 16] = [
    0.1526910811662674,
    0.37508198618888855,
    0.18799954652786255,
    0.2842274308204651,
    0.33937370777130127,
    0.23162536323070526,
    0.21019017696380615,
    0.2188107967376709,
    0.24930834770202637,
    0.21775168180465698,
    0.2989911735057831,
    0.23394875228405,
    0.2424124926328659,
    0.33756741881370544,
    0.18223822116851807,
    0.2377818077802658,
];

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/quadrants_torch.safetensors"
);

fn x() -> SMatrix<f32, 2, 4> {
    SMatrix::<f32, 2, 4>::from_column_slice(&[2.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0])
}

#[test]
fn loads_a_pytorch_state_dict() {
    let net = Quadrants::<f32>::from_safetensors(FIXTURE).unwrap();
    let out = net.forward_batch(&x());
    for (a, b) in out.iter().zip(TORCH_OUT) {
        assert!((a - b).abs() < 1e-6, "{a} vs PyTorch {b}");
    }
    // The same file into an f64 network.
    let net64 = Quadrants::<f64>::from_safetensors(FIXTURE).unwrap();
    let out64 = net64.forward_batch(&x().cast::<f64>());
    for (a, b) in out64.iter().zip(TORCH_OUT) {
        assert!((a - b as f64).abs() < 1e-6);
    }
}

#[test]
fn tensor_names_follow_nn_sequential() {
    let names: Vec<_> = (0..<Quadrants as Parameters>::TENSORS)
        .map(|t| {
            (
                Quadrants::<f32>::tensor_info(t).name,
                Quadrants::<f32>::tensor_info(t).shape,
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("0.weight", &[50, 2][..]),
            ("0.bias", &[50][..]),
            ("2.weight", &[4, 50][..]),
            ("2.bias", &[4][..])
        ]
    );
    nn::network! { struct Named { input: 3, hidden: dense(4), act: prelu, out: dense(2) } }
    let names: Vec<_> = (0..<Named as Parameters>::TENSORS)
        .map(|t| Named::<f32>::tensor_info(t).name)
        .collect();
    assert_eq!(
        names,
        vec![
            "hidden.weight",
            "hidden.bias",
            "act.weight",
            "out.weight",
            "out.bias"
        ]
    );
}

#[test]
fn round_trip_and_cross_dtype() {
    let mut net = Quadrants::<f64>::seeded(3);
    let bytes = net.to_safetensors_bytes().unwrap();
    let mut back = Quadrants::<f64>::zeros();
    back.load_safetensors_bytes(&bytes).unwrap();
    assert_eq!(back, net);
    // Saved as f32, loaded into f32.
    let dir = std::env::temp_dir().join(format!("nn-st-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("q32.safetensors");
    net.save_safetensors_as(&path, Dtype::F32).unwrap();
    let n32 = Quadrants::<f32>::from_safetensors(&path).unwrap();
    assert!(
        (n32.layer0.weight.cast::<f64>() - net.layer0.weight)
            .abs()
            .max()
            < 1e-6
    );
    // Gradients save and load too.
    let (_, g) = net.loss_and_gradients(
        &x().cast::<f64>(),
        &SMatrix::<f64, 4, 4>::identity(),
        &CrossEntropy,
    );
    g.save_safetensors(dir.join("g.safetensors")).unwrap();
    let mut g2 = Quadrants::<f64>::zero_gradients();
    g2.load_safetensors(dir.join("g.safetensors")).unwrap();
    assert_eq!(g, g2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mismatched_files_are_typed_errors() {
    nn::network! { struct Wider { input: 2, dense(60), relu, dense(4), softmax } }
    let mut wrong = Wider::<f32>::seeded(1);
    let before = wrong.layer0.weight;
    match wrong.load_safetensors(FIXTURE) {
        Err(LoadError::ShapeMismatch {
            name,
            expected,
            found,
        }) => {
            assert_eq!(name, "0.weight");
            assert_eq!(expected, vec![60, 2]);
            assert_eq!(found, vec![50, 2]);
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    assert_eq!(wrong.layer0.weight, before, "nothing changes on error");
    nn::network! { struct Deeper { input: 2, dense(50), relu, dense(4), relu, dense(4), softmax } }
    let Err(err) = Deeper::<f32>::from_safetensors(FIXTURE) else {
        panic!("loaded a file with missing tensors")
    };
    assert!(err.to_string().contains("4.weight"), "{err}");
    let err = Quadrants::<f32>::from_safetensors("/nonexistent/file.safetensors").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/file.safetensors"),
        "{err}"
    );
    let mut q = Quadrants::<f32>::zeros();
    assert!(q.load_safetensors_bytes(b"not a safetensors file").is_err());
}
