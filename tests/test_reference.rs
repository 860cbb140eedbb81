//! Forward outputs, losses and every gradient (parameters and input) against PyTorch
//! 2.15 in float64: the numbers in `reference/torch_reference.rs` were produced by
//! `reference/torch_reference.py` (see its docstring), independently of this crate.

#[allow(dead_code)]
mod reference {
    include!("reference/torch_reference.rs");
}
use nn::prelude::*;
use reference::*;

/// Loads a PyTorch row-major tensor into the tensor of that name.
fn set<P: Parameters<Scalar = f64>>(net: &mut P, name: &str, data: &[f64]) {
    let t = P::tensor_index(name).unwrap_or_else(|| panic!("no tensor {name}"));
    let shape = P::tensor_info(t).shape;
    assert_eq!(shape.iter().product::<usize>(), data.len(), "{name}");
    let dst = net.tensor_mut(t);
    if let [rows, cols] = *shape {
        for r in 0..rows {
            for c in 0..cols {
                dst[c * rows + r] = data[r * cols + c];
            }
        }
    } else {
        dst.copy_from_slice(data);
    }
}

/// Compares the tensor of that name with PyTorch's row-major values.
fn check<P: Parameters<Scalar = f64>>(g: &P, name: &str, expected: &[f64]) {
    let t = P::tensor_index(name).unwrap_or_else(|| panic!("no tensor {name}"));
    let shape = P::tensor_info(t).shape;
    let src = g.tensor(t);
    for (i, &e) in expected.iter().enumerate() {
        let got = if let [rows, cols] = *shape {
            let (r, c) = (i / cols, i % cols);
            src[c * rows + r]
        } else {
            src[i]
        };
        close(got, e, name);
    }
}

fn close(got: f64, expected: f64, what: &str) {
    let tol = 1e-12 * (1.0 + expected.abs());
    assert!(
        (got - expected).abs() <= tol,
        "{what}: {got} vs PyTorch {expected}"
    );
}

fn all_close(got: &[f64], expected: &[f64], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (&g, &e) in got.iter().zip(expected) {
        close(g, e, what);
    }
}

#[test]
fn case_a_tanh_leaky_relu_softmax_cross_entropy() {
    nn::network! { struct A { input: 3, dense(5), tanh, dense(4), leaky_relu(0.2), dense(3), softmax } }
    let mut net = A::<f64>::zeros();
    for (n, d) in [
        ("0.weight", &A_P_0_WEIGHT[..]),
        ("0.bias", &A_P_0_BIAS),
        ("2.weight", &A_P_2_WEIGHT),
        ("2.bias", &A_P_2_BIAS),
        ("4.weight", &A_P_4_WEIGHT),
        ("4.bias", &A_P_4_BIAS),
    ] {
        set(&mut net, n, d);
    }
    let x = SMatrix::<f64, 3, 4>::from_column_slice(&A_X);
    let y = SMatrix::<f64, 3, 4>::from_column_slice(&A_Y);
    all_close(net.forward_batch(&x).as_slice(), &A_OUT, "output");
    let mut g = A::<f64>::zero_gradients();
    let (loss, gx) = net.accumulate_gradients_with_input(&x, &y, &CrossEntropy, &mut g);
    close(loss, A_LOSS[0], "loss");
    all_close(gx.as_slice(), &A_GX, "input gradient");
    for (n, d) in [
        ("0.weight", &A_G_0_WEIGHT[..]),
        ("0.bias", &A_G_0_BIAS),
        ("2.weight", &A_G_2_WEIGHT),
        ("2.bias", &A_G_2_BIAS),
        ("4.weight", &A_G_4_WEIGHT),
        ("4.bias", &A_G_4_BIAS),
    ] {
        check(&g, n, d);
    }
}

#[test]
fn case_b_prelu_elu_gelu_softplus_silu_sigmoid_bce() {
    nn::network! {
        struct B {
            input: 3, dense(6), prelu, dense(6), elu, dense(5), gelu,
            dense(4), softplus, dense(4), silu, dense(2), sigmoid,
        }
    }
    let mut net = B::<f64>::zeros();
    let params: [(&str, &[f64]); 12] = [
        ("0.weight", &B_P_0_WEIGHT),
        ("0.bias", &B_P_0_BIAS),
        ("1.weight", &B_P_1_WEIGHT),
        ("2.weight", &B_P_2_WEIGHT),
        ("2.bias", &B_P_2_BIAS),
        ("4.weight", &B_P_4_WEIGHT),
        ("4.bias", &B_P_4_BIAS),
        ("6.weight", &B_P_6_WEIGHT),
        ("6.bias", &B_P_6_BIAS),
        ("8.weight", &B_P_8_WEIGHT),
        ("8.bias", &B_P_8_BIAS),
        ("10.weight", &B_P_10_WEIGHT),
    ];
    for (n, d) in params {
        set(&mut net, n, d);
    }
    set(&mut net, "10.bias", &B_P_10_BIAS);
    let x = SMatrix::<f64, 3, 4>::from_column_slice(&B_X);
    let y = SMatrix::<f64, 2, 4>::from_column_slice(&B_Y);
    all_close(net.forward_batch(&x).as_slice(), &B_OUT, "output");
    let mut g = B::<f64>::zero_gradients();
    let (loss, gx) = net.accumulate_gradients_with_input(&x, &y, &BinaryCrossEntropy, &mut g);
    close(loss, B_LOSS[0], "loss");
    all_close(gx.as_slice(), &B_GX, "input gradient");
    let grads: [(&str, &[f64]); 13] = [
        ("0.weight", &B_G_0_WEIGHT),
        ("0.bias", &B_G_0_BIAS),
        ("1.weight", &B_G_1_WEIGHT),
        ("2.weight", &B_G_2_WEIGHT),
        ("2.bias", &B_G_2_BIAS),
        ("4.weight", &B_G_4_WEIGHT),
        ("4.bias", &B_G_4_BIAS),
        ("6.weight", &B_G_6_WEIGHT),
        ("6.bias", &B_G_6_BIAS),
        ("8.weight", &B_G_8_WEIGHT),
        ("8.bias", &B_G_8_BIAS),
        ("10.weight", &B_G_10_WEIGHT),
        ("10.bias", &B_G_10_BIAS),
    ];
    for (n, d) in grads {
        check(&g, n, d);
    }
}

nn::network! { struct C { input: 3, dense(4), relu, dense(4), sigmoid, dense(2, bias = false) } }

fn run_c<L: Loss<f64>>(
    loss_fn: &L,
    p: [&[f64]; 5],
    x: &[f64],
    y: &[f64],
) -> (
    C<f64>,
    f64,
    SMatrix<f64, 3, 4>,
    CGradients<f64>,
    SMatrix<f64, 2, 4>,
) {
    let mut net = C::<f64>::zeros();
    for (n, d) in ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight"]
        .into_iter()
        .zip(p)
    {
        set(&mut net, n, d);
    }
    let x = SMatrix::<f64, 3, 4>::from_column_slice(x);
    let y = SMatrix::<f64, 2, 4>::from_column_slice(y);
    let mut g = C::<f64>::zero_gradients();
    let (loss, gx) = net.accumulate_gradients_with_input(&x, &y, loss_fn, &mut g);
    let out = net.forward_batch(&x);
    (net, loss, gx, g, out)
}

#[test]
fn case_c_relu_sigmoid_no_bias_mse() {
    let (_, loss, gx, g, out) = run_c(
        &Mse,
        [
            &C_P_0_WEIGHT,
            &C_P_0_BIAS,
            &C_P_2_WEIGHT,
            &C_P_2_BIAS,
            &C_P_4_WEIGHT,
        ],
        &C_X,
        &C_Y,
    );
    all_close(out.as_slice(), &C_OUT, "output");
    close(loss, C_LOSS[0], "loss");
    all_close(gx.as_slice(), &C_GX, "input gradient");
    for (n, d) in [
        ("0.weight", &C_G_0_WEIGHT[..]),
        ("0.bias", &C_G_0_BIAS),
        ("2.weight", &C_G_2_WEIGHT),
        ("2.bias", &C_G_2_BIAS),
        ("4.weight", &C_G_4_WEIGHT),
    ] {
        check(&g, n, d);
    }
}

#[test]
fn case_d_mae() {
    let (_, loss, gx, g, out) = run_c(
        &Mae,
        [
            &D_P_0_WEIGHT,
            &D_P_0_BIAS,
            &D_P_2_WEIGHT,
            &D_P_2_BIAS,
            &D_P_4_WEIGHT,
        ],
        &D_X,
        &D_Y,
    );
    all_close(out.as_slice(), &D_OUT, "output");
    close(loss, D_LOSS[0], "loss");
    all_close(gx.as_slice(), &D_GX, "input gradient");
    for (n, d) in [
        ("0.weight", &D_G_0_WEIGHT[..]),
        ("0.bias", &D_G_0_BIAS),
        ("2.weight", &D_G_2_WEIGHT),
        ("2.bias", &D_G_2_BIAS),
        ("4.weight", &D_G_4_WEIGHT),
    ] {
        check(&g, n, d);
    }
}
