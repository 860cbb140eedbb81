//! The hot path allocates nothing: forward, forward_batch, forward_tape, backward,
//! accumulate_gradients, loss_and_gradients and loss_and_gradients_into, counted through
//! a global allocator.

use nn::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

nn::network! {
    struct Net {
        input: 8,
        dense(16), relu,
        dense(16), prelu,
        dense(12, bias = false), gelu,
        dense(4), softmax,
    }
}

nn::network! { struct Bin { input: 4, dense(8), tanh, dense(1), sigmoid } }

#[test]
fn hot_path_does_not_allocate() {
    let mut net = Net::<f32>::seeded(1);
    let mut grads = Net::<f32>::zero_gradients();
    let x = SMatrix::<f32, 8, 32>::from_fn(|i, j| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5);
    let y = nn::loss::one_hot_batch::<f32, 4, 32>(&std::array::from_fn(|j| j % 4)).unwrap();
    let x1 = SVector::<f32, 8>::from_fn(|i, _| i as f32 / 8.0);
    // Warm up anything lazily initialised by the test harness.
    let _ = net.forward(&x1);
    let n = allocations_in(|| {
        let p = net.forward(&x1);
        let b = net.forward_batch(&x);
        let tape = net.forward_tape(&x);
        let dx = net.backward(&tape, &b, &mut grads);
        net.backward_params(&tape, &b, &mut grads);
        let l1 = net.accumulate_gradients(&x, &y, &CrossEntropy, &mut grads);
        let (l2, g2) = net.loss_and_gradients(&x, &y, &CrossEntropy);
        let l3 = net.loss_and_gradients_into(&x, &y, &Mse, &mut grads);
        let (l4, dx2) = net.accumulate_gradients_with_input(&x, &y, &CrossEntropy, &mut grads);
        let l5 = net.loss(&x, &y, &CrossEntropy);
        std::hint::black_box((p, dx, l1, l2, g2, l3, l4, dx2, l5));
    });
    assert_eq!(n, 0, "the hot path allocated {n} times");

    let mut bin = Bin::<f64>::seeded(2);
    let mut g = Bin::<f64>::zero_gradients();
    let xb = SMatrix::<f64, 4, 5>::from_element(0.3);
    let yb = SMatrix::<f64, 1, 5>::from_element(1.0);
    let n = allocations_in(|| {
        let l = bin.accumulate_gradients(&xb, &yb, &BinaryCrossEntropy, &mut g);
        std::hint::black_box(l);
    });
    assert_eq!(n, 0);
}

#[test]
fn the_counter_counts() {
    // The test above could not fail if the counter were broken.
    let n = allocations_in(|| {
        std::hint::black_box(Net::<f32>::boxed_zeros());
    });
    assert_eq!(n, 1);
}

#[test]
fn training_steps_do_not_allocate() {
    // The trainer allocates its buffers once: the count does not grow with the number of
    // steps (10 vs 40 steps an epoch, 1 vs 3 epochs), for every optimizer family.
    let make = |n: usize| {
        let xs: Vec<SVector<f32, 8>> = (0..n)
            .map(|i| SVector::<f32, 8>::from_fn(|r, _| ((r + i) % 5) as f32 / 5.0))
            .collect();
        let labels: Vec<usize> = (0..n).map(|i| i % 4).collect();
        Dataset::from_classes(xs, &labels).unwrap()
    };
    let (small, large) = (make(40), make(160));
    fn count<O: Optimizer<Net<f32>>>(data: &Dataset<f32, 8, 4>, epochs: usize, opt: O) -> usize {
        let mut net = Net::<f32>::seeded(1);
        let mut trainer = Trainer::new(data, CrossEntropy, opt)
            .batch_size::<4>()
            .epochs(epochs)
            .progress(false);
        allocations_in(|| {
            trainer.fit(&mut net).unwrap();
        })
    }
    for epochs in [1, 3] {
        assert_eq!(
            count(&small, epochs, Sgd::new(0.1).momentum(0.9)),
            count(&large, epochs, Sgd::new(0.1).momentum(0.9))
        );
        assert_eq!(
            count(&small, epochs, Adam::new(1e-3)),
            count(&large, epochs, Adam::new(1e-3))
        );
    }
    assert_eq!(
        count(&small, 1, RmsProp::new(1e-3)),
        count(&small, 3, RmsProp::new(1e-3))
    );
}

nn::network! {
    /// Every layer kind beyond the MLP: layer normalisation and dropout (which draws its
    /// masks in training).
    struct Kinds { input: 6, dense(8), layer_norm, relu, dropout(0.3), dense(4), prelu, dense(3), softmax }
}

#[test]
fn every_layer_kind_runs_without_allocating() {
    let mut net = Kinds::<f32>::seeded(2);
    let x = SMatrix::<f32, 6, 16>::from_fn(|r, c| (r as f32 - c as f32) * 0.1);
    let y = SMatrix::<f32, 3, 16>::from_fn(|r, c| if c % 3 == r { 1.0 } else { 0.0 });
    let mut g = Kinds::<f32>::zero_gradients();
    let n = allocations_in(|| {
        let _ = net.forward_batch(&x);
        let tape = net.forward_tape(&x);
        let _ = net.backward(&tape, &y, &mut g);
        net.update_buffers(&tape);
        let _ = net.loss_and_gradients_into(&x, &y, &CrossEntropy, &mut g);
        let _ = net.accumulate_gradients(&x, &y, &CrossEntropy, &mut g);
        let _ = net.training_loss(&x, &y, &CrossEntropy);
        let _ = net.loss(&x, &y, &CrossEntropy);
        let _ = net.sgd_step(&x, &y, &CrossEntropy, 0.01);
    });
    assert_eq!(n, 0, "{n} allocations");
}
