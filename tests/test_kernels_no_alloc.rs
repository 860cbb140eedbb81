//! The dense-layer kernels and the vectorised activations never allocate: the SIMD path
//! this machine selects and the small static path, in f32 and f64, counted by a
//! global allocator.

use nn::kernels::{
    bias_grad, bias_grad_scaled, dense_forward, dense_forward_act, dense_forward_relu,
    dense_input_grad, dense_input_grad_relu, dense_weight_grad, dense_weight_grad_scaled,
};
use nn::nalgebra::{SMatrix, SVector};
use nn::Scalar;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn run<T: Scalar, const O: usize, const I: usize, const B: usize>() {
    let w = Box::new(SMatrix::<T, O, I>::from_element(<T as Scalar>::from_f64(
        0.25,
    )));
    let x = Box::new(SMatrix::<T, I, B>::from_element(<T as Scalar>::from_f64(
        -0.5,
    )));
    let b = Box::new(SVector::<T, O>::from_element(<T as Scalar>::from_f64(
        0.125,
    )));
    let dy = Box::new(SMatrix::<T, O, B>::from_element(<T as Scalar>::from_f64(
        0.75,
    )));
    let mut y = Box::new(SMatrix::<T, O, B>::zeros());
    let mut dx = Box::new(SMatrix::<T, I, B>::zeros());
    let mut dw = Box::new(SMatrix::<T, O, I>::zeros());
    let mut db = Box::new(SVector::<T, O>::zeros());
    // Warm up once (run-time feature detection caches its result without allocating,
    // but count only the second round to be safe).
    for round in 0..2 {
        let before = ALLOCS.load(Ordering::Relaxed);
        dense_forward(&w, Some(&b), &x, &mut y);
        dense_forward_relu(&w, Some(&b), &x, &mut y);
        dense_forward_act(&w, None, &x, &nn::activation::Tanh, &mut y);
        dense_forward_act(&w, None, &x, &nn::activation::Sigmoid, &mut y);
        nn::activation::softmax_forward(&mut *y);
        dense_input_grad(&w, &dy, &mut dx);
        dense_input_grad_relu(&w, &dy, &x, &mut dx);
        dense_weight_grad(&dy, &x, &mut dw);
        bias_grad(&dy, &mut db);
        // The fused SGD update's forms: scaled, overwriting and accumulating.
        let lr = <T as Scalar>::from_f64(-0.01);
        dense_weight_grad_scaled(&dy, &x, &mut dw, lr, true);
        dense_weight_grad_scaled(&dy, &x, &mut dw, lr, false);
        bias_grad_scaled(&dy, &mut db, lr, false);
        let n = ALLOCS.load(Ordering::Relaxed) - before;
        if round == 1 {
            assert_eq!(n, 0, "{O}x{I} batch {B}: {n} allocations");
        }
    }
    assert!(y.iter().all(|v| v.is_finite()));
}

#[test]
fn kernels_do_not_allocate() {
    // The counter is global: keep this the only test in this binary.
    run::<f32, 3, 2, 1>();
    run::<f64, 3, 2, 1>();
    run::<f32, 64, 64, 1>();
    run::<f64, 64, 64, 1>();
    run::<f32, 33, 17, 3>();
    // One-sample paths: the small product with 8 partial sums (the 2-50-4 output layer),
    // the short softmax of 10, the register-resident weight gradient of a 16x784 layer.
    run::<f32, 4, 50, 1>();
    run::<f32, 10, 16, 1>();
    run::<f32, 16, 784, 1>();
    run::<f64, 16, 784, 2>();
    run::<f32, 130, 70, 33>();
    run::<f64, 130, 70, 33>();
    run::<f32, 10, 256, 64>();
    // The batched input gradient through its transposed panels, in one and in two blocks
    // of outputs; a layer narrower than a vector at batch 32.
    run::<f32, 128, 96, 32>();
    run::<f64, 300, 40, 20>();
    run::<f32, 10, 128, 32>();
}
