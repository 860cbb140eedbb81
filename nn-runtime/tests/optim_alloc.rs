//! `Optimizer::step` never touches the heap: a counting global allocator sees no
//! allocation (nor reallocation or free) during steps of every optimizer and option, on a
//! hand-written parameter set and on a generated network.

mod common;

use common::Toy;
use nn_runtime::optim::{
    clip_grad_norm, clip_grad_value, AdaBound, Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd,
};
use nn_runtime::{Parameters, Trainable};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread, so that the test harness's other threads are not counted.
    static HEAP_CALLS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: during thread teardown the slot may be gone; those calls are not ours.
    let _ = HEAP_CALLS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the only addition is a thread-local counter update,
// which neither allocates (const-initialised `Cell`) nor touches the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count();
        // SAFETY: `ptr` was returned by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn heap_calls() -> usize {
    HEAP_CALLS.with(|c| c.get())
}

/// Steps `opt` 5 times on boxed `net`/`grads` and returns the heap calls made meanwhile.
fn heap_calls_during_steps<N: Trainable, O: Optimizer<N>>(
    opt: &mut O,
    net: &mut N,
    grads: &mut N::Gradients,
) -> usize {
    let before = heap_calls();
    for _ in 0..5 {
        opt.step(net, grads);
        clip_grad_norm(grads, 1.0);
        clip_grad_value(grads, 0.5);
    }
    heap_calls() - before
}

fn assert_no_heap<N: Trainable, O: Optimizer<N>>(name: &str, mut opt: O, init: impl Fn(&mut N)) {
    let mut net = <N as nn_runtime::params::ZeroableParameters>::boxed_zeroed();
    init(&mut net);
    let mut grads = <N::Gradients as nn_runtime::params::ZeroableParameters>::boxed_zeroed();
    grads.fill(<N::Scalar as nn_runtime::Scalar>::from_f64(0.25));
    let calls = heap_calls_during_steps(&mut opt, &mut *net, &mut *grads);
    assert_eq!(calls, 0, "{name}: {calls} heap calls during step");
    assert!(net.is_finite());
}

fn all_optimizers<N: Trainable>(init: impl Fn(&mut N) + Copy) {
    assert_no_heap("sgd", Sgd::<N>::new(0.1), init);
    assert_no_heap(
        "sgd nesterov",
        Sgd::<N>::new(0.1)
            .momentum(0.9)
            .nesterov(true)
            .weight_decay(0.1),
        init,
    );
    assert_no_heap(
        "sgd dampening",
        Sgd::<N>::new(0.1).momentum(0.9).dampening(0.5),
        init,
    );
    assert_no_heap(
        "adagrad",
        Adagrad::<N>::new(0.1)
            .lr_decay(0.1)
            .weight_decay(0.1)
            .decay_biases(true),
        init,
    );
    assert_no_heap(
        "rmsprop",
        RmsProp::<N>::new(0.01)
            .momentum(0.5)
            .centered(true)
            .weight_decay(0.1),
        init,
    );
    assert_no_heap(
        "adam",
        Adam::<N>::new(0.01).amsgrad(true).weight_decay(0.1),
        init,
    );
    assert_no_heap("adamw", AdamW::<N>::new(0.01).amsgrad(true), init);
    assert_no_heap(
        "adabound",
        AdaBound::<N>::new(0.01).amsbound(true).weight_decay(0.1),
        init,
    );
}

nn_runtime::network! {
    /// A network with a few thousand parameters.
    pub struct Mlp { input: 16, dense(64), relu, dense(32), tanh, dense(4), softmax }
}

#[test]
fn steps_never_touch_the_heap() {
    // The counter works (sanity check), in this thread.
    let before = heap_calls();
    let v = std::hint::black_box(vec![1u8; 16]);
    drop(v);
    assert!(heap_calls() - before >= 2);

    all_optimizers::<Toy<f64>>(|n| n.fill(0.5));
    all_optimizers::<Toy<f32>>(|n| n.fill(0.5));
    all_optimizers::<Mlp<f32>>(|n| n.fill(0.01));
    all_optimizers::<Mlp<f64>>(|n| n.fill(0.01));
}
