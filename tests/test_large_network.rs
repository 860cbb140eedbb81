//! A network of 1.86 million parameters (784-1024-1024-10) is created, run,
//! differentiated and saved from a thread with the default 2 MiB stack, in debug and
//! release builds: nothing of its size ever lives on the stack.

use nn::prelude::*;

nn::network! {
    /// 784-1024-1024-10: 1,863,690 parameters, 7.5 MB in f32.
    pub struct Big {
        input: 784,
        dense(1024), relu,
        dense(1024), relu,
        dense(10), softmax,
    }
}

const STACK: usize = 2 * 1024 * 1024;

fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread panicked or overflowed its stack");
}

#[test]
fn big_network_on_a_2mib_stack() {
    const { assert!(Big::<f32>::PARAMS >= 1_500_000) };
    assert!(
        std::mem::size_of::<Big<f32>>() > STACK,
        "the network alone is larger than the stack"
    );
    on_small_stack(|| {
        let mut net = Big::<f32>::boxed_seeded(3);
        let x = SMatrix::<f32, 784, 4>::from_fn(|i, j| ((i + 3 * j) % 17) as f32 / 17.0);
        let y = nn::loss::one_hot_batch::<f32, 10, 4>(&[1, 3, 5, 7]).unwrap();
        let p = net.forward_batch(&x);
        for c in 0..4 {
            assert!((p.column(c).sum() - 1.0).abs() < 1e-5);
        }
        let mut grads = Big::<f32>::boxed_zero_gradients();
        // Every weight matrix, of the network and of its gradients, starts on a cache line.
        for w in [
            net.layer0.weight.as_ptr(),
            net.layer2.weight.as_ptr(),
            net.layer4.weight.as_ptr(),
            grads.layer0.weight.as_ptr(),
            grads.layer4.weight.as_ptr(),
        ] {
            assert_eq!(w as usize % 64, 0);
        }
        let loss = net.loss_and_gradients_into(&x, &y, &CrossEntropy, &mut grads);
        assert!(loss.is_finite() && loss > 0.0);
        assert!(grads.norm() > 0.0);
        // A gradient-descent step through the Parameters trait, in place.
        net.add_scaled_gradients(&grads, -0.1);
        assert!(net.loss(&x, &y, &CrossEntropy) < loss);
        let mut copy = Big::<f32>::boxed_zeros();
        copy.copy_from(&net);
        assert_eq!(copy.layer4.bias, net.layer4.bias);
    });
}

#[test]
fn big_network_saves_and_loads_on_a_2mib_stack() {
    on_small_stack(|| {
        let net = Big::<f32>::boxed_seeded(5);
        let dir = std::env::temp_dir().join(format!("nn-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.safetensors");
        net.save_safetensors(&path).unwrap();
        let back = Big::<f32>::boxed_from_safetensors(&path).unwrap();
        assert_eq!(back.layer2.weight, net.layer2.weight);
        let grads = Big::<f32>::boxed_zero_gradients();
        grads
            .save_safetensors(dir.join("grads.safetensors"))
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

// What does not hold yet: per-batch activations (and the tape `forward_tape` returns by
// value) are stack locals, `B × width × size_of::<T>()` bytes each (256 KiB for a
// 1024-wide layer at batch 32 in f64), and a debug build keeps several copies. At batch
// 32 these overflow a 2 MiB thread, as measured when issue 22 was filed. The workspace
// type of the layer-protocol issue (issue 25) moves the activations to the heap and
// un-ignores these tests; until then they are run by hand with `--ignored`, and each
// aborts the whole test process when it overflows.

/// 512-2048-2048-10: 5.3 million parameters, wider layers than `Big`.
mod wide {
    nn::network! {
        pub struct Wide {
            input: 512,
            dense(2048), relu,
            dense(2048), relu,
            dense(10), softmax,
        }
    }
}
use wide::Wide;

const BATCH: usize = 32;

fn batch<T: Scalar, const IN: usize>() -> (Box<SMatrix<T, IN, BATCH>>, Box<SMatrix<T, 10, BATCH>>) {
    let mut x = nn::params::boxed_zero_matrix::<T, IN, BATCH>();
    for (i, v) in x.iter_mut().enumerate() {
        *v = <T as Scalar>::from_f64((i % 17) as f64 / 17.0);
    }
    let mut y = nn::params::boxed_zero_matrix::<T, 10, BATCH>();
    for c in 0..BATCH {
        y[(c % 10, c)] = <T as Scalar>::from_f64(1.0);
    }
    (x, y)
}

#[test]
#[ignore = "overflows a 2 MiB stack in debug: activations are stack locals until issue 25's workspace"]
fn big_f64_forward_batch_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let net = Big::<f64>::boxed_seeded(3);
        let (x, _) = batch::<f64, 784>();
        let p = net.forward_batch(&*x);
        assert!((p.column(0).sum() - 1.0).abs() < 1e-9);
    });
}

#[test]
#[ignore = "overflows a 2 MiB stack in debug: activations are stack locals until issue 25's workspace"]
fn big_f64_loss_and_gradients_into_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let mut net = Big::<f64>::boxed_seeded(3);
        let mut grads = Big::<f64>::boxed_zero_gradients();
        let (x, y) = batch::<f64, 784>();
        let loss = net.loss_and_gradients_into(&*x, &*y, &CrossEntropy, &mut grads);
        assert!(loss.is_finite());
    });
}

#[test]
#[ignore = "overflows a 2 MiB stack in debug: activations are stack locals until issue 25's workspace"]
fn big_f64_sgd_step_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let mut net = Big::<f64>::boxed_seeded(3);
        let (x, y) = batch::<f64, 784>();
        assert!(net.sgd_step(&*x, &*y, &CrossEntropy, 0.01).is_finite());
    });
}

#[test]
#[ignore = "overflows a 2 MiB stack in debug: activations are stack locals until issue 25's workspace"]
fn big_f64_adam_step_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let mut net = Big::<f64>::boxed_seeded(3);
        let mut grads = Big::<f64>::boxed_zero_gradients();
        let mut opt = Adam::new(1e-3);
        let (x, y) = batch::<f64, 784>();
        net.loss_and_gradients_into(&*x, &*y, &CrossEntropy, &mut grads);
        opt.step(&mut *net, &*grads);
        assert!(net.is_finite());
    });
}

fn digits_like<T: Scalar, const IN: usize>(n: usize) -> Dataset<T, IN, 10> {
    let inputs = (0..n)
        .map(|i| {
            SVector::<T, IN>::from_fn(|r, _| <T as Scalar>::from_f64(((r + i) % 13) as f64 / 13.0))
        })
        .collect();
    Dataset::from_classes(inputs, &(0..n).map(|i| i % 10).collect::<Vec<_>>()).unwrap()
}

#[test]
#[ignore = "overflows a 2 MiB stack in debug: activations are stack locals until issue 25's workspace"]
fn big_f64_trainer_fit_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let data = digits_like::<f64, 784>(40);
        let mut net = Big::<f64>::boxed_seeded(3);
        Trainer::new(&data, CrossEntropy, Adam::new(1e-3))
            .batch_size::<BATCH>()
            .progress(false)
            .fit(&mut *net)
            .unwrap();
    });
}

#[test]
#[ignore = "overflows a 2 MiB stack in debug: activations are stack locals until issue 25's workspace"]
fn big_f64_evaluate_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let data = digits_like::<f64, 784>(40);
        let net = Big::<f64>::boxed_seeded(3);
        let e = nn::train::evaluate::<_, _, 784, 10, BATCH>(&*net, &data, &CrossEntropy);
        assert!(e.loss.is_finite());
    });
}

#[test]
#[ignore = "overflows a 2 MiB stack (f32 debug, f64 release): activations are stack locals until issue 25's workspace"]
fn wide_f32_training_step_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let mut net = Wide::<f32>::boxed_seeded(3);
        let mut grads = Wide::<f32>::boxed_zero_gradients();
        let (x, y) = batch::<f32, 512>();
        assert!(net.forward_batch(&*x)[(0, 0)].is_finite());
        net.loss_and_gradients_into(&*x, &*y, &CrossEntropy, &mut grads);
        assert!(net.sgd_step(&*x, &*y, &CrossEntropy, 0.01).is_finite());
    });
}

#[test]
#[ignore = "overflows a 2 MiB stack (f64, debug and release): activations are stack locals until issue 25's workspace"]
fn wide_f64_training_step_32_on_a_2mib_stack() {
    on_small_stack(|| {
        let mut net = Wide::<f64>::boxed_seeded(3);
        let mut grads = Wide::<f64>::boxed_zero_gradients();
        let (x, y) = batch::<f64, 512>();
        assert!(net.forward_batch(&*x)[(0, 0)].is_finite());
        net.loss_and_gradients_into(&*x, &*y, &CrossEntropy, &mut grads);
        assert!(net.sgd_step(&*x, &*y, &CrossEntropy, 0.01).is_finite());
    });
}
